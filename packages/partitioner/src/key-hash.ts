import { PartitionerError } from "./errors.js";
import { murmur2, murmur2Prefix } from "./murmur2.js";
import type { Partitioner } from "./types.js";
import { assertPartitionCount } from "./validate.js";

const encoder = new TextEncoder();
// String keys are encoded into one reused buffer instead of a fresh Uint8Array per call: the hash is cheap
// enough that the allocation would dominate. Keys longer than this are rare and get a one-off buffer.
const SCRATCH_LIMIT = 64 * 1024;
let scratch = new Uint8Array(256);

function murmur2OfString(key: string): number {
  // UTF-8 needs at most 3 bytes per UTF-16 code unit (a surrogate pair is 2 units -> 4 bytes).
  const maxBytes = key.length * 3;
  if (maxBytes > scratch.length) {
    if (maxBytes > SCRATCH_LIMIT) return murmur2(encoder.encode(key));
    scratch = new Uint8Array(Math.max(maxBytes, scratch.length * 2));
  }
  const { written } = encoder.encodeInto(key, scratch);
  return murmur2Prefix(scratch, written);
}

/**
 * The partition of a keyed record, exactly as Kafka's Java client and KafkaJS's `DefaultPartitioner` choose it:
 * `toPositive(murmur2(keyBytes)) % partitionCount`, where `toPositive(h) = h & 0x7fffffff`.
 * The result depends only on the key bytes and the partition count: it is stable across processes, restarts,
 * machines and versions of this package.
 *
 * @param key - the key bytes, or a string, which is UTF-8 encoded first (like Kafka's `StringSerializer`
 *   and KafkaJS). An empty key is a key: it hashes, it is not treated as "no key".
 * @param partitionCount - the topic's number of partitions, a positive integer
 * @returns a partition in `[0, partitionCount)`
 * @throws {@link PartitionerError} `INVALID_PARTITIONS` when `partitionCount` is not a positive integer;
 *   `INVALID_RECORD` when `key` is neither a `Uint8Array` nor a string
 *
 * @example
 * ```ts
 * partitionForKey("order-42", 12); // same partition as a Java or KafkaJS producer would pick
 * ```
 */
export function partitionForKey(key: Uint8Array | string, partitionCount: number): number {
  assertPartitionCount(partitionCount);
  let hash: number;
  if (typeof key === "string") hash = murmur2OfString(key);
  else if (key instanceof Uint8Array) hash = murmur2(key);
  else {
    throw new PartitionerError("INVALID_RECORD", `key must be a Uint8Array or a string, got ${key === null ? "null" : typeof key}`);
  }
  return (hash & 0x7fffffff) % partitionCount;
}

/**
 * A strategy that places every record by its key with {@link partitionForKey}. It keeps no state.
 *
 * @returns a {@link Partitioner} that ignores `partition` and throws for keyless records
 * @throws (from the returned function) {@link PartitionerError} `INVALID_RECORD` when the record has no key
 *   (`key === null`) or a key of the wrong type; `INVALID_PARTITIONS` for a bad `partitionCount`
 */
export function createKeyHashPartitioner(): Partitioner {
  return ({ topic, key, partitionCount }) => {
    if (key === null || key === undefined) {
      throw new PartitionerError("INVALID_RECORD", `key-hash partitioner needs a key; a record for topic "${topic}" has none`);
    }
    return partitionForKey(key, partitionCount);
  };
}
