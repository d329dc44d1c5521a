// ClusterMetadata against a real etcd: registration under a lease, topic creation, compare-and-swap, watches.
import { afterAll, describe, expect, it } from "vitest";
import { ClusterMetadata, isClusterError, type ClusterEvent } from "../src/index.js";
import { etcdForThisFile, hasEtcd } from "../../../test-support/etcd-suite.js";

const etcd = etcdForThisFile();
let clusterSeq = 0;
const opened: ClusterMetadata[] = [];

afterAll(async () => {
  await Promise.all(opened.map((m) => m.close()));
});

async function open(nodeId: number, cluster: string, leaseTtlSeconds = 2): Promise<ClusterMetadata> {
  const m = await ClusterMetadata.open({
    etcd: [etcd.endpoint],
    nodeId,
    advertisedUrl: `http://127.0.0.1:${8000 + nodeId}`,
    cluster,
    leaseTtlSeconds,
  });
  opened.push(m);
  return m;
}

async function codeOf(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    return isClusterError(error) ? error.code : `not a ClusterError: ${String(error)}`;
  }
  return undefined;
}

/** Events of a watch, with a way to await one that matches. */
async function events(m: ClusterMetadata) {
  const seen: ClusterEvent[] = [];
  const waiters: Array<{ match: (e: ClusterEvent) => boolean; resolve: (e: ClusterEvent) => void }> = [];
  await m.watch((event) => {
    seen.push(event);
    for (const w of waiters.splice(0)) w.match(event) ? w.resolve(event) : waiters.push(w);
  });
  return {
    seen,
    next: (match: (e: ClusterEvent) => boolean) =>
      new Promise<ClusterEvent>((resolve) => {
        const already = seen.find(match);
        if (already) resolve(already);
        else waiters.push({ match, resolve });
      }),
  };
}

