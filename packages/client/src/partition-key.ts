import type { TopicPartition, TopicPartitions } from "./types.js";

/** A map key for a partition of a topic (topic names cannot contain ":"). */
export function partitionKey(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

/** The partitions of an assignment, flattened. */
export function flatten(assignment: readonly TopicPartitions[]): TopicPartition[] {
  const out: TopicPartition[] = [];
  for (const { topic, partitions } of assignment) for (const partition of partitions) out.push({ topic, partition });
  return out;
}

/** Partitions grouped by topic, topics and partitions sorted: the wire shape of an assignment. */
export function group(partitions: Iterable<TopicPartition>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic.keys()].sort().map((topic) => ({ topic, partitions: byTopic.get(topic)!.sort((a, b) => a - b) }));
}
