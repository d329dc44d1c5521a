// A history checker for a topic and one consumer group, after Jepsen's queue and Kafka checks: what the
// producers were told, what the log holds at the end, and what the group's consumers were handed and
// committed. `checkHistory` returns every anomaly found (an empty list: the history is clean).
//
// The rules, and why each holds for minikafka (fsync "always", producers without blind resends):
// - lost: a produce that was acknowledged is in the final log, at the offset it was given, with its value.
// - phantom: a produce that definitely failed (no connection, or a refusal that says nothing was stored) is
//   not in the log; nor is any value no producer sent.
// - duplicated: each value is in the log at most once (a producer never sends a value twice unless told
//   nothing was stored).
// - reordered: within a partition, each producer's values appear in the order it sent them.
// - wrong-delivery: a consumer was handed (partition, offset) with the value the log holds there.
// - skipped: a commit of offset c on a partition comes after every offset below c was handed to some consumer
//   of the group (a group never commits past a record nobody got), and at the end every record was handed out.
// - redelivered-after-commit: once a commit of c on a partition was acknowledged, no consumer is handed an
//   offset below c on it (committed offsets never go back, and a partition has one owner at a time).
//
// Times are `Date.now()` readings taken in the processes involved (one machine, one clock).

/** One produce request's records, as one producer saw its fate. */
export interface ProduceAttempt {
  /** Values in send order, each unique across the run. */
  values: string[];
  producer: string;
  partition: number;
  /**
   * `acked`: answered with offsets; `failed`: certainly not stored (connection refused, or an error answer
   * that says nothing was stored); `unknown`: the connection broke after the request went out.
   */
  outcome: "acked" | "failed" | "unknown";
  /** With `acked`: the offset of each value. */
  offsets?: number[];
}

/** A record handed to a consumer's handler. */
export interface Delivery {
  consumer: string;
  partition: number;
  offset: number;
  value: string;
  at: number;
}

/** A commit the broker acknowledged to a consumer: `offset` is the next offset to read. */
export interface Commit {
  consumer: string;
  partition: number;
  offset: number;
  at: number;
}

/** Everything observed in one run. */
export interface History {
  produces: ProduceAttempt[];
  /** The final log: per partition, its records from offset 0 (index = offset). */
  log: string[][];
  deliveries: Delivery[];
  commits: Commit[];
}

/** One violated rule, with enough detail to find it in the run. */
export interface Anomaly {
  kind: "lost" | "phantom" | "duplicated" | "reordered" | "wrong-delivery" | "skipped" | "redelivered-after-commit";
  detail: string;
}

/** Producer and sequence of a value written as `<producer>-<seq>`. */
function parseValue(value: string): { producer: string; seq: number } | undefined {
  const dash = value.lastIndexOf("-");
  const seq = Number(value.slice(dash + 1));
  return dash > 0 && Number.isSafeInteger(seq) ? { producer: value.slice(0, dash), seq } : undefined;
}

