import type { ReadResult } from "@minikafka/log-store";
import { waitForAny } from "./long-poll.js";
import type { LiveTailSource } from "./live-tail.js";
import { topicTailSource, type TopicLiveLimits, type TopicRoundEncoder } from "./topic-live.js";
import type { ReadStore } from "./storage.js";

/** What {@link FetchService} needs. */
export interface FetchServiceDeps {
  readonly store: ReadStore;
  /** Longest long-poll wait in ms; a larger `waitMs` is capped to it. */
  readonly maxWaitMs: number;
  /** Aborted when the broker shuts down: long polls return at once. */
  readonly shutdown: AbortSignal;
}

/** Limits and wait of one partition fetch. */
export interface FetchOptions {
  maxRecords?: number | undefined;
  maxBytes?: number | undefined;
  /** Wait up to this long for a record when none is readable at `offset` (capped to `maxWaitMs`; default 0). */
  waitMs?: number | undefined;
  /** The caller went away: stop waiting. */
  signal?: AbortSignal | undefined;
}

/** Fetching one partition, transport-neutral, with long poll. */
export class FetchService {
  readonly #deps: FetchServiceDeps;

  constructor(deps: FetchServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Reads the partition from `offset`; when nothing is readable there, waits up to `waitMs` for a record
   * (no disk polling: the store wakes waiters on append) and reads again.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `OFFSET_OUT_OF_RANGE`, `CORRUPT_RECORD`
   */
  async fetch(topic: string, partition: number, offset: number, options: FetchOptions = {}): Promise<ReadResult> {
    const { store, maxWaitMs, shutdown } = this.#deps;
    const limits = { maxRecords: options.maxRecords, maxBytes: options.maxBytes };
    const result = await store.read(topic, partition, offset, limits);
    if (result.records.length > 0) return result;
    const waitMs = Math.min(options.waitMs ?? 0, maxWaitMs);
    if (!(await waitForAny(store, [{ topic, partition, offset }], waitMs, [options.signal, shutdown]))) return result;
    return store.read(topic, partition, offset, limits);
  }

  /** Longest single wait for new records, in ms: a live read's keep-alive interval. */
  get maxWaitMs(): number {
    return this.#deps.maxWaitMs;
  }

  /**
   * The partition as a source of a shared live tail (the topics' SSE feed): reads within `limits`, each
   * round encoded by `encode`, waits for appends.
   */
  liveSource<P>(topic: string, partition: number, limits: TopicLiveLimits, encode: TopicRoundEncoder<P>): LiveTailSource<P> {
    return topicTailSource(this.#deps.store, topic, partition, limits, encode);
  }
}
