// The controller against a real etcd: failover of partition leadership when brokers die (leases expire),
// failover of the controller itself, offline partitions without a live in-sync replica.
import { afterAll, describe, expect, it } from "vitest";
import { ClusterMetadata, Controller, type TopicMetadata } from "../src/index.js";
import { etcdForThisFile, hasEtcd } from "../../../test-support/etcd-suite.js";

// Long enough that a loaded CI machine does not miss keepalives (a spurious expiry would move partitions).
const TTL_SECONDS = 3;
const etcd = etcdForThisFile();
let clusterSeq = 0;
const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

interface Node {
  nodeId: number;
  metadata: ClusterMetadata;
  controller: Controller;
}

async function node(nodeId: number, cluster: string): Promise<Node> {
  const metadata = await ClusterMetadata.open({
    etcd: [etcd.endpoint],
    nodeId,
    advertisedUrl: `http://127.0.0.1:${9000 + nodeId}`,
    cluster,
    leaseTtlSeconds: TTL_SECONDS,
  });
  const controller = new Controller(metadata, { onError: () => undefined });
  await controller.start();
  cleanups.push(async () => {
    await controller.stop();
    await metadata.close();
  });
  return { nodeId, metadata, controller };
}

/** Polls the topic until `done` holds (etcd pushes the change; the poll only reads it back), or fails after `ms`. */
async function until(metadata: ClusterMetadata, topic: string, done: (t: TopicMetadata) => boolean, ms: number): Promise<TopicMetadata> {
  const deadline = Date.now() + ms;
  for (;;) {
    const t = (await metadata.topic(topic))!;
    if (done(t)) return t;
    if (Date.now() > deadline) throw new Error(`not reached within ${ms} ms: ${JSON.stringify(t.partitions.map((p) => p.state))}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.skipIf(!hasEtcd)("Controller on a real etcd", () => {
  it("moves leadership to a live in-sync replica when a broker dies, then survives losing the controller", async () => {
    const cluster = `failover-${++clusterSeq}`;
    const nodes = [await node(1, cluster), await node(2, cluster), await node(3, cluster)];
    const controllerId = await nodes[0]!.metadata.controller();
    expect(nodes.filter((n) => n.controller.isController).map((n) => n.nodeId)).toEqual([controllerId]);
    const before = await nodes[0]!.metadata.createTopic("orders", { partitions: 6, replicationFactor: 3 });

    // A broker that is not the controller dies: its leases run out, the controller moves its partitions.
    const victim = nodes.find((n) => n.nodeId !== controllerId)!;
    const crashedAt = Date.now();
    victim.metadata.crash();
    const survivors = nodes.filter((n) => n !== victim);
    const after = await until(
      survivors[0]!.metadata,
      "orders",
      (t) => t.partitions.every((p) => !p.state.isr.includes(victim.nodeId)),
      TTL_SECONDS * 1000 + 8000,
    );
    const failoverMs = Date.now() - crashedAt;
    for (const [i, p] of after.partitions.entries()) {
      const old = before.partitions[i]!.state;
      if (old.leader === victim.nodeId) {
        // The first live replica of the ISR, in replica order, with the epoch bumped.
        const expected = before.partitions[i]!.replicas.find((id) => id !== victim.nodeId)!;
        expect(p.state).toEqual({ leader: expected, leaderEpoch: 1, isr: before.partitions[i]!.replicas.filter((id) => id !== victim.nodeId) });
      } else {
        expect(p.state.leader).toBe(old.leader);
        expect(p.state.leaderEpoch).toBe(0);
        expect(p.state.isr).toEqual([old.leader, ...before.partitions[i]!.replicas.filter((id) => id !== old.leader && id !== victim.nodeId)]);
      }
    }
    // Typically TTL + ~0.5 s; the bound leaves room for a loaded machine.
    expect(failoverMs).toBeLessThan(TTL_SECONDS * 1000 + 6000);

    // Now the controller dies: the last broker takes over the controller key and its partitions.
    const oldController = survivors.find((n) => n.nodeId === controllerId)!;
    const last = survivors.find((n) => n !== oldController)!;
    oldController.metadata.crash();
    // Wait for the whole round: partitions `last` already led only shrink their ISR, possibly after the others moved.
    const final = await until(
      last.metadata,
      "orders",
      (t) => t.partitions.every((p) => p.state.leader === last.nodeId && p.state.isr.length === 1),
      TTL_SECONDS * 1000 + 8000,
    );
    expect(await last.metadata.controller()).toBe(last.nodeId);
    expect(last.controller.isController).toBe(true);
    for (const p of final.partitions) expect(p.state.isr).toEqual([last.nodeId]);
  }, 60_000);

  it("takes a partition offline when no in-sync replica is alive (no unclean election), and back when one returns", async () => {
    const cluster = `offline-${++clusterSeq}`;
    const a = await node(1, cluster);
    const b = await node(2, cluster);
    const topic = await a.metadata.createTopic("solo", { partitions: 2, replicationFactor: 1 });
    // Crash the broker that is not the controller (the controller must stay to act).
    const victim = b.controller.isController ? a : b;
    const victimPartition = topic.partitions.find((p) => p.replicas[0] === victim.nodeId)!.partition;
    const keeper = victim === a ? b : a;
    victim.metadata.crash();
    const offline = await until(keeper.metadata, "solo", (t) => t.partitions[victimPartition]!.state.leader === -1, TTL_SECONDS * 1000 + 8000);
    expect(offline.partitions[victimPartition]!.state).toEqual({ leader: -1, leaderEpoch: 1, isr: [victim.nodeId] });
    expect(offline.partitions[1 - victimPartition]!.state.leader).toBe(keeper.nodeId);

    // The replica comes back (a restarted broker registers again): it leads again, with a new epoch.
    await node(victim.nodeId, cluster);
    const back = await until(keeper.metadata, "solo", (t) => t.partitions[victimPartition]!.state.leader === victim.nodeId, 5000);
    expect(back.partitions[victimPartition]!.state).toEqual({ leader: victim.nodeId, leaderEpoch: 2, isr: [victim.nodeId] });
  }, 60_000);
});
