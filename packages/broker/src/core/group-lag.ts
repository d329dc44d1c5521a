import type { Assignment, GroupCoordinator } from "@minikafka/group-coordinator";
import type { TopicDescription } from "@minikafka/log-store";
import type { TopicService } from "./topic-service.js";

/** What computing a group's lag needs. */
export interface GroupLagDeps {
  readonly coordinator: Pick<GroupCoordinator, "fetchOffsets">;
  readonly topics: Pick<TopicService, "describeIfExists">;
}

/** A group's position in one partition. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** The next offset the group will read, or `null` when it has committed nothing for this partition. */
  committedOffset: number | null;
  /** First offset still stored: where the group reads from when nothing is committed. */
  logStartOffset: number;
  highWatermark: number;
  /** `highWatermark − committedOffset` (from `logStartOffset` when nothing is committed), at least 0. */
  lag: number;
}

/**
 * The group's committed offsets and lag, for every partition it has committed plus the partitions in
 * `alsoPartitions` (its members' assignments), sorted by topic then partition. Partitions of deleted
 * topics are left out.
 */
export async function groupLag(deps: GroupLagDeps, groupId: string, alsoPartitions: readonly Assignment[] = []): Promise<PartitionLag[]> {
  const committed = await deps.coordinator.fetchOffsets(groupId);
  const positions = new Map<string, Map<number, number | null>>();
  const at = (topic: string) => {
    let partitions = positions.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      positions.set(topic, partitions);
    }
    return partitions;
  };
  for (const { topic, partition, offset } of committed) at(topic).set(partition, offset);
  for (const assignment of alsoPartitions) {
    for (const { topic, partitions } of assignment) {
      const known = at(topic);
      for (const p of partitions) if (!known.has(p)) known.set(p, null);
    }
  }
  const out: PartitionLag[] = [];
  for (const topic of [...positions.keys()].sort()) {
    const description: TopicDescription | undefined = deps.topics.describeIfExists(topic);
    if (description === undefined) continue;
    const partitions = positions.get(topic)!;
    for (const partition of [...partitions.keys()].sort((a, b) => a - b)) {
      const p = description.partitions[partition];
      if (p === undefined) continue;
      const committedOffset = partitions.get(partition)!;
      const from = Math.max(committedOffset ?? p.logStartOffset, p.logStartOffset);
      out.push({
        topic,
        partition,
        committedOffset,
        logStartOffset: p.logStartOffset,
        highWatermark: p.highWatermark,
        lag: Math.max(0, p.highWatermark - from),
      });
    }
  }
  return out;
}
