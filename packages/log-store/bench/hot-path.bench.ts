// What replicated mode (issue 18) costs the hot paths: single-record appends (fsync "never", so that the
// append path's CPU is what is measured) and a sequential read of a whole partition, for
//   - this checkout, a topic that is not replicated (the default);
//   - this checkout, a replicated topic (high watermark set to the durable end after every append);
//   - BASELINE=<path to another checkout's packages/log-store/src/index.ts> (optional): that implementation,
//     e.g. the commit before replicated mode, with its files copied under this package so that it resolves
//     the same dependencies (`@node-rs/crc32`):
//       mkdir -p .bench-baseline && git archive <commit> packages/log-store/src | tar -x -C .bench-baseline
//       BASELINE=$PWD/.bench-baseline/packages/log-store/src/index.ts pnpm bench:hot-path
// All interleaved, ROUNDS rounds, in one run: the per-round ratios to the default are what to compare. Rates
// are per CPU second of this process (user + system), not wall time: other jobs on the machine move wall
// time much more.
//
//   pnpm --filter @minikafka/log-store bench:hot-path     # APPENDS=200000 READ_RECORDS=300000 ROUNDS=5
import * as fs from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import * as current from "@minikafka/log-store";

const baseline = process.env.BASELINE ? ((await import(process.env.BASELINE)) as typeof current) : undefined;
const APPENDS = Number(process.env.APPENDS ?? 200_000);
const READ_RECORDS = Number(process.env.READ_RECORDS ?? 300_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const VALUE = "x".repeat(100);

interface Variant {
  name: string;
  impl: typeof current;
  replicated: boolean;
}
const variants: Variant[] = [
  { name: "default", impl: current, replicated: false },
  { name: "replicated", impl: current, replicated: true },
  ...(baseline ? [{ name: "baseline", impl: baseline, replicated: false }] : []),
];

/** CPU seconds (user + system) of this process since `from`: on a machine shared with other jobs, steadier than wall time. */
function cpuSeconds(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

async function run(v: Variant): Promise<{ appendsPerSec: number; readsPerSec: number }> {
  const dataDir = fs.mkdtempSync(join(tmpdir(), "mk-hot-"));
  try {
    const store = await v.impl.LogStore.open({ dataDir, fsync: "never", retentionCheckIntervalMs: 0 });
    await store.createTopic("t", { partitions: 1, ...(v.replicated ? { config: { replicated: true } } : {}) });
    const records = [{ value: VALUE }];
    let t = process.cpuUsage();
    for (let i = 0; i < APPENDS; i++) {
      const { lastOffset } = await store.append("t", 0, records);
      if (v.replicated) await store.setHighWatermark("t", 0, lastOffset + 1);
    }
    const appendSeconds = cpuSeconds(t);
    // The read: a partition of READ_RECORDS records in batches of 100, read 5000 at a time.
    const batch = Array.from({ length: 100 }, () => ({ value: VALUE }));
    while (store.describeTopic("t").partitions[0]!.logEndOffset < APPENDS + READ_RECORDS) await store.append("t", 0, batch);
    if (v.replicated) await store.setHighWatermark("t", 0, store.describeTopic("t").partitions[0]!.logEndOffset);
    // The fastest of a few passes (one pass is ~0.1 s: a GC or a neighbour's burst would decide it).
    let readSeconds = Infinity;
    let read = 0;
    for (let pass = 0; pass < 3; pass++) {
      t = process.cpuUsage();
      read = 0;
      for (let offset = APPENDS; offset < APPENDS + READ_RECORDS;) {
        const r = await store.read("t", 0, offset, { maxRecords: 5000 });
        read += r.records.length;
        offset = r.nextOffset;
      }
      readSeconds = Math.min(readSeconds, cpuSeconds(t));
    }
    await store.close();
    return { appendsPerSec: APPENDS / appendSeconds, readsPerSec: read / readSeconds };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

// Per round, each variant's rate divided by the default's of the same round; the median over rounds.
const runs = new Map<string, Array<{ appendsPerSec: number; readsPerSec: number }>>();
const loads: string[] = [];
for (let round = 0; round < ROUNDS; round++) {
  loads.push(loadavg()[0]!.toFixed(1));
  for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
    const list = runs.get(v.name) ?? [];
    list.push(await run(v));
    runs.set(v.name, list);
  }
}
loads.push(loadavg()[0]!.toFixed(1));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = runs.get("default")!;
console.log(
  `hot paths, ${ROUNDS} interleaved rounds (load average at each round: ${loads.join(", ")}); medians, ratio to the default of the same round`,
);
for (const v of variants) {
  const list = runs.get(v.name)!;
  const appendRatios = list.map((r, i) => r.appendsPerSec / base[i]!.appendsPerSec);
  const readRatios = list.map((r, i) => r.readsPerSec / base[i]!.readsPerSec);
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  console.log(
    `  ${v.name.padEnd(10)} appends ${Math.round(median(list.map((r) => r.appendsPerSec))).toLocaleString("en")}/CPU s ` +
      `(${median(appendRatios).toFixed(2)}×, rounds ${range(appendRatios)})   reads ${Math.round(median(list.map((r) => r.readsPerSec))).toLocaleString("en")} records/CPU s ` +
      `(${median(readRatios).toFixed(2)}×, rounds ${range(readRatios)})`,
  );
}
