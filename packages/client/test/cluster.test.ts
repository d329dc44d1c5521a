// The client against a real cluster: three brokers in cluster mode (in this process, port 0) over a real
// etcd. Given all three URLs, the client reads the metadata once and sends each partition's records to its
// leader, splitting a request whose partitions have different leaders; after a leader is closed, sends keep
// succeeding (the metadata is read again, batches go to the new leaders with the same producer numbers), with
// nothing lost or doubled. A single-node broker is still one URL and no metadata request after the first.
import { afterEach, describe, expect, it } from "vitest";
import { startBroker, type StartBrokerResult } from "@minikafka/broker";
import { etcdForThisFile, hasEtcd } from "../../../test-support/etcd-suite.js";
import { freePort } from "../../../test-support/free-port.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { partitionForKey } from "@minikafka/partitioner";
import { systemClock } from "../src/clock.js";
import { createClient, type FetchFunction, type RecordMetadata } from "../src/index.js";

const etcd = etcdForThisFile();
let clusterSeq = 0;
const running = new Set<StartBrokerResult>();

afterEach(async () => {
  await Promise.all([...running].map((b) => b.close()));
  running.clear();
});

interface PartitionView {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}
interface Metadata {
  brokers: Array<{ nodeId: number; url: string }>;
  topics: Array<{ name: string; partitions: PartitionView[] }>;
}

async function startNode(name: string, nodeId: number): Promise<StartBrokerResult> {
  const broker = await startBroker({
    dataDir: tempDir(),
    port: 0,
    streams: false,
    cluster: { nodeId, etcd: [etcd.endpoint], name, leaseTtlSeconds: 2, replicaLagTimeMs: 2_000, ackTimeoutMs: 10_000 },
  });
  running.add(broker);
  return broker;
}

const metadata = async (url: string): Promise<Metadata> => (await fetch(`${url}/v1/metadata`)).json() as Promise<Metadata>;

/** Polls `probe` until it returns a value, for at most `timeoutMs` (there is no event to await across brokers). */
async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every broker lists the topic with a live leader for each partition: the leaders (node ids) per partition. */
async function settledLeaders(urls: readonly string[], topic: string, partitions: number): Promise<number[]> {
  const views = await Promise.all(
    urls.map((url) =>
      until(async () => {
        const p = (await metadata(url)).topics.find((t) => t.name === topic)?.partitions;
        return p !== undefined && p.length === partitions && p.every((x) => x.leader > 0) ? p.map((x) => x.leader) : undefined;
      }),
    ),
  );
  for (const v of views) expect(v).toEqual(views[0]);
  return views[0]!;
}

/** The values of a partition, read from `url` up to its high watermark, checking that offsets are dense. */
async function readPartition(url: string, topic: string, partition: number): Promise<string[]> {
  const values: string[] = [];
  for (;;) {
    const res = await fetch(`${url}/v1/topics/${topic}/partitions/${partition}/records?offset=${values.length}&maxRecords=5000`);
    const body = (await res.json()) as { records: Array<{ offset: number; value: string }>; highWatermark: number };
    for (const r of body.records) {
      expect(r.offset).toBe(values.length);
      values.push(r.value);
    }
    if (body.records.length === 0 || values.length >= body.highWatermark) return values;
  }
}

/** A pass-through `fetch` that records where each request went (the brokers are real; nothing is faked). */
function recording(): { fetch: FetchFunction; requests: Array<{ method: string; url: URL; body: any }> } {
  const requests: Array<{ method: string; url: URL; body: any }> = [];
  return {
    requests,
    fetch: async (input, init) => {
      const request = input instanceof Request ? input : new Request(input, init);
      const text = request.method === "POST" ? await request.clone().text() : "";
      requests.push({ method: request.method, url: new URL(request.url), body: text === "" ? undefined : JSON.parse(text) });
      return fetch(request);
    },
  };
}

const produces = (requests: ReturnType<typeof recording>["requests"]) =>
  requests.filter((r) => r.method === "POST" && r.url.pathname.endsWith("/records"));
