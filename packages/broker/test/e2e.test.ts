// End to end: a real broker on a free port, driven over HTTP by a port of the seed tutorial's clients.
import { afterEach, describe, expect, it } from "vitest";
import { startBroker, type StartBrokerResult } from "../src/index.js";
import { Consumer, drain, Producer, type SeedMessage } from "./helpers/seed-client.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { until } from "./helpers/wait.js";

const running: StartBrokerResult[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((b) => b.close()));
});

async function broker(options: Partial<Parameters<typeof startBroker>[0]> = {}) {
  const b = await startBroker({ dataDir: tempDir(), port: 0, ...options });
  running.push(b);
  return b;
}

const json = async (method: string, url: string, body?: unknown) => {
  const res = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? null : JSON.parse(text) };
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const byPartition = (messages: SeedMessage[]) => {
  const out: Record<number, number[]> = {};
  for (const m of messages) (out[m.partition_id] ??= []).push(m.message_offset);
  for (const offsets of Object.values(out)) offsets.sort((a, b) => a - b);
  return out;
};
type Assignment = Array<{ topic: string; partitions: number[] }>;
const flat = (a: Assignment) => a.flatMap(({ topic, partitions }) => partitions.map((p) => `${topic}-${p}`)).sort();

describe("end to end over HTTP", () => {
  it("replays the seed tutorial's example unchanged", async () => {
    const { url } = await broker();
    const TOPIC_NAME = "my_partitioned_topic";
    expect((await fetch(`${url}/topics/${TOPIC_NAME}/create?num_partitions=3`, { method: "POST" })).status).toBe(200);
    const producer1 = new Producer(fetch, url);
    const sent = [];
    for (let i = 0; i < 60; i++) sent.push(await producer1.send(TOPIC_NAME, `Hello, Mini Kafka! -- ${i}`));
    expect(sent).toEqual(range(60).map((i) => ({ message_offset: Math.floor(i / 3), partition_id: i % 3 })));

    const GROUP_ID = "my_consumer_group";
    const consumer1 = await Consumer.create(fetch, url, "consumer-1", TOPIC_NAME, GROUP_ID);
    const got1 = await drain(consumer1);
    const consumer2 = await Consumer.create(fetch, url, "consumer-2", TOPIC_NAME, GROUP_ID);
    const got2 = await drain(consumer2);
    const consumer3 = await Consumer.create(fetch, url, "consumer-3", TOPIC_NAME, GROUP_ID);
    const got3 = await drain(consumer3);
    // The group's committed offsets (not per-consumer cursors, the seed's bug): each message once.
    expect([got1.length, got2.length, got3.length]).toEqual([60, 0, 0]);
    expect(byPartition(got1)).toEqual({ 0: range(20), 1: range(20), 2: range(20) });
    expect(got1.filter((m) => m.partition_id === 1).map((m) => m.data)).toEqual(range(20).map((k) => `Hello, Mini Kafka! -- ${3 * k + 1}`));
  });

  it("delivers every message exactly once to three concurrent consumers", async () => {
    const { url } = await broker({ sessionTimeoutMs: 2_000, heartbeatIntervalMs: 200, tickIntervalMs: 50 });
    await fetch(`${url}/topics/orders/create?num_partitions=3`, { method: "POST" });
    const producer = new Producer(fetch, url);
    await Promise.all(range(60).map((i) => producer.send("orders", `m${i}`)));
    const consumers = await Promise.all(["c1", "c2", "c3"].map((id) => Consumer.create(fetch, url, id, "orders", "g")));
    const received: SeedMessage[][] = [[], [], []];
    let acked = 0;
    await Promise.all(
      consumers.map(async (consumer, i) => {
        const deadline = Date.now() + 15_000;
        while (acked < 60) {
          if (Date.now() > deadline) throw new Error(`consumer ${i} gave up with ${acked} of 60 acknowledged`);
          const msgs = await consumer.poll();
          for (const msg of msgs ?? []) {
            received[i]!.push(msg);
            await consumer.acknowledge(msg.message_offset, msg.partition_id);
            acked++;
          }
          // A consumer with nothing to do polls again soon: that is also its heartbeat.
          if (!msgs?.length) await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }),
    );
    const all = received.flat();
    expect(all.length).toBe(60);
    expect(byPartition(all)).toEqual({ 0: range(20), 1: range(20), 2: range(20) });
    expect(new Set(all.map((m) => m.data)).size).toBe(60);
    const group = await json("GET", `${url}/v1/groups/g`);
    expect(group.body.offsets.map((o: { committedOffset: number; lag: number }) => [o.committedOffset, o.lag])).toEqual([
      [20, 0],
      [20, 0],
      [20, 0],
    ]);
  });

  it("hands partitions over when a member leaves", async () => {
    const { url } = await broker();
    await json("POST", `${url}/v1/topics`, { name: "t", partitions: 4 });
    const a = (await json("POST", `${url}/v1/groups/g/members`, { topics: ["t"] })).body;
    const b = (await json("POST", `${url}/v1/groups/g/members`, { topics: ["t"] })).body;
    expect(flat(a.assignment)).toEqual(["t-0", "t-1", "t-2", "t-3"]);
    expect(b.assignment).toEqual([]);
    expect((await json("DELETE", `${url}/v1/groups/g/members/${a.memberId}`)).status).toBe(204);
    const beat = await json("POST", `${url}/v1/groups/g/members/${b.memberId}/heartbeat`, { memberEpoch: b.memberEpoch, ownedPartitions: [] });
    expect(flat(beat.body.assignment)).toEqual(["t-0", "t-1", "t-2", "t-3"]);
  });

  it("hands partitions over when a member goes silent (real clock, short session)", async () => {
    const { url } = await broker({ sessionTimeoutMs: 600, heartbeatIntervalMs: 100, tickIntervalMs: 50 });
    await json("POST", `${url}/v1/topics`, { name: "t", partitions: 4 });
    await json("POST", `${url}/v1/topics/t/records`, { records: range(4).map((p) => ({ value: `v${p}`, partition: p })) });
    // Before a joins: its session (600 ms) runs from its join, so nothing can expire it sooner than that after this.
    const started = Date.now();
    const a = (await json("POST", `${url}/v1/groups/g/members`, { topics: ["t"] })).body;
    let b = (await json("POST", `${url}/v1/groups/g/members`, { topics: ["t"] })).body;
    // a commits partition 0 and then says nothing more; b heartbeats as a consumer does until it owns everything.
    await json("POST", `${url}/v1/groups/g/offsets`, {
      memberId: a.memberId,
      memberEpoch: a.memberEpoch,
      offsets: [{ topic: "t", partition: 0, offset: 1 }],
    });
    const owned = await until(async () => {
      const beat = await json("POST", `${url}/v1/groups/g/members/${b.memberId}/heartbeat`, {
        memberEpoch: b.memberEpoch,
        ownedPartitions: b.assignment,
      });
      b = { ...b, ...beat.body };
      return flat(b.assignment).length === 4 ? flat(b.assignment) : undefined;
    });
    expect(owned).toEqual(["t-0", "t-1", "t-2", "t-3"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    // b continues from the group's committed offsets.
    const records = (await json("GET", `${url}/v1/groups/g/members/${b.memberId}/records`)).body.records;
    expect(records.map((r: { partition: number; offset: number }) => `${r.partition}@${r.offset}`)).toEqual(["1@0", "2@0", "3@0"]);
    expect((await json("GET", `${url}/v1/groups/g`)).body.members.map((m: { memberId: string }) => m.memberId)).toEqual([b.memberId]);
  });

  it("hands a silent seed consumer's partitions to the one still polling", async () => {
    const { url } = await broker({ sessionTimeoutMs: 600, heartbeatIntervalMs: 100, tickIntervalMs: 50 });
    await fetch(`${url}/topics/t/create?num_partitions=2`, { method: "POST" });
    const producer = new Producer(fetch, url);
    for (let i = 0; i < 4; i++) await producer.send("t", `m${i}`);
    const c1 = await Consumer.create(fetch, url, "c1", "t", "g");
    const c2 = await Consumer.create(fetch, url, "c2", "t", "g");
    // Both converge to one partition each (a few polls: revoke, release, assign).
    const shares = await until(async () => {
      const [m1, m2] = [await c1.poll(), await c2.poll()];
      return m1?.length === 1 && m2?.length === 1 ? [m1[0]!.partition_id, m2[0]!.partition_id] : undefined;
    });
    expect(shares.sort()).toEqual([0, 1]);
    // c2 stops; c1 keeps polling and gets both partitions once c2's session expires.
    const both = await until(async () => {
      const msgs = await c1.poll();
      return msgs?.length === 2 ? msgs.map((m) => m.partition_id).sort() : undefined;
    });
    expect(both).toEqual([0, 1]);
  });

  it("serves /metrics, /openapi.json and the error envelope over a real socket", async () => {
    const { url } = await broker();
    expect((await fetch(`${url}/metrics`)).headers.get("content-type")).toContain("text/plain");
    expect((await json("GET", `${url}/openapi.json`)).body.openapi).toBe("3.1.0");
    expect(await json("POST", `${url}/v1/topics`, { name: "..", partitions: 1 })).toMatchObject({
      status: 400,
      body: { error: { code: "INVALID_TOPIC_NAME" } },
    });
    // Raw "..": the URL is normalised before routing, nothing reaches a topic.
    expect(
      (await fetch(`${url}/v1/topics/%2e%2e/records`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status,
    ).toBe(404);
    const malformed = await fetch(`${url}/v1/topics`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect([malformed.status, ((await malformed.json()) as { error: { code: string } }).error.code]).toEqual([400, "INVALID_REQUEST"]);
  });
});
