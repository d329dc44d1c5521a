import type { Partitioner } from "./types.js";
import { assertPartitionCount } from "./validate.js";

/**
 * A strategy that spreads records over partitions in turn: 0, 1, 2, …, `partitionCount - 1`, 0, … with one
 * independent rotation per topic, starting at partition 0. Keys and explicit partitions are ignored.
 *
 * When `partitionCount` grows between calls the rotation carries on from the last partition it returned
 * into the new partitions (3 partitions: 0 1 2 0, then 5: 1 2 3 4 0). It never returns a partition outside
 * the count it was just given.
 *
 * @returns a stateful {@link Partitioner}; create one per producer
 * @throws (from the returned function) {@link PartitionerError} `INVALID_PARTITIONS` when `partitionCount`
 *   is not a positive integer
 */
export function createRoundRobinPartitioner(): Partitioner {
  const lastByTopic = new Map<string, number>();
  return ({ topic, partitionCount }) => {
    assertPartitionCount(partitionCount);
    const last = lastByTopic.get(topic);
    // Storing the last partition rather than an ever-growing counter keeps the rotation smooth when the
    // count changes (a counter taken modulo a new count would jump).
    const next = last === undefined ? 0 : (last + 1) % partitionCount;
    lastByTopic.set(topic, next);
    return next;
  };
}
