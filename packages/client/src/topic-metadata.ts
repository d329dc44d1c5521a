import type { Clock } from "./clock.js";
import type { Requester } from "./http.js";
import { segment } from "./http.js";
import type { TopicDescription } from "./types.js";

interface Entry {
  count: Promise<number>;
  fetchedAt: number;
}

/**
 * Partition counts of topics, for client-side partitioning: fetched from the broker's topic description
 * once, shared by concurrent callers, refreshed after `maxAgeMs` (so that grown topics are used) or when
 * the caller says the count proved wrong (`UNKNOWN_TOPIC_OR_PARTITION`). Internal.
 */
export class TopicMetadata {
  readonly #http: Requester;
  readonly #maxAgeMs: number;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();

  constructor(http: Requester, maxAgeMs: number, clock: Clock) {
    this.#http = http;
    this.#maxAgeMs = maxAgeMs;
    this.#clock = clock;
  }

  /**
   * The topic's partition count.
   * @throws ClientError `UNKNOWN_TOPIC_OR_PARTITION` when the topic does not exist (not cached).
   */
  partitionCount(topic: string): Promise<number> {
    const now = this.#clock.now();
    const entry = this.#entries.get(topic);
    if (entry !== undefined && now - entry.fetchedAt < this.#maxAgeMs) return entry.count;
    const count = this.#http
      .request<TopicDescription>("GET", `v1/topics/${segment(topic)}`, { retry: "idempotent" })
      .then((description) => description.partitions.length);
    const fresh: Entry = { count, fetchedAt: now };
    this.#entries.set(topic, fresh);
    // A failure is not cached: the next call asks again.
    count.catch(() => {
      if (this.#entries.get(topic) === fresh) this.#entries.delete(topic);
    });
    return count;
  }

  /** Forgets the topic's count: the next call asks the broker. */
  invalidate(topic: string): void {
    this.#entries.delete(topic);
  }
}
