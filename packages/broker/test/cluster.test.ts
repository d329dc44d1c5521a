// Cluster mode against a real etcd: three brokers in this process, each with its own data directory and a
// short etcd lease. Topics created through any broker, produce on the leader (acks=all), followers fetching
// and truncating, ISR shrink and the minimum ISR, and a leader change after a broker leaves.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { etcdForThisFile, hasEtcd } from "../../../test-support/etcd-suite.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { startBroker, type StartBrokerResult } from "../src/index.js";
import { call, segmentBytes, type PartitionView } from "./helpers/cluster.js";
import { until } from "./helpers/wait.js";

// Real processes, real fsyncs and lease expiries: a loaded CI machine takes several times a quiet one's time.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 30_000 });

/** Consumer group session timeout of these brokers (and so the hold after a coordinator moves). */
const SESSION_MS = 1_500;
const etcd = etcdForThisFile();
let clusterSeq = 0;
const running = new Set<StartBrokerResult>();

afterEach(async () => {
  await Promise.all([...running].map((b) => b.close()));
  running.clear();
});

interface Node {
  nodeId: number;
  url: string;
  dataDir: string;
  broker: StartBrokerResult;
}

async function startNode(name: string, nodeId: number, dataDir = tempDir()): Promise<Node> {
  const broker = await startBroker({
    dataDir,
    port: 0,
    streams: false,
    sessionTimeoutMs: SESSION_MS,
    heartbeatIntervalMs: 100,
    minSessionTimeoutMs: 100,
    tickIntervalMs: 50,
    cluster: { nodeId, etcd: [etcd.endpoint], name, leaseTtlSeconds: 2, replicaLagTimeMs: 1_000, ackTimeoutMs: 10_000 },
  });
  running.add(broker);
  return { nodeId, url: broker.url, dataDir, broker };
}

async function stopNode(node: Node): Promise<void> {
  running.delete(node.broker);
  await node.broker.close();
}

async function partitions(node: Node, topic: string): Promise<PartitionView[] | undefined> {
  const { body } = await call("GET", `${node.url}/v1/metadata`);
  return (body.topics as Array<{ name: string; partitions: PartitionView[] }>).find((t) => t.name === topic)?.partitions;
}

const produce = (node: Node, topic: string, partition: number, values: string[]) =>
  call("POST", `${node.url}/v1/topics/${topic}/records`, { records: values.map((value) => ({ partition, value })) });

const values = async (node: Node, topic: string, partition: number) => {
  const { body } = await call("GET", `${node.url}/v1/topics/${topic}/partitions/${partition}/records?offset=0&maxRecords=10000`);
  return (body.records as Array<{ value: string }>).map((r) => r.value);
};

