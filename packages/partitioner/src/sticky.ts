import type { Partitioner } from "./types.js";
import { assertFunctionOption, assertPartitionCount, assertPositiveIntegerOption } from "./validate.js";

/** Records per sticky run when `batchSize` is not given. */
export const DEFAULT_STICKY_BATCH_SIZE = 100;

/** Options of {@link createStickyPartitioner}. */
export interface StickyPartitionerOptions {
  /**
   * How many records (not bytes: a partitioner sees one record at a time, so Kafka's byte-sized
   * `batch.size` has no meaning here) go to one partition before the partitioner moves on.
   * A positive integer; default {@link DEFAULT_STICKY_BATCH_SIZE} (100).
   */
  batchSize?: number | undefined;
  /**
   * Source of uniform numbers in `[0, 1)` used to choose the next partition; default `Math.random`.
   * Inject a seeded generator for reproducible sequences. Values outside `[0, 1)` are clamped.
   */
  random?: (() => number) | undefined;
}

interface StickyState {
  partition: number;
  remaining: number;
}

/** Index in `[0, n)` from a number that should be in `[0, 1)`. */
function scale(r: number, n: number): number {
  const i = Math.floor(r * n);
  if (!(i >= 0)) return 0;
  return i < n ? i : n - 1;
}

/** A partition in `[0, n)`, different from `current` whenever `current` is valid and `n > 1`. */
function choose(random: () => number, n: number, current: number | undefined): number {
  if (current === undefined || current >= n) return scale(random(), n);
  if (n === 1) return 0;
  const i = scale(random(), n - 1);
  return i >= current ? i + 1 : i;
}

/**
 * A sticky strategy after Kafka's KIP-480: keyless records of a topic all go to one partition until
 * `batchSize` of them have been placed there, then the partitioner moves to another partition, chosen
 * uniformly at random among the others (when there is more than one). Filling one batch at a time gives
 * bigger batches and lower latency than round-robin, while partitions still even out over time.
 *
 * Each topic has its own sticky partition and count. Keys and explicit partitions are ignored (use
 * {@link createDefaultPartitioner} to hash keyed records). When `partitionCount` grows, the current
 * partition stays until its batch is full and later choices include the new partitions; if a caller
 * passes a count at or below the current partition, a new one is chosen at once.
 *
 * The first choice for a topic calls `random()` once; each later move calls it once, except with a
 * single partition, where it is not called.
 *
 * @param options - `batchSize` (records per partition run, default 100) and `random`
 * @returns a stateful {@link Partitioner}; create one per producer
 * @throws {@link PartitionerError} `INVALID_CONFIG` when `batchSize` is not a positive integer or `random`
 *   is not a function; the returned function throws `INVALID_PARTITIONS` for a bad `partitionCount`
 */
export function createStickyPartitioner(options: StickyPartitionerOptions = {}): Partitioner {
  const batchSize = options.batchSize ?? DEFAULT_STICKY_BATCH_SIZE;
  const random = options.random ?? Math.random;
  assertPositiveIntegerOption("batchSize", batchSize);
  assertFunctionOption("random", random);

  const stateByTopic = new Map<string, StickyState>();
  return ({ topic, partitionCount }) => {
    assertPartitionCount(partitionCount);
    let state = stateByTopic.get(topic);
    if (state === undefined) {
      state = { partition: choose(random, partitionCount, undefined), remaining: batchSize };
      stateByTopic.set(topic, state);
    } else if (state.remaining === 0 || state.partition >= partitionCount) {
      state.partition = choose(random, partitionCount, state.partition);
      state.remaining = batchSize;
    }
    state.remaining--;
    return state.partition;
  };
}
