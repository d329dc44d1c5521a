import type { ReadResult } from "@minikafka/log-store";
import { waitForAny } from "./long-poll.js";
import type { ReadStore } from "./storage.js";

/** What {@link liveFetch} needs. */
export interface LiveFetchDeps {
  readonly store: ReadStore;
  /** Longest single wait for new records, in ms (the broker's `maxWaitMs`). */
  readonly maxWaitMs: number;
  /** Aborted when the broker shuts down: the live read ends. */
  readonly shutdown: AbortSignal;
}

/** Limits of one live read. */
export interface LiveFetchOptions {
  maxRecords?: number | undefined;
  maxBytes?: number | undefined;
  /** The reader went away: stop at once (its wait is released). */
  signal?: AbortSignal | undefined;
  /** End after about this long, in ms (default 60 000), so readers reconnect from their last offset. */
  maxDurationMs?: number | undefined;
}

/**
 * A live read of one partition from `offset` (a topic's SSE feed): yields every read, then — at the high
 * watermark — waits for appends (no disk polling: the store wakes waiters) and yields again; a read that
 * found nothing (the wait timed out) is yielded too, as a keep-alive. The first read runs before the first
 * yield, so a bad offset or topic throws before any event.
 * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `OFFSET_OUT_OF_RANGE`, `CORRUPT_RECORD`
 */
export async function* liveFetch(
  deps: LiveFetchDeps,
  topic: string,
  partition: number,
  offset: number,
  options: LiveFetchOptions = {},
): AsyncGenerator<ReadResult> {
  const { store, maxWaitMs, shutdown } = deps;
  const limits = { maxRecords: options.maxRecords, maxBytes: options.maxBytes };
  const end = Date.now() + (options.maxDurationMs ?? 60_000);
  let next = offset;
  for (;;) {
    const result = await store.read(topic, partition, next, limits);
    yield result;
    next = result.nextOffset;
    if (options.signal?.aborted || shutdown.aborted) return;
    if (next < result.highWatermark) continue;
    const remaining = end - Date.now();
    if (remaining <= 0) return;
    await waitForAny(store, [{ topic, partition, offset: next }], Math.min(remaining, maxWaitMs), [options.signal, shutdown]);
    if (options.signal?.aborted || shutdown.aborted) return;
  }
}