describe.skipIf(!hasEtcd)("cluster mode on a real etcd", () => {
  it("creates a replicated topic through any broker, acknowledges a produce once the ISR has it, and keeps replicas byte-identical", async () => {
    const name = `c${++clusterSeq}`;
    const nodes = [await startNode(name, 1), await startNode(name, 2), await startNode(name, 3)];
    const created = await call("POST", `${nodes[1]!.url}/v1/topics`, { name: "orders", partitions: 3, replicationFactor: 3, minInsyncReplicas: 2 });
    expect(created.status).toBe(201);
    expect(created.body.replicationFactor).toBe(3);
    expect(created.body.minInsyncReplicas).toBe(2);
    expect(created.body.config).toEqual({});
    for (const p of created.body.partitions) expect([...p.replicas].sort()).toEqual([1, 2, 3]);
    // Leaders spread over the brokers.
    expect(new Set(created.body.partitions.map((p: PartitionView) => p.leader)).size).toBe(3);

    // Every broker sees the topic, with the same leaders.
    const views = await Promise.all(nodes.map((n) => until(() => partitions(n, "orders"))));
    for (const v of views) expect(v.map((p) => p.leader)).toEqual(created.body.partitions.map((p: PartitionView) => p.leader));
    const meta = (await call("GET", `${nodes[2]!.url}/v1/metadata`)).body;
    expect(meta.clusterId).toBe(name);
    expect(meta.nodeId).toBe(3);
    expect(meta.brokers.map((b: { nodeId: number }) => b.nodeId)).toEqual([1, 2, 3]);
    expect(meta.brokers.map((b: { url: string }) => b.url)).toEqual(nodes.map((n) => n.url));

    const p0 = views[0]![0]!;
    const leader = nodes.find((n) => n.nodeId === p0.leader)!;
    const follower = nodes.find((n) => n.nodeId !== p0.leader)!;
    // A follower refuses the produce, naming the leader.
    const refused = await produce(follower, "orders", 0, ["x"]);
    expect(refused.status).toBe(421);
    expect(refused.body.error.code).toBe("NOT_LEADER_OR_FOLLOWER");
    expect(refused.body.error.retriable).toBe(true);
    expect(refused.body.error.message).toContain(`node ${leader.nodeId} (${leader.url}) leads it`);

    for (let i = 0; i < 20; i++) {
      const res = await produce(leader, "orders", 0, [`a${i}`, `b${i}`]);
      expect(res.status).toBe(200);
      expect(res.body.offsets).toEqual([
        { partition: 0, offset: 2 * i },
        { partition: 0, offset: 2 * i + 1 },
      ]);
    }
    const expected = Array.from({ length: 20 }, (_, i) => [`a${i}`, `b${i}`]).flat();
    expect(await values(leader, "orders", 0)).toEqual(expected);
    // Every replica serves the committed records once it has heard the high watermark.
    for (const n of nodes) await until(async () => ((await values(n, "orders", 0)).length === 40 ? true : undefined));
    for (const n of nodes) expect(await values(n, "orders", 0)).toEqual(expected);
    // Byte for byte the same log on every replica (the followers append the leader's batches as they are).
    const bytes = segmentBytes(leader.dataDir, "orders", 0);
    expect(bytes.length).toBeGreaterThan(0);
    for (const n of nodes) expect(segmentBytes(n.dataDir, "orders", 0).equals(bytes)).toBe(true);
  });

  it("drops a stopped follower from the ISR, keeps accepting down to the minimum, then refuses with NOT_ENOUGH_REPLICAS", async () => {
    const name = `c${++clusterSeq}`;
    const nodes = [await startNode(name, 1), await startNode(name, 2), await startNode(name, 3)];
    const created = await call("POST", `${nodes[0]!.url}/v1/topics`, { name: "t", partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 });
    expect(created.status).toBe(201);
    const leaderId = created.body.partitions[0].leader as number;
    const leader = nodes.find((n) => n.nodeId === leaderId)!;
    const [f1, f2] = nodes.filter((n) => n !== leader);
    await until(() => partitions(leader, "t"));
    expect((await produce(leader, "t", 0, ["one"])).status).toBe(200);

    await stopNode(f1!);
    // Within the lag time (1 s) plus a check, the leader shrinks the ISR; until then a produce waits for it.
    const during = await produce(leader, "t", 0, ["two"]);
    expect(during.status).toBe(200);
    const shrunk = await until(async () => {
      const p = (await partitions(leader, "t"))?.[0];
      return p !== undefined && !p.isr.includes(f1!.nodeId) ? p : undefined;
    });
    expect(shrunk.isr.sort()).toEqual([leaderId, f2!.nodeId].sort());

    await stopNode(f2!);
    await until(async () => ((await partitions(leader, "t"))?.[0]?.isr.length === 1 ? true : undefined));
    const refused = await produce(leader, "t", 0, ["three"]);
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe("NOT_ENOUGH_REPLICAS");
    expect(refused.body.error.retriable).toBe(true);
    expect(await values(leader, "t", 0)).toEqual(["one", "two"]);
  });

  it("moves leadership to an in-sync follower when the leader leaves, keeping every acknowledged record; the old leader rejoins as a follower and catches up", async () => {
    const name = `c${++clusterSeq}`;
    const nodes = [await startNode(name, 1), await startNode(name, 2), await startNode(name, 3)];
    const created = await call("POST", `${nodes[0]!.url}/v1/topics`, { name: "t", partitions: 1, replicationFactor: 3 });
    const first = created.body.partitions[0] as PartitionView;
    const leader = nodes.find((n) => n.nodeId === first.leader)!;
    await until(() => partitions(leader, "t"));
    for (let i = 0; i < 10; i++) expect((await produce(leader, "t", 0, [`v${i}`])).status).toBe(200);

    await stopNode(leader);
    const others = nodes.filter((n) => n !== leader);
    const moved = await until(async () => {
      const p = (await partitions(others[0]!, "t"))?.[0];
      return p !== undefined && p.leader !== first.leader && p.leader > 0 ? p : undefined;
    });
    expect(moved.leaderEpoch).toBeGreaterThan(first.leaderEpoch);
    const next = others.find((n) => n.nodeId === moved.leader)!;
    // The new leader may take a moment to take up its role after the metadata says so.
    await until(async () => ((await produce(next, "t", 0, ["after"])).status === 200 ? true : undefined));
    const all = [...Array.from({ length: 10 }, (_, i) => `v${i}`), "after"];
    await until(async () => ((await values(next, "t", 0)).length === all.length ? true : undefined));
    expect(await values(next, "t", 0)).toEqual(all);

    // The old leader comes back on its data directory: a follower now, it catches up byte for byte.
    const back = await startNode(name, leader.nodeId, leader.dataDir);
    await until(async () => ((await values(back, "t", 0)).length === all.length ? true : undefined));
    expect(segmentBytes(back.dataDir, "t", 0).equals(segmentBytes(next.dataDir, "t", 0))).toBe(true);
  });
});

