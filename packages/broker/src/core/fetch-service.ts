import type { ReadResult } from "@minikafka/log-store";
import { waitForAny } from "./long-poll.js";
import { liveFetch, type LiveFetchOptions } from "./topic-live.js";
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

  /**
   * A live read from `offset` (the topics' SSE feed): every read, then waits at the high watermark and
   * reads again, until `options.signal` aborts, the broker shuts down or `maxDurationMs` passes.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `OFFSET_OUT_OF_RANGE` (from the first read)
   */
  live(topic: string, partition: number, offset: number, options: LiveFetchOptions = {}): AsyncGenerator<ReadResult> {
    return liveFetch(this.#deps, topic, partition, offset, options);
  }
}
