import type { Requester, RetryPolicy } from "./http.js";
import { segment } from "./http.js";
import type { ClientClock } from "./clock.js";
import type { CommitScheduler } from "./commit-scheduler.js";
import { partitionKey } from "./partition-key.js";
import type { PartitionState } from "./partition-state.js";
import type { PartitionTable } from "./partition-table.js";
import { backoffMs, sleep } from "./sleep.js";
import type { TopicDescription, TopicPartitionOffset } from "./types.js";
import type { WireGroupDescription } from "./wire.js";

/** What {@link OffsetManager} works with. */
export interface OffsetManagerOptions {
  http: Requester;
  retry: RetryPolicy;
  /** Drives the backoff between attempts. */
  clock: ClientClock;
  /** `v1/groups/<groupId>` */
  groupPath: string;
  table: PartitionTable;
  commits: CommitScheduler;
  /** Where the group starts in a partition of `topic` it never committed: its log start (true) or its end. */
  fromBeginning(topic: string): boolean;
  /** Aborts retries when the consumer stops. */
  stop: AbortSignal;
  /** Whether the consumer is stopping (nothing more to set up). */
  stopping(): boolean;
  /** Tells the fetch loop that partitions became deliverable. */
  wakeUp(): void;
}

/**
 * Sets the positions of a consumer's partitions: where the group stands in newly assigned ones (its
 * committed offset, else the log start or end), and clamped back into the log when a fetch finds a
 * position outside it. Internal.
 */
export class OffsetManager {
  readonly #o: OffsetManagerOptions;

  constructor(options: OffsetManagerOptions) {
    this.#o = options;
  }

  /** Learns where the group stands in newly assigned partitions, sets their positions and activates them. */
  async initialize(states: readonly PartitionState[]): Promise<void> {
    const { http, table, retry, stop } = this.#o;
    for (let attempt = 1; ; attempt++) {
      const current = states.filter((s) => table.isCurrent(s) && s.phase === "initializing");
      if (current.length === 0 || this.#o.stopping()) return;
      try {
        const description = await http.request<WireGroupDescription>("GET", this.#o.groupPath, { retry: "idempotent", signal: stop });
        const known = new Map(description.offsets.map((o) => [partitionKey(o.topic, o.partition), o]));
        const toCommit: TopicPartitionOffset[] = [];
        for (const s of current) {
          let lag = known.get(s.key);
          if (lag === undefined) {
            // Not in the group's view (a race with a topic change): read the partition's bounds directly.
            const topic = await http.request<TopicDescription>("GET", `v1/topics/${segment(s.topic)}`, { retry: "idempotent", signal: stop });
            const p = topic.partitions[s.partition];
            if (p === undefined) continue;
            lag = {
              topic: s.topic,
              partition: s.partition,
              committedOffset: null,
              logStartOffset: p.logStartOffset,
              highWatermark: p.highWatermark,
              lag: p.highWatermark - p.logStartOffset,
            };
          }
          if (lag.committedOffset !== null) {
            s.position = s.committed = lag.committedOffset;
          } else if (this.#o.fromBeginning(s.topic)) {
            // Nothing committed: the broker's group fetch starts at the log start too.
            s.position = s.committed = lag.logStartOffset;
          } else {
            s.position = lag.highWatermark;
            toCommit.push({ topic: s.topic, partition: s.partition, offset: lag.highWatermark });
          }
        }
        if (toCommit.length > 0) {
          try {
            await this.#o.commits.offsets(toCommit);
          } catch {
            // The positions are set (fetches name them); a later commit records them.
          }
        }
        for (const s of current) {
          if (!table.isCurrent(s) || s.phase !== "initializing") continue;
          const seek = table.takePendingSeek(s.key);
          if (seek !== undefined) s.position = seek;
          s.activate();
        }
        this.#o.wakeUp();
        return;
      } catch {
        if (this.#o.stopping()) return;
        await sleep(this.#o.clock, backoffMs(attempt, retry.initialRetryTimeMs, retry.maxRetryTimeMs), stop);
      }
    }
  }

  /** The position fell outside the log (retention moved its start, or a seek went too far): clamp it. */
  async resetPosition(state: PartitionState): Promise<void> {
    const topic = await this.#o.http.request<TopicDescription>("GET", `v1/topics/${segment(state.topic)}`, { retry: "idempotent" });
    const p = topic.partitions[state.partition];
    if (p === undefined || state.position === undefined) return;
    const clamped = Math.min(Math.max(state.position, p.logStartOffset), p.highWatermark);
    if (clamped !== state.position) state.seek(clamped);
  }
}