const metadataRequests = (requests: ReturnType<typeof recording>["requests"]) => requests.filter((r) => r.url.pathname === "/v1/metadata");

describe.skipIf(!hasEtcd)("the client against a cluster on a real etcd", () => {
  it("sends every partition's records to its leader, in order, splitting a request per leader and merging the answers in request order", async () => {
    const name = `client${++clusterSeq}`;
    const nodes = [await startNode(name, 1), await startNode(name, 2), await startNode(name, 3)];
    const urls = nodes.map((n) => n.url);
    const wire = recording();
    const kafka = createClient({ brokers: urls, fetch: wire.fetch });
    expect(await kafka.admin().createTopics({ topics: [{ topic: "orders", numPartitions: 6, replicationFactor: 3, minInsyncReplicas: 2 }] })).toBe(
      true,
    );
    const leaders = await settledLeaders(urls, "orders", 6);
    expect(new Set(leaders).size).toBe(3); // spread: a request over all partitions has three leaders
    const described = (await kafka.admin().describeTopics({ topics: ["orders"] }))[0]!;
    expect(described.replicationFactor).toBe(3);
    expect(described.minInsyncReplicas).toBe(2);
    expect(described.partitions.map((p) => p.leader)).toEqual(leaders);

    const producer = kafka.producer();
    const sent = new Map<number, string[]>();
    for (let round = 0; round < 5; round++) {
      // One send over all six partitions: one request per leader, answers back in message order.
      const messages = Array.from({ length: 12 }, (_, i) => ({ partition: i % 6, value: `r${round}-m${i}` }));
      const results = await producer.send({ topic: "orders", messages });
      expect(results.map((r) => r.partition)).toEqual(messages.map((m) => m.partition));
      for (let i = 0; i < messages.length; i++) {
        const values = sent.get(messages[i]!.partition) ?? [];
        // Offsets follow the send order in each partition: this send's two messages of a partition in turn.
        expect(results[i]!.offset).toBe(values.length);
        values.push(messages[i]!.value);
        sent.set(messages[i]!.partition, values);
      }
    }
    await producer.disconnect();

    const urlOf = new Map(nodes.map((n, i) => [i + 1, new URL(n.url).host]));
    const posted = produces(wire.requests);
    expect(posted.length).toBe(15); // 5 sends × 3 leaders
    for (const request of posted) {
      const partitions = new Set<number>(request.body.records.map((r: { partition: number }) => r.partition));
      expect(partitions.size).toBe(2);
      for (const p of partitions) expect(request.url.host).toBe(urlOf.get(leaders[p]!));
      // Each request carries the producer numbers of exactly its own partitions.
      expect(request.body.sequences.map((s: { partition: number }) => s.partition).sort()).toEqual([...partitions].sort());
    }
    // Read by the first admin call, and again once by the first send: the topic was created since.
    expect(metadataRequests(wire.requests).length).toBe(2);
    for (let p = 0; p < 6; p++) expect(await readPartition(nodes[leaders[p]! - 1]!.url, "orders", p)).toEqual(sent.get(p));
  }, 60_000);

  it("keeps sending through a leader's shutdown: the metadata is read again, nothing acknowledged is lost or doubled", async () => {
    const name = `client${++clusterSeq}`;
    const nodes = [await startNode(name, 1), await startNode(name, 2), await startNode(name, 3)];
    const urls = nodes.map((n) => n.url);
    const wire = recording();
    // Enough retries to outlast a leader change (the lease is 2 s here).
    const kafka = createClient({ brokers: urls, fetch: wire.fetch, retry: { retries: 12, initialRetryTimeMs: 100, maxRetryTimeMs: 1_000 } });
    await kafka.admin().createTopics({ topics: [{ topic: "t", numPartitions: 6, replicationFactor: 3, minInsyncReplicas: 2 }] });
    const leaders = await settledLeaders(urls, "t", 6);

    const producer = kafka.producer();
    const sent = new Map<number, string[]>();
    const acknowledged: Array<{ value: string; at: RecordMetadata }> = [];
    let seq = 0;
    const sendRound = async () => {
      const messages = Array.from({ length: 6 }, (_, p) => ({ partition: p, value: `v${seq++}` }));
      for (const m of messages) sent.set(m.partition, [...(sent.get(m.partition) ?? []), m.value]);
      const results = await producer.send({ topic: "t", messages });
      results.forEach((at, i) => acknowledged.push({ value: messages[i]!.value, at }));
    };
    for (let i = 0; i < 5; i++) await sendRound();

    // Close the broker leading partition 1 (not node 1, the client's home broker for producer ids and
    // descriptions: that one stays up here) while sends are in flight.
    const victimId = leaders[1] === 1 ? leaders.find((l) => l !== 1)! : leaders[1]!;
    const victim = nodes[victimId - 1]!;
    const inFlight = [sendRound(), sendRound(), sendRound()];
    running.delete(victim);
    await victim.close();
    await Promise.all(inFlight);
    for (let i = 0; i < 10; i++) await sendRound();
    await producer.disconnect();

    expect(metadataRequests(wire.requests).length).toBeGreaterThan(1);
    const survivors = nodes.filter((n) => n !== victim).map((n) => n.url);
    const after = await settledLeaders(survivors, "t", 6);
    expect(after).not.toContain(victimId);
    // The later sends went to the new leaders only.
    const lastRequests = produces(wire.requests).slice(-6);
    for (const r of lastRequests) expect(r.url.host).not.toBe(new URL(victim.url).host);
    for (let p = 0; p < 6; p++) {
      const values = await until(async () => {
        const v = await readPartition(nodes[after[p]! - 1]!.url, "t", p);
        return v.length === sent.get(p)!.length ? v : undefined;
      });
      // Every record once, in send order, at the offset its send was told.
      expect(values).toEqual(sent.get(p));
    }
    for (const { value, at } of acknowledged) expect(sent.get(at.partition)![at.offset]).toBe(value);
    expect(acknowledged.length).toBe(seq);
  }, 90_000);
});

