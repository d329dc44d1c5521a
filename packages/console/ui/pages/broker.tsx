// The broker page: rates, counters, connections and storage from /metrics (two samples 2 s apart give
// the rates); topic and partition counts from the topic list.
import { useRef } from "preact/hooks";
import type { Api } from "../api.js";
import { ErrorLine, Loading } from "../components.js";
import { formatBytes, formatRate } from "../format.js";
import { useLoad } from "../hooks.js";
import { parseMetrics, total, type Sample } from "../metrics.js";

const REFRESH_MS = 2000;

interface Snapshot {
  time: number;
  samples: Sample[];
  topics: number;
  partitions: number;
}

/** Broker metrics, refreshed every 2 s. */
export function BrokerPage({ api }: { api: Api }) {
  const previous = useRef<Snapshot | undefined>(undefined);
  const loaded = useLoad(
    async () => {
      const [text, { topics }] = await Promise.all([api.metrics(), api.listTopics()]);
      const now: Snapshot = {
        time: Date.now(),
        samples: parseMetrics(text),
        topics: topics.length,
        partitions: topics.reduce((n, t) => n + t.partitions.length, 0),
      };
      const before = previous.current;
      previous.current = now;
      return { now, before };
    },
    [],
    REFRESH_MS,
  );
  if (loaded.data === undefined)
    return (
      <section>
        <h1>Broker</h1>
        <ErrorLine error={loaded.error} />
        {loaded.error === undefined ? <Loading /> : null}
      </section>
    );
  const { now, before } = loaded.data;
  const value = (name: string) => total(now.samples, name);
  const rate = (name: string) =>
    before === undefined ? "—" : formatRate(((value(name) - total(before.samples, name)) * 1000) / Math.max(1, now.time - before.time));
  const rows: Array<[string, string, string, string]> = [
    ["Produced records", "minikafka_records_in_total", rate("minikafka_records_in_total") + " /s", String(value("minikafka_records_in_total"))],
    ["Produced bytes", "minikafka_bytes_in_total", rate("minikafka_bytes_in_total") + " B/s", formatBytes(value("minikafka_bytes_in_total"))],
    ["Fetched records", "minikafka_records_out_total", rate("minikafka_records_out_total") + " /s", String(value("minikafka_records_out_total"))],
    ["Fetched bytes", "minikafka_bytes_out_total", rate("minikafka_bytes_out_total") + " B/s", formatBytes(value("minikafka_bytes_out_total"))],
    ["fsync rounds", "minikafka_fsyncs_total", rate("minikafka_fsyncs_total") + " /s", String(value("minikafka_fsyncs_total"))],
    ["HTTP requests", "minikafka_http_requests_total", rate("minikafka_http_requests_total") + " /s", String(value("minikafka_http_requests_total"))],
    [
      "Group rebalances",
      "minikafka_group_rebalances_total",
      rate("minikafka_group_rebalances_total") + " /s",
      String(value("minikafka_group_rebalances_total")),
    ],
  ];
  const hasConnections = now.samples.some((s) => s.name === "minikafka_connections");
  return (
    <section>
      <h1>Broker</h1>
      <ErrorLine error={loaded.error} />
      <div class="cards">
        <div class="card">
          <span>Storage</span>
          <b data-testid="storage">{formatBytes(value("minikafka_log_size_bytes"))}</b>
          <small>
            {now.topics} topics, {now.partitions} partitions
          </small>
        </div>
        {hasConnections ? (
          <div class="card">
            <span>Open connections</span>
            <b data-testid="connections">{value("minikafka_connections")}</b>
          </div>
        ) : null}
        <div class="card">
          <span>Requests in flight</span>
          <b data-testid="in-flight">{value("minikafka_http_requests_in_flight")}</b>
          <small>long polls included</small>
        </div>
        <div class="card">
          <span>Group members</span>
          <b>{value("minikafka_group_members")}</b>
        </div>
      </div>
      <table data-testid="metrics-table">
        <thead>
          <tr>
            <th>Counter</th>
            <th>Metric</th>
            <th class="num">Rate</th>
            <th class="num">Total</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, name, r, t]) => (
            <tr key={name} data-metric={name}>
              <td>{label}</td>
              <td class="mono">{name}</td>
              <td class="num">{r}</td>
              <td class="num" data-col="total">
                {t}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">
        From <a href="../metrics">/metrics</a>, every {REFRESH_MS / 1000} s.
      </p>
    </section>
  );
}