describe.skipIf(!hasEtcd)("a follower that lost its disk", () => {
  it("restarted on an empty data directory, catches up from the leader byte for byte and rejoins the ISR", async () => {
    const name = `c${++clusterSeq}`;
    const nodes = [await startNode(name, 1), await startNode(name, 2), await startNode(name, 3)];
    const created = await call("POST", `${nodes[0]!.url}/v1/topics`, { name: "t", partitions: 1, replicationFactor: 3 });
    const leader = nodes.find((n) => n.nodeId === created.body.partitions[0].leader)!;
    await until(() => partitions(leader, "t"));
    for (let i = 0; i < 30; i++) expect((await produce(leader, "t", 0, [`v${i}`, `w${i}`])).status).toBe(200);
    const follower = nodes.find((n) => n !== leader)!;
    await stopNode(follower);
    await until(async () => ((await partitions(leader, "t"))?.[0]?.isr.includes(follower.nodeId) === false ? true : undefined));
    const fresh = await startNode(name, follower.nodeId, tempDir());
    await until(async () => ((await partitions(leader, "t"))?.[0]?.isr.length === 3 ? true : undefined));
    await until(async () => ((await values(fresh, "t", 0)).length === 60 ? true : undefined));
    expect(segmentBytes(fresh.dataDir, "t", 0).equals(segmentBytes(leader.dataDir, "t", 0))).toBe(true);
  });
});

describe.skipIf(!hasEtcd)("consumer groups in cluster mode", () => {
  it("has one coordinator per group, keeps committed offsets across its failover, and the new one hands nothing out for a session timeout", async () => {
    const name = `c${++clusterSeq}`;
    const nodes = [await startNode(name, 1), await startNode(name, 2), await startNode(name, 3)];
    expect((await call("POST", `${nodes[0]!.url}/v1/topics`, { name: "t", partitions: 2, replicationFactor: 3 })).status).toBe(201);
    await until(async () => ((await partitions(nodes[2]!, "t")) ? true : undefined));
    // The first question creates the offsets topic; its coordinator is then the leader of the group's partition.
    const first = await call("GET", `${nodes[0]!.url}/v1/groups/g/coordinator`);
    expect([200, 503]).toContain(first.status);
    const coordinator = await until(async () => {
      const res = await call("GET", `${nodes[1]!.url}/v1/groups/g/coordinator`);
      return res.status === 200 ? (res.body as { nodeId: number; url: string }) : undefined;
    });
    const home = nodes.find((n) => n.nodeId === coordinator.nodeId)!;
    expect(coordinator.url).toBe(home.url);
    // Internal topics are not listed to clients.
    expect((await call("GET", `${home.url}/v1/metadata`)).body.topics.map((t: { name: string }) => t.name)).toEqual(["t"]);
    expect((await call("GET", `${home.url}/v1/topics`)).body.topics.map((t: { name: string }) => t.name)).toEqual(["t"]);
    const elsewhere = nodes.find((n) => n !== home)!;
    const refused = await call("POST", `${elsewhere.url}/v1/groups/g/members`, { topics: ["t"] });
    expect(refused.status).toBe(421);
    expect(refused.body.error.code).toBe("NOT_COORDINATOR");
    expect(refused.body.error.message).toContain(`node ${home.nodeId} (${home.url}) does`);

    // A member joins the coordinator (the offsets partition's first leader: nothing to wait for), gets both partitions, commits.
    const join = await until(async () => {
      const res = await call("POST", `${home.url}/v1/groups/g/members`, { topics: ["t"] });
      return res.status === 201 ? res.body : undefined;
    });
    const owned = await until(async () => {
      const hb = await call("POST", `${home.url}/v1/groups/g/members/${join.memberId}/heartbeat`, {
        memberEpoch: join.memberEpoch,
        ownedPartitions: [],
      });
      const a = hb.body.assignment as Array<{ topic: string; partitions: number[] }>;
      return a.length > 0 && a[0]!.partitions.length === 2 ? hb.body : undefined;
    });
    const commit = await call("POST", `${home.url}/v1/groups/g/offsets`, {
      memberId: join.memberId,
      memberEpoch: owned.memberEpoch,
      offsets: [
        { topic: "t", partition: 0, offset: 0 },
        { topic: "t", partition: 1, offset: 0 },
      ],
    });
    expect(commit.status).toBe(204);

    // The coordinator leaves: the offsets partition's new leader coordinates the group, with its offsets.
    await stopNode(home);
    const others = nodes.filter((n) => n !== home);
    const next = await until(async () => {
      const res = await call("GET", `${others[0]!.url}/v1/groups/g/coordinator`);
      return res.status === 200 && res.body.nodeId !== home.nodeId ? (res.body as { nodeId: number; url: string }) : undefined;
    });
    const movedAt = Date.now();
    const offsets = await until(async () => {
      const res = await call("GET", `${next.url}/v1/groups/g`);
      return res.status === 200 ? res.body.offsets : undefined;
    });
    expect(offsets.map((o: { partition: number; committedOffset: number }) => [o.partition, o.committedOffset])).toEqual([
      [0, 0],
      [1, 0],
    ]);
    // The old member may still be working: no partition goes to anyone for a session timeout.
    const joined = await call("POST", `${next.url}/v1/groups/g/members`, { topics: ["t"] });
    expect(joined.status).toBe(201);
    expect(joined.body.assignment).toEqual([]);
    let assignedAt = 0;
    await until(async () => {
      const hb = await call("POST", `${next.url}/v1/groups/g/members/${joined.body.memberId}/heartbeat`, {
        memberEpoch: joined.body.memberEpoch,
        ownedPartitions: [],
      });
      const a = hb.body.assignment as Array<{ partitions: number[] }>;
      if (a.some((x) => x.partitions.length > 0)) return (assignedAt = Date.now());
      return undefined;
    });
    // (The hold began when the new coordinator loaded, just before the move was seen here.)
    expect(assignedAt - movedAt).toBeGreaterThanOrEqual(SESSION_MS / 2);
  });
});