describe.skipIf(!hasEtcd)("the client's home broker and group coordinators in a cluster", () => {
  it("skips a bootstrap broker that is down, and sends a consumer group's calls to the group's coordinator", async () => {
    const name = `client${++clusterSeq}`;
    const nodes = [await startNode(name, 1), await startNode(name, 2), await startNode(name, 3)];
    const dead = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    const wire = recording();
    const kafka = createClient({ brokers: [dead, nodes[1]!.url, nodes[0]!.url, nodes[2]!.url], fetch: wire.fetch });
    await kafka.admin().createTopics({ topics: [{ topic: "t", numPartitions: 6, replicationFactor: 3 }] });
    await settledLeaders(
      nodes.map((n) => n.url),
      "t",
      6,
    );
    const producer = kafka.producer();
    const values = Array.from({ length: 30 }, (_, i) => `v${i}`);
    await producer.send({ topic: "t", messages: values.map((value, i) => ({ partition: i % 6, value })) });
    await producer.disconnect();

    // A group coordinated by another broker than the client's home (nodes[1]): its calls must go there.
    const coordinatorOf = (groupId: string) =>
      until(async () => {
        const res = await fetch(`${nodes[0]!.url}/v1/groups/${groupId}/coordinator`);
        return res.status === 200 ? ((await res.json()) as { nodeId: number; url: string }) : undefined;
      });
    let groupId = "";
    let coordinator!: { nodeId: number; url: string };
    for (let i = 0; coordinator === undefined || coordinator.url === nodes[1]!.url; i++) coordinator = await coordinatorOf((groupId = `g${i}`));
    const consumer = kafka.consumer({ groupId, fromBeginning: true, messageFormat: "text" });
    await consumer.subscribe({ topics: ["t"] });
    const seen: string[] = [];
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value!);
        if (seen.length === values.length) done();
      },
    });
    await all;
    await consumer.disconnect();
    expect(seen.sort()).toEqual([...values].sort());

    // The metadata was asked of the dead broker first, then of the next: the first live one is home (and
    // asked again for the topic created since).
    const asked = metadataRequests(wire.requests).map((r) => r.url.origin);
    expect(asked).toEqual([dead, nodes[1]!.url, nodes[1]!.url]);
    // The coordinator was asked of the home broker, once; every call of the group went to the coordinator.
    const lookups = wire.requests.filter((r) => r.url.pathname === `/v1/groups/${groupId}/coordinator`);
    expect(lookups.map((r) => r.url.origin)).toEqual([nodes[1]!.url]);
    const groupCalls = wire.requests.filter((r) => r.url.pathname.startsWith(`/v1/groups/${groupId}/`) && !r.url.pathname.endsWith("/coordinator"));
    expect(groupCalls.length).toBeGreaterThan(2); // join, heartbeats, fetches, commits, leave
    for (const r of groupCalls) expect(r.url.origin).toBe(coordinator.url);
    // The committed offsets are the coordinator's: every record is committed.
    const offsets = await kafka.admin().fetchOffsets({ groupId });
    expect(offsets[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0)).toBe(values.length);
    // Only the metadata request went to the dead broker: everything else learned of the home broker first.
    expect(wire.requests.filter((r) => r.url.origin === dead).length).toBe(1);
  }, 60_000);
});

