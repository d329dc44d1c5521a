import { describe, expect, it } from "vitest";
import { createBrokerApp } from "../index.js";
import { envelope, openTestApp, type TestApp } from "../../test/helpers/test-app.js";

type Assignment = Array<{ topic: string; partitions: number[] }>;
const flat = (a: Assignment) => a.flatMap(({ topic, partitions }) => partitions.map((p) => `${topic}-${p}`)).sort();

async function setup(options: Parameters<typeof openTestApp>[0] = {}) {
  const t = await openTestApp({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, ...options });
  await t.call("POST", "/v1/topics", { name: "t", partitions: 4 });
  return t;
}

interface TestMember {
  id: string;
  epoch: number;
  owned: Assignment;
  heartbeat(owned?: Assignment): Promise<{ memberEpoch: number; assignment: Assignment; revokingPartitions: Assignment }>;
}

function member(t: TestApp, group: string, join: { memberId: string; memberEpoch: number; assignment: Assignment }): TestMember {
  const m: TestMember = {
    id: join.memberId,
    epoch: join.memberEpoch,
    owned: join.assignment,
    async heartbeat(owned: Assignment = m.owned) {
      const answer = await t.call("POST", `/v1/groups/${group}/members/${m.id}/heartbeat`, { memberEpoch: m.epoch, ownedPartitions: owned });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      m.epoch = answer.body.memberEpoch;
      m.owned = answer.body.assignment;
      return answer.body;
    },
  };
  return m;
}