describe.skipIf(!hasEtcd)("deleting a topic in cluster mode", () => {
  it("drops every replica (also one of a broker that was away) and a topic created again under the name starts empty at epoch 0", async () => {
    const name = `c${++clusterSeq}`;
    const nodes = [await startNode(name, 1), await startNode(name, 2), await startNode(name, 3)];
    const created = await call("POST", `${nodes[0]!.url}/v1/topics`, { name: "t", partitions: 2, replicationFactor: 3 });
    expect(created.status).toBe(201);
    const leader = nodes.find((n) => n.nodeId === created.body.partitions[0].leader)!;
    await Promise.all(nodes.map((n) => until(() => partitions(n, "t"))));
    for (let i = 0; i < 5; i++) expect((await produce(leader, "t", 0, [`old${i}`])).status).toBe(200);
    for (const n of nodes) await until(async () => ((await values(n, "t", 0)).length === 5 ? true : undefined));

    // One broker is away while the topic is deleted; it drops its replica when it comes back.
    const away = nodes.find((n) => n !== leader)!;
    await stopNode(away);
    const present = nodes.filter((n) => n !== away);
    const deleted = await call("DELETE", `${present[1]!.url}/v1/topics/t`);
    expect(deleted.status).toBe(204);
    // The broker asked has dropped its replica before answering; the others as their watch tells them.
    expect(existsSync(join(present[1]!.dataDir, "t"))).toBe(false);
    for (const n of present) {
      await until(async () => ((await partitions(n, "t")) === undefined && !existsSync(join(n.dataDir, "t")) ? true : undefined));
      expect((await call("GET", `${n.url}/v1/topics/t`)).status).toBe(404);
      expect((await produce(n, "t", 0, ["x"])).status).toBe(404);
    }
    expect((await call("DELETE", `${present[0]!.url}/v1/topics/t`)).status).toBe(404);
    expect(existsSync(join(away.dataDir, "t"))).toBe(true);
    const back = await startNode(name, away.nodeId, away.dataDir);
    expect(existsSync(join(back.dataDir, "t"))).toBe(false);
    const all = [...present, back];

    // The same name again: fresh logs, epoch 0, every replica the same bytes (no fetcher of the old topic appended anything).
    const again = await call("POST", `${all[0]!.url}/v1/topics`, { name: "t", partitions: 1, replicationFactor: 3 });
    expect(again.status).toBe(201);
    const views = await Promise.all(
      all.map((n) => until(async () => ((await partitions(n, "t"))?.[0]?.isr.length === 3 ? partitions(n, "t") : undefined))),
    );
    for (const v of views) expect(v).toEqual([expect.objectContaining({ partition: 0, leaderEpoch: 0 })]);
    const newLeader = all.find((n) => n.nodeId === views[0]![0]!.leader)!;
    const fresh = await produce(newLeader, "t", 0, ["fresh"]);
    expect(fresh.body).toEqual({ offsets: [{ partition: 0, offset: 0 }] });
    for (const n of all) await until(async () => ((await values(n, "t", 0)).length === 1 ? true : undefined));
    for (const n of all) expect(await values(n, "t", 0)).toEqual(["fresh"]);
    const bytes = segmentBytes(newLeader.dataDir, "t", 0);
    for (const n of all) expect(segmentBytes(n.dataDir, "t", 0).equals(bytes)).toBe(true);
  });
});

