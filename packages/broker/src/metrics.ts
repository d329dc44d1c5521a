import type { LogStoreMetrics } from "@minikafka/log-store";

/** One consumer-group partition's lag, for `/metrics`. */
export interface LagSample {
  group: string;
  topic: string;
  partition: number;
  lag: number;
}

/** What `/metrics` reports besides the broker's own counters. */
export interface MetricsSnapshot {
  store: Readonly<LogStoreMetrics>;
  groups: ReadonlyArray<{ groupId: string; groupEpoch: number; memberCount: number }>;
  lag: ReadonlyArray<LagSample>;
  /** Bytes of every partition's log segments (the sum of the topic descriptions' `sizeBytes`). */
  logSizeBytes: number;
  /** Long polls waiting and SSE streams open now (all principals; each principal's are bounded by `quotas`). */
  holds: Readonly<{ longPoll: number; sse: number }>;
}

/**
 * The broker's own counters (HTTP requests by route and status, record bytes served) and the Prometheus
 * text rendering of everything `/metrics` reports.
 */
export class BrokerMetrics {
  readonly #requests = new Map<string, number>();
  /** topic NUL partition → CORRUPT_RECORD errors met by reads. */
  readonly #corrupt = new Map<string, number>();
  /** topic NUL partition NUL segment file already logged. */
  readonly #corruptLogged = new Set<string>();
  /** Key and value bytes of records handed to consumers. */
  recordBytesOut = 0;
  /** Requests being handled right now (long polls included). */
  inFlight = 0;
  /** Open client connections, where a transport counts them (the Node server does); else not reported. */
  connections: number | undefined = undefined;

  /** Counts one answered request. `route` is the route pattern (`/v1/topics/:topic`), never the raw path. */
  countRequest(method: string, route: string, status: number): void {
    const key = `${method}\u0000${route}\u0000${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
  }

  /**
   * Counts one `CORRUPT_RECORD` error met by a read. Its place comes from the log-store's message
   * (`topic "t" partition 3: corrupt batch in <segment file> at byte …`); unknown parts are `""`.
   * Returns true the first time this partition and segment are counted (the caller logs it then only).
   */
  countCorruptRecord(message: string): boolean {
    const place = /^topic "((?:[^"\\]|\\.)*)" partition (\d+)/.exec(message);
    const topic = place === null ? "" : place[1]!;
    const partition = place === null ? "" : place[2]!;
    const segment = / in (\S+) at byte /.exec(message)?.[1] ?? "";
    const key = `${topic}\u0000${partition}`;
    this.#corrupt.set(key, (this.#corrupt.get(key) ?? 0) + 1);
    const logged = `${key}\u0000${segment}`;
    if (this.#corruptLogged.has(logged)) return false;
    this.#corruptLogged.add(logged);
    return true;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(snapshot: MetricsSnapshot): string {
    const out: string[] = [];
    const metric = (name: string, type: "counter" | "gauge", help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    metric("minikafka_http_requests_total", "counter", "HTTP requests answered, by method, route and status.");
    for (const [key, count] of this.#requests) {
      const [method, route, status] = key.split("\u0000") as [string, string, string];
      out.push(`minikafka_http_requests_total${labels({ method, route, status })} ${count}`);
    }
    metric("minikafka_http_requests_in_flight", "gauge", "Requests being handled (long polls included).");
    out.push(`minikafka_http_requests_in_flight ${this.inFlight}`);
    if (this.connections !== undefined) {
      metric("minikafka_connections", "gauge", "Open client connections (TCP).");
      out.push(`minikafka_connections ${this.connections}`);
    }
    metric("minikafka_long_polls_waiting", "gauge", "Long polls waiting for records (fetches, member fetches, stream long-polls).");
    out.push(`minikafka_long_polls_waiting ${snapshot.holds.longPoll}`);
    metric("minikafka_sse_streams_open", "gauge", "SSE streams open (topic and Durable Streams live=sse reads).");
    out.push(`minikafka_sse_streams_open ${snapshot.holds.sse}`);
    metric("minikafka_log_size_bytes", "gauge", "Bytes of log segments on disk, all partitions of all topics.");
    out.push(`minikafka_log_size_bytes ${snapshot.logSizeBytes}`);
    const { store } = snapshot;
    metric("minikafka_records_in_total", "counter", "Records appended to the log.");
    out.push(`minikafka_records_in_total ${store.appendedRecords}`);
    metric("minikafka_records_out_total", "counter", "Records read from the log.");
    out.push(`minikafka_records_out_total ${store.readRecords}`);
    metric("minikafka_bytes_in_total", "counter", "Record batch bytes appended to the log.");
    out.push(`minikafka_bytes_in_total ${store.appendedBytes}`);
    metric("minikafka_bytes_out_total", "counter", "Key and value bytes of records handed to consumers.");
    out.push(`minikafka_bytes_out_total ${this.recordBytesOut}`);
    metric("minikafka_fsyncs_total", "counter", "fsync rounds of partition logs (one round may cover many appends).");
    out.push(`minikafka_fsyncs_total ${store.fsyncs}`);
    metric("minikafka_corrupt_records_total", "counter", "Reads that met a damaged batch (CORRUPT_RECORD), by topic and partition.");
    for (const [key, count] of this.#corrupt) {
      const [topic, partition] = key.split("\u0000") as [string, string];
      out.push(`minikafka_corrupt_records_total${labels({ topic, partition })} ${count}`);
    }
    metric(
      "minikafka_group_rebalances_total",
      "counter",
      "Consumer-group rebalances (group epoch bumps: membership, subscription or partition changes).",
    );
    out.push(`minikafka_group_rebalances_total ${snapshot.groups.reduce((sum, g) => sum + g.groupEpoch, 0)}`);
    metric("minikafka_group_members", "gauge", "Members of each consumer group.");
    for (const g of snapshot.groups) out.push(`minikafka_group_members${labels({ group: g.groupId })} ${g.memberCount}`);
    metric("minikafka_group_lag", "gauge", "Records between a group's committed offset and the high watermark, per partition.");
    for (const s of snapshot.lag) {
      out.push(`minikafka_group_lag${labels({ group: s.group, topic: s.topic, partition: String(s.partition) })} ${s.lag}`);
    }
    out.push("");
    return out.join("\n");
  }
}

function labels(values: Record<string, string>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(values)) parts.push(`${name}="${escapeLabel(value)}"`);
  return `{${parts.join(",")}}`;
}

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
