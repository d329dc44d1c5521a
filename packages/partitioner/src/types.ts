/**
 * What a partitioner is told about one record.
 *
 * `key` is the record key as bytes; `null` means the record has no key (an empty `Uint8Array` is a key,
 * as in Kafka). String keys are UTF-8 encoded before they get here (see `partitionForKey`).
 * `partitionCount` is the topic's current number of partitions; it may grow between calls.
 * `partition` is an explicit partition chosen by the producer: `createDefaultPartitioner()` returns it
 * unchanged after checking its range; the single-purpose strategies ignore it (Kafka's producer never
 * consults its partitioner when a record names its partition).
 */
export interface PartitionerInput {
  /** Topic name; round-robin and sticky keep their state per topic. */
  topic: string;
  /** Record key bytes, or `null` for a keyless record. */
  key: Uint8Array | null;
  /** Current number of partitions of `topic`: a positive integer. */
  partitionCount: number;
  /** Explicit partition in `[0, partitionCount)`, when the producer chose one. */
  partition?: number | undefined;
}

/**
 * A partitioning strategy: a plain function from a record's topic, key and the topic's partition count to a
 * partition in `[0, partitionCount)`. Any function of this shape is a custom strategy; the factories in this
 * package return functions that keep their own per-topic state (round-robin counters, sticky choices).
 */
export type Partitioner = (input: PartitionerInput) => number;
