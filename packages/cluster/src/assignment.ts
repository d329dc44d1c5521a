import { ClusterError } from "./errors.js";

/**
 * Places `replicationFactor` replicas of each of `partitions` partitions on `brokers` (node ids), as Kafka's
 * rack-unaware `assignReplicasToBrokers` does: partition p's first replica (its preferred leader) is broker
 * `(start + p) mod n`, so leadership spreads evenly; the followers come after it at a shift that grows each
 * time the partitions wrap around the brokers, so that followers spread evenly too. `start` picks where the
 * first partition begins (random in Kafka, so that topics do not all lead on the same broker).
 *
 * @returns per partition, its replicas (distinct node ids), preferred leader first.
 * @throws ClusterError `INVALID_PARTITIONS`, `INVALID_REPLICATION_FACTOR` (below 1, or more than the brokers).
 */
export function assignReplicas(partitions: number, replicationFactor: number, brokers: readonly number[], start = 0): number[][] {
  if (!Number.isSafeInteger(partitions) || partitions < 1)
    throw new ClusterError("INVALID_PARTITIONS", `partitions must be a positive integer, got ${partitions}`);
  const ids = [...new Set(brokers)].sort((a, b) => a - b);
  if (!Number.isSafeInteger(replicationFactor) || replicationFactor < 1 || replicationFactor > ids.length) {
    throw new ClusterError(
      "INVALID_REPLICATION_FACTOR",
      `replication factor must be between 1 and the number of live brokers (${ids.length}), got ${replicationFactor}`,
    );
  }
  const n = ids.length;
  const first = ((start % n) + n) % n;
  let shift = first;
  const out: number[][] = [];
  for (let p = 0; p < partitions; p++) {
    if (p > 0 && p % n === 0) shift++;
    const leader = (first + p) % n;
    const replicas = [ids[leader]!];
    for (let j = 0; j < replicationFactor - 1; j++) {
      // Kafka's replicaIndex: the follower shift is in 1..n-1, so no follower lands on the leader.
      const followerShift = 1 + ((shift + j) % (n - 1));
      replicas.push(ids[(leader + followerShift) % n]!);
    }
    out.push(replicas);
  }
  return out;
}
