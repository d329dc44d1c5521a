// A line chart of a group's total lag over time, drawn in SVG.

/** One sample of a group's total lag. */
export interface LagPoint {
  /** ms since the epoch */
  time: number;
  lag: number;
}

const W = 600;
const H = 160;
const PAD = { left: 48, right: 8, top: 8, bottom: 20 };

/** The chart; with fewer than two samples, a note instead. */
export function LagChart({ points }: { points: readonly LagPoint[] }) {
  if (points.length < 2)
    return (
      <p class="muted" data-testid="lag-chart-empty">
        Collecting samples (every 2 s while this page is open)…
      </p>
    );
  const t0 = points[0]!.time;
  const t1 = points[points.length - 1]!.time;
  const max = Math.max(1, ...points.map((p) => p.lag));
  const x = (t: number) => PAD.left + ((t - t0) / Math.max(1, t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (lag: number) => PAD.top + (1 - lag / max) * (H - PAD.top - PAD.bottom);
  const path = points.map((p) => `${x(p.time).toFixed(1)},${y(p.lag).toFixed(1)}`).join(" ");
  return (
    <svg class="chart" data-testid="lag-chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`total lag, last ${points.length} samples`}>
      <line x1={PAD.left} y1={y(0)} x2={W - PAD.right} y2={y(0)} class="axis" />
      <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={y(0)} class="axis" />
      <text x={PAD.left - 4} y={PAD.top + 10} text-anchor="end">
        {max}
      </text>
      <text x={PAD.left - 4} y={y(0)} text-anchor="end">
        0
      </text>
      <text x={W - PAD.right} y={H - 4} text-anchor="end">
        last {Math.round((t1 - t0) / 1000)} s
      </text>
      <polyline points={path} class="line" />
    </svg>
  );
}