describe.skipIf(!hasEtcd)("a consumer's partition fetches in a cluster", () => {
  it("reads each partition from its leader while one partition is paused", async () => {
    const name = `client${++clusterSeq}`;
    const nodes = [await startNode(name, 1), await startNode(name, 2), await startNode(name, 3)];
    const urls = nodes.map((n) => n.url);
    const wire = recording();
    const kafka = createClient({ brokers: urls, fetch: wire.fetch });
    await kafka.admin().createTopics({ topics: [{ topic: "t", numPartitions: 6, replicationFactor: 3 }] });
    const leaders = await settledLeaders(urls, "t", 6);
    const producer = kafka.producer();
    await producer.send({ topic: "t", messages: Array.from({ length: 30 }, (_, i) => ({ partition: i % 6, value: `v${i}` })) });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: "paused", fromBeginning: true, messageFormat: "text" });
    await consumer.subscribe({ topics: ["t"] });
    // With a partition paused, the member fetch would serve it too: the consumer fetches partition by partition.
    consumer.pause([{ topic: "t", partitions: [0] }]);
    const seen: Array<{ partition: number; value: string }> = [];
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({ partition, value: message.value! });
        if (seen.length === 25) done();
      },
    });
    await all;
    await consumer.disconnect();
    expect(seen.filter((r) => r.partition === 0)).toEqual([]);
    expect(seen.map((r) => r.value).sort()).toEqual(
      Array.from({ length: 30 }, (_, i) => `v${i}`)
        .filter((_, i) => i % 6 !== 0)
        .sort(),
    );

    const hostOf = new Map(nodes.map((n, i) => [i + 1, new URL(n.url).host]));
    const fetches = wire.requests.filter((r) => r.method === "GET" && /^\/v1\/topics\/t\/partitions\/\d+\/records$/.test(r.url.pathname));
    expect(new Set(fetches.map((r) => Number(r.url.pathname.split("/")[5]))).size).toBe(5);
    for (const r of fetches) expect(r.url.host).toBe(hostOf.get(leaders[Number(r.url.pathname.split("/")[5])]!));
  }, 60_000);
});

