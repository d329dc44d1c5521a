import { PartitionerError } from "./errors.js";
import { partitionForKey } from "./key-hash.js";
import { createRoundRobinPartitioner } from "./round-robin.js";
import { createStickyPartitioner } from "./sticky.js";
import type { Partitioner } from "./types.js";
import { assertPartitionCount, assertPartitionInRange } from "./validate.js";

/** Options of {@link createDefaultPartitioner}. */
export interface DefaultPartitionerOptions {
  /**
   * How keyless records are placed: `"sticky"` (default, Kafka's behaviour since 2.4),
   * `"round-robin"`, or any custom {@link Partitioner}.
   */
  keyless?: "sticky" | "round-robin" | Partitioner | undefined;
  /** Records per sticky run (only with `keyless: "sticky"`); see `StickyPartitionerOptions.batchSize`. */
  batchSize?: number | undefined;
  /** Random source for sticky moves (only with `keyless: "sticky"`); see `StickyPartitionerOptions.random`. */
  random?: (() => number) | undefined;
}

/**
 * Kafka's default partitioning rules in one function:
 *
 * 1. an explicit `partition` wins (it must be an integer in `[0, partitionCount)`);
 * 2. a keyed record goes to `toPositive(murmur2(key)) % partitionCount` ({@link partitionForKey}), the same
 *    partition as Kafka's Java client and KafkaJS's `DefaultPartitioner` would choose;
 * 3. a keyless record (`key === null`) goes to the keyless strategy: sticky by default, or round-robin.
 *
 * @param options - the keyless strategy and its sticky settings
 * @returns a stateful {@link Partitioner}; create one per producer
 * @throws {@link PartitionerError} `INVALID_CONFIG` for an unknown `keyless` value, a bad `batchSize` or
 *   `random`, or sticky settings given with a non-sticky `keyless`. The returned function throws
 *   `UNKNOWN_TOPIC_OR_PARTITION` for an explicit partition out of range (or a custom keyless strategy that
 *   returns one), `INVALID_PARTITIONS` for a bad `partitionCount`, `INVALID_RECORD` for a key of the wrong type.
 *
 * @example
 * ```ts
 * const partition = createDefaultPartitioner();
 * partition({ topic: "orders", key: new TextEncoder().encode("order-42"), partitionCount: 12 });
 * partition({ topic: "orders", key: null, partitionCount: 12, partition: 3 }); // 3
 * ```
 */
export function createDefaultPartitioner(options: DefaultPartitionerOptions = {}): Partitioner {
  const keyless = resolveKeyless(options);
  const custom = typeof options.keyless === "function";

  return (input) => {
    const { topic, key, partitionCount, partition } = input;
    assertPartitionCount(partitionCount);
    // `!= null`: JavaScript callers (and KafkaJS-shaped messages) use null for "not set" as often as undefined.
    if (partition != null) {
      assertPartitionInRange(topic, partition, partitionCount);
      return partition;
    }
    if (key != null) return partitionForKey(key, partitionCount);
    const chosen = keyless(input);
    if (custom) assertPartitionInRange(topic, chosen, partitionCount);
    return chosen;
  };
}

function resolveKeyless(options: DefaultPartitionerOptions): Partitioner {
  const keyless: unknown = options.keyless ?? "sticky";
  if (keyless !== "sticky" && keyless !== "round-robin" && typeof keyless !== "function") {
    throw new PartitionerError(
      "INVALID_CONFIG",
      `keyless must be "sticky", "round-robin" or a function, got ${typeof keyless === "string" ? `"${keyless}"` : String(keyless)}`,
    );
  }
  if (keyless === "sticky") {
    return createStickyPartitioner({ batchSize: options.batchSize, random: options.random });
  }
  if (options.batchSize !== undefined || options.random !== undefined) {
    const strategy = keyless === "round-robin" ? '"round-robin"' : "a custom strategy";
    throw new PartitionerError("INVALID_CONFIG", `batchSize and random apply only to keyless "sticky", not to ${strategy}`);
  }
  return keyless === "round-robin" ? createRoundRobinPartitioner() : (keyless as Partitioner);
}