describe.skipIf(!hasEtcd)("growing a topic in cluster mode", () => {
  it("adds partitions placed over the live brokers, led and replicated like the first ones; never shrinks", async () => {
    const name = `c${++clusterSeq}`;
    const nodes = [await startNode(name, 1), await startNode(name, 2), await startNode(name, 3)];
    expect((await call("POST", `${nodes[0]!.url}/v1/topics`, { name: "t", partitions: 1, replicationFactor: 2 })).status).toBe(201);
    const first = (await Promise.all(nodes.map((n) => until(() => partitions(n, "t")))))[0]![0]!;
    expect((await produce(nodes[first.leader - 1]!, "t", 0, ["kept"])).status).toBe(200);

    const grown = await call("POST", `${nodes[2]!.url}/v1/topics/t/partitions`, { count: 3 });
    expect(grown.status).toBe(200);
    expect(grown.body.partitions.map((p: PartitionView) => p.partition)).toEqual([0, 1, 2]);
    for (const p of grown.body.partitions as PartitionView[]) {
      expect(p.replicas.length).toBe(2);
      expect(p.isr.sort()).toEqual([...p.replicas].sort());
    }
    // Leaders spread: the three partitions have three leaders.
    expect(new Set(grown.body.partitions.map((p: PartitionView) => p.leader)).size).toBe(3);
    const views = await Promise.all(nodes.map((n) => until(async () => ((await partitions(n, "t"))?.length === 3 ? partitions(n, "t") : undefined))));
    for (const v of views) expect(v!.map((p) => p.leader)).toEqual(grown.body.partitions.map((p: PartitionView) => p.leader));
    for (const p of [1, 2]) {
      const view = views[0]![p]!;
      const leader = nodes[view.leader - 1]!;
      expect((await produce(leader, "t", p, [`new${p}`])).body).toEqual({ offsets: [{ partition: p, offset: 0 }] });
      for (const id of view.replicas) await until(async () => ((await values(nodes[id - 1]!, "t", p)).length === 1 ? true : undefined));
      for (const id of view.replicas) expect(await values(nodes[id - 1]!, "t", p)).toEqual([`new${p}`]);
    }
    expect(await values(nodes[first.leader - 1]!, "t", 0)).toEqual(["kept"]);
    const shrink = await call("POST", `${nodes[0]!.url}/v1/topics/t/partitions`, { count: 2 });
    expect(shrink.status).toBe(400);
    expect(shrink.body.error.code).toBe("INVALID_PARTITIONS");
  });
});

describe("a single-node broker", () => {
  it("answers an empty cluster on /v1/metadata and refuses a replication factor above 1", async () => {
    const broker = await startBroker({ dataDir: tempDir(), port: 0, streams: false });
    running.add(broker);
    expect((await call("GET", `${broker.url}/v1/metadata`)).body).toEqual({
      clusterId: null,
      nodeId: null,
      controller: null,
      brokers: [],
      topics: [],
    });
    const refused = await call("POST", `${broker.url}/v1/topics`, { name: "t", partitions: 1, replicationFactor: 2 });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("INVALID_REPLICATION_FACTOR");
    expect((await call("POST", `${broker.url}/v1/topics`, { name: "t", partitions: 1, replicationFactor: 1 })).status).toBe(201);
    const fetch = await call("GET", `${broker.url}/v1/replica/topics/t/partitions/0/batches?offset=0&leaderEpoch=0&replicaId=1`);
    expect(fetch.status).toBe(400);
    expect(fetch.body.error.message).toContain("not in cluster mode");
    expect((await call("GET", `${broker.url}/v1/groups/g/coordinator`)).body).toEqual({ nodeId: null, url: null });
  });
});
