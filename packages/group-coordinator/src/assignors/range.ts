import type { Assignment, AssignorInput, TopicPartitions } from "./types.js";

/**
 * Kafka's range assignor: for each topic, its subscribers are sorted (by `instanceId` when they have one,
 * else by `memberId`, so static members keep their place across restarts) and each receives a contiguous
 * range of partitions; the first `count % subscribers` members get one extra. Not sticky: it ignores
 * current assignments. Members subscribed to the same topics with the same partition counts get the same
 * partition numbers in each topic (useful for co-partitioned joins). O(P + M log M) per topic.
 */
export function rangeAssignor(input: AssignorInput): Map<string, Assignment> {
  const members = input.members.map((m) => ({
    memberId: m.memberId,
    key: m.instanceId ?? m.memberId,
    topics: new Set(m.topics),
    assigned: [] as TopicPartitions[],
  }));
  members.sort((a, b) => compare(a.key, b.key) || compare(a.memberId, b.memberId));
  for (const topic of [...input.partitionCounts.keys()].sort()) {
    const count = input.partitionCounts.get(topic)!;
    const subscribers = members.filter((m) => m.topics.has(topic));
    if (subscribers.length === 0 || count <= 0) continue;
    const base = Math.floor(count / subscribers.length);
    const extra = count % subscribers.length;
    let start = 0;
    subscribers.forEach((m, j) => {
      const length = base + (j < extra ? 1 : 0);
      if (length > 0) {
        m.assigned.push({ topic, partitions: Array.from({ length }, (_, k) => start + k) });
      }
      start += length;
    });
  }
  return new Map(members.map((m) => [m.memberId, m.assigned]));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