/** Checks `history` against every rule above; at most `limit` anomalies of each kind are reported. */
export function checkHistory(history: History, limit = 5): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const counts = new Map<Anomaly["kind"], number>();
  const report = (kind: Anomaly["kind"], detail: string) => {
    const n = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, n);
    if (n <= limit) anomalies.push({ kind, detail });
  };

  // Where each value is in the final log.
  const where = new Map<string, { partition: number; offset: number }>();
  history.log.forEach((records, partition) =>
    records.forEach((value, offset) => {
      const first = where.get(value);
      if (first) report("duplicated", `${value} at ${first.partition}/${first.offset} and ${partition}/${offset}`);
      else where.set(value, { partition, offset });
    }),
  );

  const sent = new Map<string, ProduceAttempt["outcome"]>();
  for (const attempt of history.produces) {
    attempt.values.forEach((value, i) => {
      // A value re-sent after a certain failure is one logical record: its best outcome counts.
      if (sent.get(value) !== "acked") sent.set(value, sent.get(value) === "unknown" && attempt.outcome === "failed" ? "unknown" : attempt.outcome);
      const found = where.get(value);
      if (attempt.outcome === "acked") {
        const offset = attempt.offsets?.[i];
        if (!found) report("lost", `${value}, acknowledged at ${attempt.partition}/${offset}, is not in the log`);
        else if (found.partition !== attempt.partition || found.offset !== offset) {
          report("lost", `${value} was acknowledged at ${attempt.partition}/${offset} but is at ${found.partition}/${found.offset}`);
        }
      }
    });
  }
  for (const [value, at] of where) {
    const outcome = sent.get(value);
    if (outcome === undefined) report("phantom", `${value} at ${at.partition}/${at.offset} was never sent`);
    else if (outcome === "failed") report("phantom", `${value} at ${at.partition}/${at.offset} was refused to its producer`);
  }

  // Per partition and producer, sequence numbers rise with the offset.
  history.log.forEach((records, partition) => {
    const last = new Map<string, { seq: number; offset: number }>();
    records.forEach((value, offset) => {
      const parsed = parseValue(value);
      if (!parsed) return;
      const before = last.get(parsed.producer);
      if (before && parsed.seq <= before.seq)
        report("reordered", `partition ${partition}: ${value} at ${offset} after ${parsed.producer}-${before.seq} at ${before.offset}`);
      last.set(parsed.producer, { seq: parsed.seq, offset });
    });
  });

  // Deliveries match the log; per partition, the time each offset was first handed out.
  const firstDelivered: Array<Map<number, number>> = history.log.map(() => new Map());
  for (const d of history.deliveries) {
    const value = history.log[d.partition]?.[d.offset];
    if (value !== d.value) report("wrong-delivery", `${d.consumer} got ${d.partition}/${d.offset} = ${d.value}, the log has ${value ?? "nothing"}`);
    const map = firstDelivered[d.partition];
    if (map && !(map.get(d.offset)! <= d.at)) map.set(d.offset, d.at);
  }
  // prefixDelivered[p][c]: when every offset below c had been handed out (Infinity: one never was).
  const prefixDelivered = history.log.map((records, partition) => {
    const map = firstDelivered[partition]!;
    const prefix = [0];
    for (let offset = 0; offset < records.length; offset++) {
      const at = map.get(offset);
      if (at === undefined) report("skipped", `partition ${partition}: offset ${offset} was never handed to a consumer`);
      prefix.push(Math.max(prefix[offset]!, at ?? Number.POSITIVE_INFINITY));
    }
    return prefix;
  });
  for (const c of history.commits) {
    const ready = prefixDelivered[c.partition]?.[c.offset];
    if (ready === undefined || ready > c.at) {
      report(
        "skipped",
        `${c.consumer} committed ${c.partition}/${c.offset} at ${c.at}, before every offset below it was handed out (${ready ?? "past the log end"})`,
      );
    }
  }

  // Nothing below an acknowledged commit is handed out after it: per partition, commits by time with the
  // highest offset committed so far, searched for the last commit before each delivery.
  const committed = new Map<number, { at: number[]; high: number[]; by: Commit[] }>();
  for (const c of [...history.commits].sort((a, b) => a.at - b.at)) {
    let entry = committed.get(c.partition);
    if (!entry) committed.set(c.partition, (entry = { at: [], high: [], by: [] }));
    const previous = entry.high.length > 0 ? entry.high[entry.high.length - 1]! : -1;
    entry.at.push(c.at);
    entry.high.push(Math.max(previous, c.offset));
    entry.by.push(c.offset >= previous ? c : entry.by[entry.by.length - 1]!);
  }
  for (const d of history.deliveries) {
    const entry = committed.get(d.partition);
    if (!entry) continue;
    let lo = 0;
    let hi = entry.at.length; // first commit at or after the delivery
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (entry.at[mid]! < d.at) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && d.offset < entry.high[lo - 1]!) {
      const c = entry.by[lo - 1]!;
      report(
        "redelivered-after-commit",
        `${d.consumer} got ${d.partition}/${d.offset} at ${d.at}, after ${c.consumer} committed ${c.offset} at ${c.at}`,
      );
    }
  }
  for (const [kind, n] of counts) if (n > limit) anomalies.push({ kind, detail: `… and ${n - limit} more` });
  return anomalies;
}