async function join(t: TestApp, group: string, body: object = { topics: ["t"] }) {
  const answer = await t.call("POST", `/v1/groups/${group}/members`, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return member(t, group, answer.body);
}

describe("consumer group routes", () => {
  it("joins, rebalances with revoke-before-assign, and hands partitions over", async () => {
    const t = await setup();
    const first = await t.call("POST", "/v1/groups/g/members", { topics: ["t"] });
    expect(first).toMatchObject({
      status: 201,
      body: {
        memberId: expect.any(String),
        memberEpoch: 1,
        assignment: [{ topic: "t", partitions: [0, 1, 2, 3] }],
        heartbeatIntervalMs: 1_000,
        revokingPartitions: [],
        pendingPartitions: [],
      },
    });
    const a = member(t, "g", first.body);
    const b = await join(t, "g");
    expect(b.owned).toEqual([]); // everything is still a's
    const describedB = (await t.call("GET", "/v1/groups/g")).body.members[1];
    const targetB = flat(describedB.targetAssignment);
    expect(targetB.length).toBe(2);

    // a is told to give up b's share; it keeps owning it until it says so.
    const revoked = await a.heartbeat();
    expect(flat(revoked.revokingPartitions)).toEqual(targetB);
    expect(flat(revoked.assignment).filter((p) => targetB.includes(p))).toEqual([]);
    expect(flat((await b.heartbeat()).assignment)).toEqual([]);
    // a stops listing them: released, and b gets them.
    await a.heartbeat(revoked.assignment);
    expect(flat((await b.heartbeat()).assignment)).toEqual(targetB);
    expect([...flat(a.owned), ...flat(b.owned)].sort()).toEqual(["t-0", "t-1", "t-2", "t-3"]);
    const group = (await t.call("GET", "/v1/groups/g")).body;
    expect(group).toMatchObject({ groupId: "g", state: "stable", groupEpoch: 2, assignmentEpoch: 2 });
    expect(group.members.map((m: { memberId: string; instanceId: null; state: string }) => [m.memberId, m.instanceId, m.state])).toEqual([
      [a.id, null, "stable"],
      [b.id, null, "stable"],
    ]);
    expect((await t.call("GET", "/v1/groups")).body).toEqual({ groups: [{ groupId: "g", state: "stable", groupEpoch: 2, memberCount: 2 }] });
  });

  it("hands a leaving member's partitions over at once", async () => {
    const t = await setup();
    const a = await join(t, "g");
    const b = await join(t, "g");
    await a.heartbeat();
    await a.heartbeat(a.owned);
    await b.heartbeat();
    const aHad = flat(a.owned);
    expect(aHad.length).toBe(2);
    expect((await t.call("DELETE", `/v1/groups/g/members/${a.id}`)).status).toBe(204);
    expect(flat((await b.heartbeat()).assignment)).toEqual(["t-0", "t-1", "t-2", "t-3"]);
    expect(await t.call("POST", `/v1/groups/g/members/${a.id}/heartbeat`, { memberEpoch: a.epoch, ownedPartitions: [] })).toMatchObject({
      status: 404,
      body: envelope("UNKNOWN_MEMBER_ID"),
    });
    expect(await t.call("DELETE", `/v1/groups/g/members/${a.id}`)).toMatchObject({ status: 404, body: envelope("UNKNOWN_MEMBER_ID") });
  });

  it("hands a silent member's partitions over after the session timeout (manual clock)", async () => {
    const t = await setup();
    const a = await join(t, "g");
    const b = await join(t, "g");
    await a.heartbeat();
    await a.heartbeat(a.owned);
    await b.heartbeat();
    t.clock.advance(9_000);
    await b.heartbeat(); // b keeps its session alive; a says nothing
    t.clock.advance(1_000);
    expect((await t.call("GET", "/v1/groups/g")).body.members.length).toBe(2); // exactly the timeout: still alive
    t.clock.advance(1_001);
    expect(flat((await b.heartbeat()).assignment)).toEqual(["t-0", "t-1", "t-2", "t-3"]);
    expect(await t.call("POST", `/v1/groups/g/members/${a.id}/heartbeat`, { memberEpoch: a.epoch, ownedPartitions: a.owned })).toMatchObject({
      status: 404,
      body: envelope("UNKNOWN_MEMBER_ID"),
    });
  });

  it("a join's sessionTimeoutMs applies within minSessionTimeoutMs..maxSessionTimeoutMs; outside → 400 INVALID_SESSION_TIMEOUT", async () => {
    const t = await setup({ minSessionTimeoutMs: 6_000, maxSessionTimeoutMs: 60_000 });
    for (const sessionTimeoutMs of [5_999, 60_001]) {
      expect(await t.call("POST", "/v1/groups/g/members", { topics: ["t"], sessionTimeoutMs })).toMatchObject({
        status: 400,
        body: {
          error: {
            code: "INVALID_SESSION_TIMEOUT",
            message: `session timeout ${sessionTimeoutMs} ms is outside the broker's bounds, 6000 to 60000 ms`,
          },
        },
      });
    }
    expect((await t.call("POST", "/v1/groups/g/members", { topics: ["t"], sessionTimeoutMs: "6000" })).status).toBe(400);
    const short = await t.call("POST", "/v1/groups/g/members", { topics: ["t"], sessionTimeoutMs: 6_000 });
    expect(short.body.heartbeatIntervalMs).toBe(1_000);
    const long = await join(t, "g", { topics: ["t"], sessionTimeoutMs: 30_000 });
    // Both silent: the 6 s member goes after 6 s, the 30 s member outlives the broker's own 10 s.
    t.clock.advance(6_001);
    expect((await t.call("GET", "/v1/groups/g")).body.members.map((m: { memberId: string }) => m.memberId)).toEqual([long.id]);
    t.clock.advance(30_000 - 6_001);
    await long.heartbeat();
    expect((await t.call("GET", "/v1/groups/g")).body.members).toHaveLength(1);
    expect(short.body.memberId).not.toBe(long.id);
  });

  it("serves a member's records from the group's committed offsets and commits them", async () => {
    const t = await setup();
    await t.call("POST", "/v1/topics/t/records", {
      records: [0, 1, 2, 3].flatMap((p) => [
        { value: `${p}a`, partition: p },
        { value: `${p}b`, partition: p },
      ]),
    });
    const a = await join(t, "g");
    const fetch = async (q = "") => (await t.call("GET", `/v1/groups/g/members/${a.id}/records${q}`)).body.records;
    const all = await fetch();
    expect(all.map((r: { topic: string; partition: number; offset: number; value: string }) => [r.partition, r.offset, r.value])).toEqual([
      [0, 0, "0a"],
      [0, 1, "0b"],
      [1, 0, "1a"],
      [1, 1, "1b"],
      [2, 0, "2a"],
      [2, 1, "2b"],
      [3, 0, "3a"],
      [3, 1, "3b"],
    ]);
    expect(all[0]).toEqual({ topic: "t", partition: 0, offset: 0, timestamp: expect.any(Number), key: null, value: "0a", headers: {} });
    // The same records again until committed.
    expect(await fetch()).toEqual(all);
    const commit = await t.call("POST", "/v1/groups/g/offsets", {
      memberId: a.id,
      memberEpoch: a.epoch,
      offsets: [
        { topic: "t", partition: 0, offset: 2 },
        { topic: "t", partition: 2, offset: 1 },
      ],
    });
    expect(commit.status).toBe(204);
    expect((await fetch()).map((r: { partition: number; offset: number }) => `${r.partition}@${r.offset}`)).toEqual([
      "1@0",
      "1@1",
      "2@1",
      "3@0",
      "3@1",
    ]);
    // maxRecords bounds the whole answer, shared between partitions.
    expect((await fetch("?maxRecords=4")).map((r: { partition: number; offset: number }) => `${r.partition}@${r.offset}`)).toEqual([
      "1@0",
      "2@1",
      "3@0",
    ]);
    const described = (await t.call("GET", "/v1/groups/g")).body;
    expect(described.offsets).toEqual([
      { topic: "t", partition: 0, committedOffset: 2, logStartOffset: 0, highWatermark: 2, lag: 0 },
      { topic: "t", partition: 1, committedOffset: null, logStartOffset: 0, highWatermark: 2, lag: 2 },
      { topic: "t", partition: 2, committedOffset: 1, logStartOffset: 0, highWatermark: 2, lag: 1 },
      { topic: "t", partition: 3, committedOffset: null, logStartOffset: 0, highWatermark: 2, lag: 2 },
    ]);
    const metrics = (await t.call("GET", "/metrics")).body as string;
    expect(metrics).toContain('minikafka_group_lag{group="g",topic="t",partition="0"} 0');
    expect(metrics).toContain('minikafka_group_lag{group="g",topic="t",partition="2"} 1');
    expect(metrics).toContain('minikafka_group_members{group="g"} 1');
    expect(metrics).toContain("minikafka_group_rebalances_total 1");
  });

  it("caps a member fetch at maxRecords across all of its partitions", async () => {
    const t = await setup();
    const m = await join(t, "g");
    expect(flat(m.owned)).toEqual(["t-0", "t-1", "t-2", "t-3"]);
    for (let p = 0; p < 4; p++) {
      await t.call("POST", "/v1/topics/t/records", { records: [0, 1, 2].map((i) => ({ value: `p${p}-${i}`, partition: p })) });
    }
    // 4 partitions share maxRecords=5: 2 each are read, and the answer is trimmed to exactly 5.
    const answer = await t.call("GET", `/v1/groups/g/members/${m.id}/records?maxRecords=5`);
    expect(answer.status).toBe(200);
    expect(answer.body.records.map((r: { partition: number; value: string }) => `${r.partition}:${r.value}`)).toEqual([
      "0:p0-0",
      "0:p0-1",
      "1:p1-0",
      "1:p1-1",
      "2:p2-0",
    ]);
    expect(answer.body.records[0]).toEqual({
      topic: "t",
      partition: 0,
      offset: 0,
      timestamp: expect.any(Number),
      key: null,
      value: "p0-0",
      headers: {},
    });
  });

  it("reads from explicit positions so a consumer can fetch before its commit lands", async () => {
    const t = await setup();
    const m = await join(t, "g");
    await t.call("POST", "/v1/topics/t/records", { records: [0, 1, 2, 3].map((i) => ({ value: `v${i}`, partition: 1 })) });
    await t.call("POST", "/v1/topics/t/records", { records: [{ value: "w0", partition: 2 }] });
    const fetch = (query: string) => t.call("GET", `/v1/groups/g/members/${m.id}/records?${query}`);
    const values = (answer: { body: { records: Array<{ partition: number; value: string }> } }) =>
      answer.body.records.map((r) => `${r.partition}:${r.value}`);
    // Nothing committed: positions decide for the partitions they name, committed offsets for the rest.
    expect(values(await fetch("positions=t:1:2"))).toEqual(["1:v2", "1:v3", "2:w0"]);
    expect(values(await fetch("positions=t:1:4,t:2:1"))).toEqual([]);
    // A partition the member does not own is ignored; one past the high watermark is refused.
    expect(values(await fetch("positions=other:0:5,t:1:3"))).toEqual(["1:v3", "2:w0"]);
    expect(await fetch("positions=t:1:5")).toMatchObject({ status: 416, body: envelope("OFFSET_OUT_OF_RANGE") });
    // Beyond 2^53: compared and reported exactly (a double would say 9007199254740992); ignored where not owned.
    expect((await fetch("positions=t:1:9007199254740993")).body.error.message).toBe("position 9007199254740993 of t/1 is past its high watermark 4");
    expect(values(await fetch("positions=other:0:9999999999999999,t:1:3"))).toEqual(["1:v3", "2:w0"]);
    for (const bad of ["t:1", "t:1:x", "t:-1:0", "a/b:0:0", "t:1:2,t:1:3"]) {
      expect(await fetch(`positions=${encodeURIComponent(bad)}`), bad).toMatchObject({ status: 400, body: envelope("INVALID_REQUEST") });
    }
  });

  it("long-polls a member's partitions until a record arrives", async () => {
    const t = await setup();
    const a = await join(t, "g");
    const waiting = t.call("GET", `/v1/groups/g/members/${a.id}/records?waitMs=20000`);
    await t.call("POST", "/v1/topics/t/records", { records: [{ value: "late", partition: 3 }] });
    expect((await waiting).body.records.map((r: { partition: number; value: string }) => [r.partition, r.value])).toEqual([[3, "late"]]);
    // Nothing new: an empty answer after waitMs.
    await t.call("POST", "/v1/groups/g/offsets", { memberId: a.id, memberEpoch: a.epoch, offsets: [{ topic: "t", partition: 3, offset: 1 }] });
    expect((await t.call("GET", `/v1/groups/g/members/${a.id}/records?waitMs=20`)).body).toEqual({ records: [] });
  });

  it("fences commits: stale epoch, unowned partition, unknown member, offset past the end", async () => {
    const t = await setup();
    await t.call("POST", "/v1/topics/t/records", { records: [{ value: "x", partition: 0 }] });
    const a = await join(t, "g");
    const b = await join(t, "g");
    const oldEpoch = a.epoch;
    await a.heartbeat();
    await a.heartbeat(a.owned); // a moved to epoch 2
    await b.heartbeat();
    expect(a.epoch).toBe(2);
    const commit = (memberId: string, memberEpoch: number, partition: number, offset: number) =>
      t.call("POST", "/v1/groups/g/offsets", { memberId, memberEpoch, offsets: [{ topic: "t", partition, offset }] });
    const mine = Number(flat(a.owned)[0]!.slice(2));
    const theirs = Number(flat(b.owned)[0]!.slice(2));
    expect(await commit(a.id, oldEpoch, mine, 0)).toMatchObject({ status: 409, body: envelope("STALE_MEMBER_EPOCH", true) });
    expect(await commit(a.id, a.epoch + 1, mine, 0)).toMatchObject({ status: 409, body: envelope("FENCED_MEMBER_EPOCH") });
    expect(await commit(a.id, a.epoch, theirs, 0)).toMatchObject({ status: 409, body: envelope("UNASSIGNED_PARTITION") });
    expect(await commit("nobody", 1, mine, 0)).toMatchObject({ status: 404, body: envelope("UNKNOWN_MEMBER_ID") });
    expect(await commit(a.id, a.epoch, 9, 0)).toMatchObject({ status: 404, body: envelope("UNKNOWN_TOPIC_OR_PARTITION") });
    expect(await commit(a.id, a.epoch, mine, 5)).toMatchObject({ status: 416, body: envelope("OFFSET_OUT_OF_RANGE") });
    expect(
      (await t.call("POST", "/v1/groups/nope/offsets", { memberId: a.id, memberEpoch: 1, offsets: [{ topic: "t", partition: 0, offset: 0 }] })).body,
    ).toEqual(envelope("GROUP_ID_NOT_FOUND"));
  });

  it("keeps a static member's partitions when it comes back with the same instanceId", async () => {
    const t = await setup();
    const a = await join(t, "g", { topics: ["t"], instanceId: "host-1" });
    const b = await join(t, "g", { topics: ["t"], instanceId: "host-2" });
    await a.heartbeat();
    await a.heartbeat(a.owned);
    await b.heartbeat();
    const aHad = flat(a.owned);
    const again = await join(t, "g", { topics: ["t"], instanceId: "host-1" });
    expect(flat(again.owned)).toEqual(aHad);
    expect(await t.call("POST", `/v1/groups/g/members/${a.id}/heartbeat`, { memberEpoch: a.epoch, ownedPartitions: [] })).toMatchObject({
      status: 409,
      body: envelope("FENCED_INSTANCE_ID"),
    });
  });

  it("describes a group known only by its committed offsets (after a restart)", async () => {
    const t = await setup();
    await t.call("POST", "/v1/topics/t/records", {
      records: [
        { value: "x", partition: 1 },
        { value: "y", partition: 1 },
      ],
    });
    const a = await join(t, "g");
    await t.call("POST", "/v1/groups/g/offsets", { memberId: a.id, memberEpoch: a.epoch, offsets: [{ topic: "t", partition: 1, offset: 1 }] });
    // A new app over the same store: a fresh coordinator, the offsets are durable.
    const restarted = createBrokerApp({ store: t.store, logger: { error() {} } });
    const answer = await restarted.request("/v1/groups/g");
    expect(await answer.json()).toEqual({
      groupId: "g",
      state: "empty",
      groupEpoch: 0,
      assignmentEpoch: 0,
      members: [],
      offsets: [{ topic: "t", partition: 1, committedOffset: 1, logStartOffset: 0, highWatermark: 2, lag: 1 }],
    });
    expect((await restarted.request("/v1/groups/other")).status).toBe(404);
  });

  it("deletes an empty group with its committed offsets: 204, 409 while it has members, 404 when unknown", async () => {
    const t = await setup();
    await t.call("POST", "/v1/topics/t/records", { records: [{ value: "x", partition: 0 }] });
    const a = await join(t, "g");
    const commit = await t.call("POST", "/v1/groups/g/offsets", {
      memberId: a.id,
      memberEpoch: a.epoch,
      offsets: [{ topic: "t", partition: 0, offset: 1 }],
    });
    expect(commit.status).toBe(204);
    expect(await t.call("DELETE", "/v1/groups/g")).toMatchObject({ status: 409, body: envelope("NON_EMPTY_GROUP") });
    expect((await t.call("DELETE", "/v1/groups/g")).body.error.message).toBe("group g has 1 member; only an empty group can be deleted");
    expect((await t.call("DELETE", `/v1/groups/g/members/${a.id}`)).status).toBe(204);
    // Empty now, and kept for its committed offsets (retention has not expired them).
    expect((await t.call("GET", "/v1/groups")).body.groups.map((g: { groupId: string }) => g.groupId)).toEqual(["g"]);
    expect(await t.call("DELETE", "/v1/groups/g")).toMatchObject({ status: 204, body: null });
    expect((await t.call("GET", "/v1/groups")).body.groups).toEqual([]);
    expect(await t.store.committedOffsets("g")).toEqual([]);
    expect(await t.call("GET", "/v1/groups/g")).toMatchObject({ status: 404, body: envelope("GROUP_ID_NOT_FOUND") });
    expect(await t.call("DELETE", "/v1/groups/g")).toMatchObject({ status: 404, body: envelope("GROUP_ID_NOT_FOUND") });
    expect(await t.call("DELETE", "/v1/groups/bad%01id")).toMatchObject({ status: 400, body: envelope("INVALID_GROUP_ID") });
  });

  it("deletes a group known only by its committed offsets (after a restart)", async () => {
    const t = await setup();
    await t.call("POST", "/v1/topics/t/records", { records: [{ value: "x", partition: 0 }] });
    await t.store.commitOffsets("old", [{ topic: "t", partition: 0, offset: 1 }]);
    const restarted = createBrokerApp({ store: t.store, logger: { error() {} } });
    expect((await restarted.request("/v1/groups/old", { method: "DELETE" })).status).toBe(204);
    expect(await t.store.committedOffsets("old")).toEqual([]);
    expect((await restarted.request("/v1/groups/old")).status).toBe(404);
  });

  it("drops partitions of a deleted topic and assigns new ones when a topic grows", async () => {
    const t = await setup();
    const a = await join(t, "g");
    await t.call("POST", "/v1/topics/t/partitions", { count: 6 });
    expect(flat((await a.heartbeat()).assignment)).toEqual(["t-0", "t-1", "t-2", "t-3", "t-4", "t-5"]);
    await t.call("DELETE", "/v1/topics/t");
    expect((await a.heartbeat()).assignment).toEqual([]);
    expect((await t.call("GET", `/v1/groups/g/members/${a.id}/records?waitMs=10`)).body).toEqual({ records: [] });
  });

  it.each([
    ["a control character in the group id", "POST", "/v1/groups/a%01b/members", { topics: ["t"] }, 400, "INVALID_GROUP_ID"],
    ["a 250-character group id", "POST", `/v1/groups/${"g".repeat(250)}/members`, { topics: ["t"] }, 400, "INVALID_GROUP_ID"],
    ["no topics", "POST", "/v1/groups/g/members", { topics: [] }, 400, "INVALID_REQUEST"],
    ["a bad topic name", "POST", "/v1/groups/g/members", { topics: ["a/b"] }, 400, "INVALID_TOPIC_NAME"],
    ["an unknown field", "POST", "/v1/groups/g/members", { topics: ["t"], rebalanceTimeoutMs: 1 }, 400, "INVALID_REQUEST"],
    ["a zero epoch", "POST", "/v1/groups/g/members/m/heartbeat", { memberEpoch: 0, ownedPartitions: [] }, 400, "INVALID_REQUEST"],
    [
      "a malformed owned set",
      "POST",
      "/v1/groups/g/members/m/heartbeat",
      { memberEpoch: 1, ownedPartitions: [{ topic: "t" }] },
      400,
      "INVALID_REQUEST",
    ],
    ["an unknown group", "POST", "/v1/groups/nope/members/m/heartbeat", { memberEpoch: 1, ownedPartitions: [] }, 404, "GROUP_ID_NOT_FOUND"],
    ["an unknown group to describe", "GET", "/v1/groups/nope", undefined, 404, "GROUP_ID_NOT_FOUND"],
    ["an unknown member's records", "GET", "/v1/groups/g/members/nobody/records", undefined, 404, "UNKNOWN_MEMBER_ID"],
    ["an empty commit", "POST", "/v1/groups/g/offsets", { memberId: "m", memberEpoch: 1, offsets: [] }, 400, "INVALID_REQUEST"],
    [
      "a negative offset",
      "POST",
      "/v1/groups/g/offsets",
      { memberId: "m", memberEpoch: 1, offsets: [{ topic: "t", partition: 0, offset: -1 }] },
      400,
      "INVALID_REQUEST",
    ],
    ["a negative waitMs", "GET", "/v1/groups/g/members/m/records?waitMs=-1", undefined, 400, "INVALID_REQUEST"],
    [
      "a commit offset beyond 2^53",
      "POST",
      "/v1/groups/g/offsets",
      { memberId: "m", memberEpoch: 1, offsets: [{ topic: "t", partition: 0, offset: 2 ** 53 }] },
      400,
      "INVALID_REQUEST",
      "body field offsets[0].offset must be <= 9007199254740991, got 9007199254740992 (beyond 2^53, not exact)",
    ],
  ])("answers %s with an error naming it", async (_, method, path, body, status, code, message?: string) => {
    const t = await setup();
    await join(t, "g");
    expect(await t.call(method, path, body)).toMatchObject({ status, body: envelope(code) });
    if (message !== undefined) expect((await t.call(method, path, body)).body.error.message).toBe(message);
  });
});