describe.skipIf(!hasEtcd)("ClusterMetadata on a real etcd", () => {
  it("registers brokers under leases: close() leaves at once, a crash stays until the TTL runs out", async () => {
    const cluster = `reg-${++clusterSeq}`;
    const one = await open(1, cluster);
    const two = await open(2, cluster);
    const three = await open(3, cluster);
    expect(await one.liveBrokers()).toEqual([
      { nodeId: 1, advertisedUrl: "http://127.0.0.1:8001" },
      { nodeId: 2, advertisedUrl: "http://127.0.0.1:8002" },
      { nodeId: 3, advertisedUrl: "http://127.0.0.1:8003" },
    ]);
    expect(one.leaseValidUntil()).toBeGreaterThan(Date.now());
    const watch = await events(one);
    await two.close();
    await watch.next((e) => e.type === "broker-down" && e.nodeId === 2);
    expect((await one.liveBrokers()).map((b) => b.nodeId)).toEqual([1, 3]);

    const crashedAt = Date.now();
    three.crash();
    expect((await one.liveBrokers()).map((b) => b.nodeId)).toEqual([1, 3]); // still registered
    await watch.next((e) => e.type === "broker-down" && e.nodeId === 3);
    const gone = Date.now() - crashedAt;
    expect(gone).toBeGreaterThanOrEqual(1000); // not before its lease could have run out …
    expect(gone).toBeLessThan(2000 + 1500); // … and soon after the 2 s TTL
    expect(three.leaseValidUntil()).toBe(0);
  });

  it("refuses a second live broker with the same node id, and checks its options", async () => {
    const cluster = `dup-${++clusterSeq}`;
    await open(1, cluster);
    expect(await codeOf(() => open(1, cluster))).toBe("CLUSTER_UNAVAILABLE");
    for (const bad of [
      { etcd: [], nodeId: 1, advertisedUrl: "http://x:1" },
      { etcd: [etcd.endpoint], nodeId: 0, advertisedUrl: "http://x:1" },
      { etcd: [etcd.endpoint], nodeId: 1, advertisedUrl: "x:1" },
      { etcd: [etcd.endpoint], nodeId: 1, advertisedUrl: "http://x:1", cluster: "a/b" },
      { etcd: [etcd.endpoint], nodeId: 1, advertisedUrl: "http://x:1", leaseTtlSeconds: 0 },
    ]) {
      expect(await codeOf(() => ClusterMetadata.open(bad)), JSON.stringify(bad)).toBe("INVALID_CONFIG");
    }
  });

  it("says CLUSTER_UNAVAILABLE when etcd cannot be reached", async () => {
    const started = Date.now();
    expect(
      await codeOf(() => ClusterMetadata.open({ etcd: ["http://127.0.0.1:9"], nodeId: 1, advertisedUrl: "http://127.0.0.1:1", leaseTtlSeconds: 2 })),
    ).toBe("CLUSTER_UNAVAILABLE");
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it("creates topics once, with replicas on distinct live brokers, the preferred leader first, ISR = replicas", async () => {
    const cluster = `topics-${++clusterSeq}`;
    const one = await open(1, cluster);
    await open(2, cluster);
    await open(3, cluster);
    const topic = await one.createTopic("orders", { partitions: 6, replicationFactor: 3, config: { minInsyncReplicas: 2 } });
    expect(topic.name).toBe("orders");
    expect(topic.config).toEqual({ minInsyncReplicas: 2 });
    expect(topic.partitions).toHaveLength(6);
    const leaders = new Map<number, number>();
    for (const p of topic.partitions) {
      expect(new Set(p.replicas).size).toBe(3);
      expect(p.state).toEqual({ leader: p.replicas[0], leaderEpoch: 0, isr: p.replicas });
      leaders.set(p.state.leader, (leaders.get(p.state.leader) ?? 0) + 1);
    }
    expect([...leaders.values()]).toEqual([2, 2, 2]);
    expect(await codeOf(() => one.createTopic("orders", { partitions: 1 }))).toBe("TOPIC_ALREADY_EXISTS");
    expect(await codeOf(() => one.createTopic("wide", { partitions: 1, replicationFactor: 4 }))).toBe("INVALID_REPLICATION_FACTOR");
    expect(await one.topicNames()).toEqual(["orders"]);
    expect(await one.topic("nope")).toBeUndefined();
  });

  it("writes a topic of many partitions completely or not at all", async () => {
    const cluster = `wide-${++clusterSeq}`;
    const one = await open(1, cluster);
    const topic = await one.createTopic("wide", { partitions: 300 });
    expect(topic.partitions.map((p) => p.state.leader)).toEqual(Array(300).fill(1));
    expect(topic.partitions.every((p) => p.revision !== "0")).toBe(true);
    expect(await codeOf(() => one.createTopic("wide", { partitions: 300 }))).toBe("TOPIC_ALREADY_EXISTS");
  });

  it("changes a partition state only from the revision it was read at, and only while the fence holds", async () => {
    const cluster = `cas-${++clusterSeq}`;
    const one = await open(1, cluster);
    await open(2, cluster);
    const [p0] = (await one.createTopic("t", { partitions: 1, replicationFactor: 2 })).partitions;
    const watch = await events(one);
    const next = { leader: p0!.replicas[1]!, leaderEpoch: 1, isr: [p0!.replicas[1]!] };
    const revision = await one.updatePartitionState("t", 0, p0!.revision, next);
    expect(revision).toBeDefined();
    expect(await watch.next((e) => e.type === "partition-state")).toEqual({
      type: "partition-state",
      topic: "t",
      partition: 0,
      state: next,
      revision,
    });
    // The old revision no longer matches: nothing is written.
    expect(await one.updatePartitionState("t", 0, p0!.revision, { leader: 1, leaderEpoch: 9, isr: [1] })).toBeUndefined();
    expect((await one.topic("t"))!.partitions[0]!.state).toEqual(next);
    // A fence on a controller key that is not (or no longer) there fails the write.
    expect(
      await one.updatePartitionState("t", 0, revision!, { leader: 1, leaderEpoch: 9, isr: [1] }, { key: "controller", createRevision: "1" }),
    ).toBeUndefined();
    const fence = await one.claimController();
    expect(fence).toBeDefined();
    expect(await one.controller()).toBe(1);
    expect(
      await one.updatePartitionState("t", 0, revision!, { leader: 1, leaderEpoch: 2, isr: [1] }, { key: "controller", createRevision: fence! }),
    ).toBeDefined();
  });

  it("hands out producer id blocks that never overlap, even to brokers asking at once", async () => {
    const cluster = `pid-${++clusterSeq}`;
    const [one, two] = [await open(1, cluster), await open(2, cluster)];
    const starts = await Promise.all([...Array(6)].map((_, i) => (i % 2 === 0 ? one : two).allocateProducerIds(100)));
    const sorted = [...starts].sort((a, b) => a - b);
    expect(sorted).toEqual([0, 100, 200, 300, 400, 500]);
    expect(await one.allocateProducerIds(1)).toBe(600);
    expect(await codeOf(() => one.allocateProducerIds(0))).toBe("INVALID_CONFIG");
  });
});
