// A broker whose etcd watch has not delivered a topic yet (held back here, as a slow watch would be) and a
// request naming that topic: the broker reads etcd, takes the topic up and serves the request — produce on a
// partition it leads, NOT_LEADER_OR_FOLLOWER (retriable, naming the leader) on one it does not, fetch and
// describe — instead of answering 404. A topic etcd does not have is still 404. Two cluster nodes of the
// broker (its app, ClusterNode and ReplicatedStore as startBroker wires them) over a real etcd.
import { LogStore } from "@minikafka/log-store";
import { afterEach, describe, expect, it, vi } from "vitest";
import { etcdForThisFile, hasEtcd } from "../../../test-support/etcd-suite.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { buildBrokerApp } from "../src/app.js";
import { ClusterNode } from "../src/cluster/cluster-node.js";
import { ReplicatedStore } from "../src/cluster/replicated-store.js";
import { createBrokerContext } from "../src/context.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 30_000 });

const etcd = etcdForThisFile();
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Member {
  node: ClusterNode;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

async function member(cluster: string, nodeId: number): Promise<Member> {
  const store = await LogStore.open({ dataDir: tempDir(), fsync: "never" });
  const logger = { error() {} };
  const node = new ClusterNode(store, { nodeId, etcd: [etcd.endpoint], name: cluster, leaseTtlSeconds: 2 }, logger);
  const app = buildBrokerApp(createBrokerContext({ store: new ReplicatedStore(store, node), logger }, node));
  // Replication factor 1 below: nobody fetches from these advertised URLs.
  await node.join(`http://127.0.0.1:${9000 + nodeId}`);
  cleanups.push(async () => {
    await node.close();
    await store.close();
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text === "" ? null : JSON.parse(text) };
  };
  return { node, call };
}

describe.skipIf(!hasEtcd)("a topic this broker's watch has not delivered yet", () => {
  it("is looked up in etcd and served at once; an unknown topic is still 404", async () => {
    const a = await member("lookup", 1);
    const b = await member("lookup", 2);
    const release = b.node.delayWatch();
    const created = await a.call("POST", "/v1/topics", { name: "t", partitions: 4 });
    expect(created.status).toBe(201);
    const leaders = (created.body.partitions as Array<{ leader: number }>).map((p) => p.leader);
    expect(new Set(leaders)).toEqual(new Set([1, 2]));
    expect(b.node.topic("t")).toBeUndefined();

    // A one-record produce to each partition through the broker that has not seen the topic.
    for (let p = 0; p < 4; p++) {
      const res = await b.call("POST", "/v1/topics/t/records", { records: [{ partition: p, value: `v${p}` }] });
      if (leaders[p] === 2) expect(res).toEqual({ status: 200, body: { offsets: [{ partition: p, offset: 0 }] } });
      else {
        expect(res.status).toBe(421);
        expect(res.body.error).toMatchObject({ code: "NOT_LEADER_OR_FOLLOWER", retriable: true });
        expect(res.body.error.message).toContain("node 1 (http://127.0.0.1:9001) leads it");
      }
    }
    expect(b.node.topic("t")?.partitions.map((p) => p.state.leader)).toEqual(leaders);
    // A follower's fetch names the topic id: one of another topic of that name (deleted, created again) is refused.
    const topicId = b.node.topic("t")!.topicId;
    const replica = (id: string) =>
      b.call("GET", `/v1/replica/topics/t/partitions/${leaders.indexOf(2)}/batches?offset=0&leaderEpoch=0&replicaId=1&topicId=${id}`);
    // (The right id passes; node 1 is then no follower of it at replication factor 1.)
    const same = await replica(topicId);
    expect(same.status).toBe(400);
    expect(same.body.error.message).toContain("is not a follower");
    const other = await replica(`${BigInt(topicId) - 1n}`);
    expect(other.status).toBe(421);
    expect(other.body.error.message).toContain(`leads topic t of id ${topicId}, not`);

    // A fetch and a describe of another new topic, also unseen.
    const u = await a.call("POST", "/v1/topics", { name: "u", partitions: 2 });
    expect(u.status).toBe(201);
    expect(b.node.topic("u")).toBeUndefined();
    // (Replication factor 1: a broker serves reads of the partitions it holds, here the one it leads.)
    const mine = (u.body.partitions as Array<{ leader: number }>).findIndex((p) => p.leader === 2);
    const fetched = await b.call("GET", `/v1/topics/u/partitions/${mine}/records?offset=0`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toMatchObject({ records: [], nextOffset: 0, highWatermark: 0 });
    const described = await b.call("GET", "/v1/topics/u");
    expect(described.status).toBe(200);
    expect(described.body.partitions.map((p: { leader: number }) => p.leader)).toEqual(u.body.partitions.map((p: { leader: number }) => p.leader));

    for (const path of ["/v1/topics/nope", "/v1/topics/nope/partitions/0/records?offset=0"]) {
      const res = await b.call("GET", path);
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION", retriable: false });
    }
    const refused = await b.call("POST", "/v1/topics/nope/records", { records: [{ value: "x" }] });
    expect(refused.status).toBe(404);

    // The held-back events then change nothing: the records stay where they are.
    release();
    await b.node.lookUpTopic("t");
    const p = leaders.indexOf(2);
    const read = await b.call("GET", `/v1/topics/t/partitions/${p}/records?offset=0`);
    expect(read.body.records.map((r: { value: string }) => r.value)).toEqual([`v${p}`]);
  });
});
