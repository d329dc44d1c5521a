import { isLogStoreError, type ReadResult } from "@minikafka/log-store";
import type { LiveTailSource, TailRound } from "./live-tail.js";
import type { ReadStore } from "./storage.js";

/** Limits of each read of a live topic read. */
export interface TopicLiveLimits {
  maxRecords?: number | undefined;
  maxBytes?: number | undefined;
}

/**
 * The bytes of one round (one read of the partition) for readers of each profile: called once per round;
 * the function it returns is called once per reader and should memoize per profile.
 */
export type TopicRoundEncoder<P> = (read: ReadResult) => (profile: P) => Uint8Array;

/** The default `maxRecords` of a store read (log-store's). */
const STORE_MAX_RECORDS = 500;

/**
 * A partition as a {@link LiveTailSource} (a topic's SSE feed): reads within `limits` (below `cap` when
 * given), waits for appends without disk polling (the store wakes waiters). A topic or offset that is gone
 * (deleted, retention) ends the readers.
 */
export function topicTailSource<P>(
  store: ReadStore,
  topic: string,
  partition: number,
  limits: TopicLiveLimits,
  encode: TopicRoundEncoder<P>,
): LiveTailSource<P> {
  return {
    async read(from, cap) {
      let result: ReadResult;
      try {
        const maxRecords = cap === undefined ? limits.maxRecords : Math.max(1, Math.min(limits.maxRecords ?? STORE_MAX_RECORDS, cap - from));
        result = await store.read(topic, partition, from, { maxRecords, maxBytes: limits.maxBytes });
      } catch (error) {
        if (isLogStoreError(error) && (error.code === "UNKNOWN_TOPIC_OR_PARTITION" || error.code === "OFFSET_OUT_OF_RANGE")) return undefined;
        throw error;
      }
      return topicRound(result, encode);
    },
    async wait(from, timeoutMs, signal) {
      if (signal.aborted) return false;
      try {
        return await store.waitForData(topic, partition, from, { timeoutMs, signal });
      } catch {
        // Aborted, or the topic was deleted meanwhile: the tail reads again and sees.
        return !signal.aborted;
      }
    },
  };
}

/** One read as a tail round. */
export function topicRound<P>(result: ReadResult, encode: TopicRoundEncoder<P>): TailRound<P> {
  return { next: result.nextOffset, empty: result.records.length === 0, final: false, bytes: encode(result) };
}