describe.skipIf(!hasEtcd)("the client's cluster metadata", () => {
  it("is read again once older than metadataMaxAgeMs and after UNKNOWN_TOPIC_OR_PARTITION; listGroups asks every broker", async () => {
    const name = `client${++clusterSeq}`;
    const nodes = [await startNode(name, 1), await startNode(name, 2), await startNode(name, 3)];
    const urls = nodes.map((n) => n.url);
    const wire = recording();
    // The system clock, ahead by `skew`: the metadata grows old without waiting for it.
    let skew = 0;
    const clock = { ...systemClock, now: () => Date.now() + skew };
    const kafka = createClient({ brokers: urls, fetch: wire.fetch, clock, metadataMaxAgeMs: 60_000 });
    const admin = kafka.admin();
    await admin.createTopics({ topics: [{ topic: "t", numPartitions: 3, replicationFactor: 3 }] });
    await settledLeaders(urls, "t", 3);
    const producer = kafka.producer();
    const asked = () => metadataRequests(wire.requests).length;
    await producer.send({ topic: "t", messages: [{ partition: 0, value: "a" }] });
    const before = asked();
    await producer.send({ topic: "t", messages: [{ partition: 0, value: "b" }] });
    expect(asked()).toBe(before);
    skew = 60_000;
    await producer.send({ topic: "t", messages: [{ partition: 0, value: "c" }] });
    await until(async () => (asked() === before + 1 ? true : undefined));
    await producer.send({ topic: "t", messages: [{ partition: 0, value: "d" }] });
    expect(asked()).toBe(before + 1);

    // Deleted and created again with one partition: a key of partition 2 (by the cached count) is refused
    // with UNKNOWN_TOPIC_OR_PARTITION; the client reads the metadata and the count again and sends it to partition 0.
    await admin.deleteTopics({ topics: ["t"] });
    await admin.createTopics({ topics: [{ topic: "t", numPartitions: 1, replicationFactor: 3 }] });
    await settledLeaders(urls, "t", 1);
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => partitionForKey(k, 3) === 2)!;
    const refreshedBefore = asked();
    expect(await producer.send({ topic: "t", messages: [{ key, value: "again" }] })).toEqual([{ partition: 0, offset: 0 }]);
    expect(asked()).toBe(refreshedBefore + 1);
    await producer.disconnect();

    // Two groups coordinated by different brokers, each with a member: every broker lists only its own.
    const coordinators = new Map<number, string>();
    for (let i = 0; coordinators.size < 2; i++) {
      const coordinator = await until(async () => {
        const res = await fetch(`${urls[0]}/v1/groups/g${i}/coordinator`);
        return res.status === 200 ? ((await res.json()) as { nodeId: number; url: string }) : undefined;
      });
      if (coordinators.has(coordinator.nodeId)) continue;
      coordinators.set(coordinator.nodeId, `g${i}`);
      const joined = await fetch(`${coordinator.url}/v1/groups/g${i}/members`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ topics: ["t"] }),
      });
      expect(joined.status).toBe(201);
    }
    const groupIds = [...coordinators.values()].sort();
    const own = (await (await fetch(`${urls[[...coordinators.keys()][0]! - 1]}/v1/groups`)).json()) as { groups: Array<{ groupId: string }> };
    expect(own.groups.map((g) => g.groupId)).toEqual([coordinators.get([...coordinators.keys()][0]!)]);
    const listed = await admin.listGroups();
    expect(listed.groups.map((g) => g.groupId)).toEqual(groupIds);
  }, 60_000);
});

describe("the client against a single-node broker", () => {
  it("sends everything to its one URL, reading the (empty) metadata once", async () => {
    const broker = await startBroker({ dataDir: tempDir(), port: 0, streams: false });
    running.add(broker);
    const wire = recording();
    const kafka = createClient({ brokers: broker.url, fetch: wire.fetch });
    await kafka.admin().createTopics({ topics: [{ topic: "t", numPartitions: 3 }] });
    const producer = kafka.producer();
    for (let i = 0; i < 5; i++) {
      const results = await producer.send({ topic: "t", messages: [0, 1, 2].map((p) => ({ partition: p, value: `v${i}` })) });
      expect(results).toEqual([0, 1, 2].map((p) => ({ partition: p, offset: i })));
    }
    await producer.disconnect();
    const host = new URL(broker.url).host;
    for (const r of wire.requests) expect(r.url.host).toBe(host);
    expect(metadataRequests(wire.requests).length).toBe(1);
    expect(produces(wire.requests).length).toBe(5); // one request per send, as always
    const refused = await kafka
      .admin()
      .createTopics({ topics: [{ topic: "r", replicationFactor: 2 }] })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "INVALID_REPLICATION_FACTOR", status: 400 });
  });
});
