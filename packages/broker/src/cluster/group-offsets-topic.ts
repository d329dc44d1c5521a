// Where consumer groups live in a cluster: the internal topic of group offsets and a group's partition of it.

/** The internal topic of group offsets (stored as `consumer_offsets` in the internal store). */
export const OFFSETS_TOPIC = "__consumer_offsets";
/** Its partition count (fixed: a group's coordinator must not move when brokers come and go). */
export const OFFSETS_PARTITIONS = 6;

/** Java's `String.hashCode`, as Kafka hashes group ids to offsets partitions. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** The offsets partition of `groupId` (Kafka's `Utils.abs(groupId.hashCode) % partitions`). */
export function offsetsPartitionOf(groupId: string): number {
  return (javaHash(groupId) & 0x7fffffff) % OFFSETS_PARTITIONS;
}
