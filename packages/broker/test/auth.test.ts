// The token × route × ACL matrix: every route, called by every kind of caller, answers exactly 401, 403 or
// its success status, and a refused call changes nothing.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { AclEntry, AuthOptions } from "../src/index.js";
import { envelope, openTestApp, type TestApp } from "./helpers/test-app.js";

const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");
const TOKENS = { admin: "tok-admin.0123", alice: "tok-alice.4567", bob: "tok-bob.89ab", eve: "tok-eve.cdef" } as const;
type Who = keyof typeof TOKENS;

const auth: AuthOptions = {
  principals: (Object.keys(TOKENS) as Who[]).map((name) => ({ name, tokenSha256: sha256(TOKENS[name]) })),
  superUsers: ["admin"],
};
const acls: AclEntry[] = [
  // alice: writes and describes every orders.* topic, reads only orders.eu, never touches orders.secret.
  { principal: "alice", resource: "topic", name: "orders.", pattern: "prefixed", operations: ["write", "describe"], permission: "allow" },
  { principal: "alice", resource: "topic", name: "orders.eu", pattern: "literal", operations: ["read"], permission: "allow" },
  { principal: "alice", resource: "topic", name: "orders.secret", pattern: "literal", operations: ["all"], permission: "deny" },
  { principal: "alice", resource: "group", name: "g1", pattern: "literal", operations: ["read", "describe"], permission: "allow" },
  { principal: "alice", resource: "group", name: "s1", operations: ["read"], permission: "allow" },
  { principal: "alice", resource: "cluster", name: "*", pattern: "literal", operations: ["describe"], permission: "allow" },
  // bob: everything on every topic but writing orders.*; groups b-*; may create topics (cluster create).
  { principal: "bob", resource: "topic", name: "*", pattern: "literal", operations: ["all"], permission: "allow" },
  { principal: "bob", resource: "topic", name: "orders.", pattern: "prefixed", operations: ["write"], permission: "deny" },
  { principal: "bob", resource: "group", name: "b-", pattern: "prefixed", operations: ["all"], permission: "allow" },
  { principal: "bob", resource: "cluster", name: "kafka-cluster", operations: ["create"], permission: "allow" },
  // eve: authenticated, no ACL at all.
];

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

interface World extends TestApp {
  as(who: Who | Record<string, string>, method: string, path: string, body?: unknown): ReturnType<TestApp["call"]>;
  /** g1's member (orders.eu), for member routes. */
  member: { id: string; epoch: number };
  /** Everything a call could change, read as the super user. */
  snapshot(): Promise<unknown>;
}

async function world(): Promise<World> {
  const t = await openTestApp({ auth, acls });
  const as = (who: Who | Record<string, string>, method: string, path: string, body?: unknown) =>
    t.call(method, path, body, typeof who === "string" ? bearer(TOKENS[who]) : who);
  for (const name of ["orders.eu", "orders.eu2", "orders.secret", "other"]) {
    expect((await as("admin", "POST", "/v1/topics", { name, partitions: 1 })).status).toBe(201);
    expect((await as("admin", "POST", `/v1/topics/${name}/records`, { records: [{ value: "v" }] })).status).toBe(200);
  }
  const joined = await as("admin", "POST", "/v1/groups/g1/members", { topics: ["orders.eu"] });
  expect(joined.status).toBe(201);
  // An empty group with committed offsets (deletable).
  const old = await as("admin", "POST", "/v1/groups/b-old/members", { topics: ["other"] });
  const commit = { memberId: old.body.memberId, memberEpoch: old.body.memberEpoch, offsets: [{ topic: "other", partition: 0, offset: 1 }] };
  expect((await as("admin", "POST", "/v1/groups/b-old/offsets", commit)).status).toBe(204);
  expect((await as("admin", "DELETE", `/v1/groups/b-old/members/${old.body.memberId}`)).status).toBe(204);
  // A seed consumer of orders.eu in s1 (for the poll and the ack).
  expect((await as("admin", "POST", "/topics/orders.eu/groups/s1/subscribe?consumer_id=c9")).body).toEqual({ assigned_partitions: [0] });
  const snapshot = async () => {
    const topics = (await as("admin", "GET", "/v1/topics")).body.topics.map((x: { name: string; partitions: Array<{ logEndOffset: number }> }) => [
      x.name,
      x.partitions.map((p) => p.logEndOffset),
    ]);
    const groups = [];
    for (const { groupId } of (await as("admin", "GET", "/v1/groups")).body.groups)
      groups.push((await as("admin", "GET", `/v1/groups/${groupId}`)).body);
    return { topics, groups };
  };
  return { ...t, as, member: { id: joined.body.memberId, epoch: joined.body.memberEpoch }, snapshot };
}

type Expect = Record<Who, number>;
interface Case {
  route: string;
  request(w: World): [method: string, path: string, body?: unknown];
  expect: Expect;
}
const all = (admin: number, alice: number, bob: number, eve: number): Expect => ({ admin, alice, bob, eve });

const CASES: Case[] = [
  {
    route: "create topic (prefix allow without create)",
    request: () => ["POST", "/v1/topics", { name: "orders.x", partitions: 1 }],
    expect: all(201, 403, 201, 403),
  },
  { route: "describe topic", request: () => ["GET", "/v1/topics/orders.eu"], expect: all(200, 200, 200, 403) },
  { route: "describe a denied topic", request: () => ["GET", "/v1/topics/orders.secret"], expect: all(200, 403, 200, 403) },
  { route: "describe a missing topic", request: () => ["GET", "/v1/topics/orders.none"], expect: all(404, 404, 404, 403) },
  { route: "grow topic", request: () => ["POST", "/v1/topics/orders.eu/partitions", { count: 2 }], expect: all(200, 403, 200, 403) },
  { route: "delete topic", request: () => ["DELETE", "/v1/topics/other"], expect: all(204, 403, 204, 403) },
  {
    route: "produce (literal)",
    request: () => ["POST", "/v1/topics/orders.eu/records", { records: [{ value: "x" }] }],
    expect: all(200, 200, 403, 403),
  },
  {
    route: "idempotent produce",
    request: () => [
      "POST",
      "/v1/topics/orders.eu/records",
      { producerId: 41, producerEpoch: 0, sequences: [{ partition: 0, sequence: 0 }], records: [{ value: "x", partition: 0 }] },
    ],
    expect: all(200, 200, 403, 403),
  },
  // Any authenticated principal may get ids (they are not credentials); producing still needs write.
  { route: "init producer id", request: () => ["POST", "/v1/producers"], expect: all(201, 201, 201, 201) },
  {
    route: "produce (prefixed)",
    request: () => ["POST", "/v1/topics/orders.eu2/records", { records: [{ value: "x" }] }],
    expect: all(200, 200, 403, 403),
  },
  {
    route: "produce (deny wins)",
    request: () => ["POST", "/v1/topics/orders.secret/records", { records: [{ value: "x" }] }],
    expect: all(200, 403, 403, 403),
  },
  {
    route: "produce (literal *)",
    request: () => ["POST", "/v1/topics/other/records", { records: [{ value: "x" }] }],
    expect: all(200, 403, 200, 403),
  },
  { route: "fetch (literal)", request: () => ["GET", "/v1/topics/orders.eu/partitions/0/records?offset=0"], expect: all(200, 200, 200, 403) },
  {
    route: "fetch (literal is no prefix)",
    request: () => ["GET", "/v1/topics/orders.eu2/partitions/0/records?offset=0"],
    expect: all(200, 403, 200, 403),
  },
  { route: "join", request: () => ["POST", "/v1/groups/g1/members", { topics: ["orders.eu"] }], expect: all(201, 201, 403, 403) },
  {
    route: "join (a topic not readable)",
    request: () => ["POST", "/v1/groups/g1/members", { topics: ["orders.eu", "orders.eu2"] }],
    expect: all(201, 403, 403, 403),
  },
  { route: "join (prefixed group)", request: () => ["POST", "/v1/groups/b-2/members", { topics: ["orders.eu"] }], expect: all(201, 403, 201, 403) },
  {
    route: "heartbeat",
    request: (w) => ["POST", `/v1/groups/g1/members/${w.member.id}/heartbeat`, { memberEpoch: w.member.epoch, ownedPartitions: [] }],
    expect: all(200, 200, 403, 403),
  },
  { route: "member fetch", request: (w) => ["GET", `/v1/groups/g1/members/${w.member.id}/records`], expect: all(200, 200, 403, 403) },
  {
    route: "commit",
    request: (w) => [
      "POST",
      "/v1/groups/g1/offsets",
      { memberId: w.member.id, memberEpoch: w.member.epoch, offsets: [{ topic: "orders.eu", partition: 0, offset: 1 }] },
    ],
    expect: all(204, 204, 403, 403),
  },
  { route: "leave", request: (w) => ["DELETE", `/v1/groups/g1/members/${w.member.id}`], expect: all(204, 204, 403, 403) },
  { route: "describe group", request: () => ["GET", "/v1/groups/g1"], expect: all(200, 200, 403, 403) },
  { route: "delete group", request: () => ["DELETE", "/v1/groups/b-old"], expect: all(204, 403, 204, 403) },
  { route: "metrics", request: () => ["GET", "/metrics"], expect: all(200, 200, 403, 403) },
  { route: "list topics", request: () => ["GET", "/v1/topics"], expect: all(200, 200, 200, 200) },
  { route: "list groups", request: () => ["GET", "/v1/groups"], expect: all(200, 200, 200, 200) },
  { route: "openapi", request: () => ["GET", "/openapi.json"], expect: all(200, 200, 200, 200) },
  { route: "seed create", request: () => ["POST", "/topics/orders.s/create?num_partitions=1"], expect: all(200, 403, 200, 403) },
  { route: "seed produce", request: () => ["POST", "/topics/orders.eu/messages?message=x"], expect: all(200, 200, 403, 403) },
  { route: "seed produce creating a topic", request: () => ["POST", "/topics/orders.new/messages?message=x"], expect: all(200, 403, 403, 403) },
  {
    route: "seed produce creating a topic (cluster create)",
    request: () => ["POST", "/topics/new/messages?message=x"],
    expect: all(200, 403, 200, 403),
  },
  { route: "seed subscribe", request: () => ["POST", "/topics/orders.eu/groups/s1/subscribe?consumer_id=c1"], expect: all(200, 200, 403, 403) },
  { route: "seed poll", request: () => ["GET", "/topics/orders.eu/messages?consumer_id=c9&group_id=s1"], expect: all(200, 200, 403, 403) },
  { route: "seed ack", request: () => ["POST", "/topics/orders.eu/messages/0/ack?consumer_id=c9&partition_id=0"], expect: all(200, 200, 403, 403) },
];

const AUTH_FAILURES: Array<[string, Record<string, string>]> = [
  ["no authorization", {}],
  ["another scheme", { authorization: `Basic ${Buffer.from(`alice:${TOKENS.alice}`).toString("base64")}` }],
  ["a malformed bearer", { authorization: `Bearer ${TOKENS.alice} extra` }],
  ["an empty bearer", { authorization: "Bearer " }],
  ["an unknown token", bearer("tok-mallory")],
  ["a token's digest instead of the token", bearer(sha256(TOKENS.admin))],
];

describe("auth and ACLs: every route × caller", () => {
  it.each(CASES)("$route", async ({ request, expect: expected }) => {
    // Refusals first, on one broker: each must leave everything as it was.
    const w = await world();
    const before = await w.snapshot();
    for (const [what, headers] of AUTH_FAILURES) {
      const answer = await w.as(headers, ...request(w));
      expect(answer.status, what).toBe(401);
      expect(answer.headers.get("www-authenticate")).toBe('Bearer realm="minikafka"');
      expect(answer.body).toEqual(envelope("AUTHENTICATION_FAILED"));
      expect(JSON.stringify(answer.body)).not.toContain("tok-");
    }
    for (const who of Object.keys(expected) as Who[]) {
      if (expected[who] !== 403) continue;
      const answer = await w.as(who, ...request(w));
      expect(answer.status, `${who}: ${JSON.stringify(answer.body)}`).toBe(403);
      expect(answer.body.error.code).toMatch(/^(TOPIC|GROUP|CLUSTER)_AUTHORIZATION_FAILED$/);
    }
    expect(await w.snapshot()).toEqual(before);
    // Each allowed caller on a broker of its own (the call may change it).
    for (const who of Object.keys(expected) as Who[]) {
      if (expected[who] === 403) continue;
      const fresh = who === "admin" ? w : await world();
      const answer = await fresh.as(who, ...request(fresh));
      expect(answer.status, `${who}: ${JSON.stringify(answer.body)}`).toBe(expected[who]);
    }
  });

  it("lists only what the principal may describe", async () => {
    const w = await world();
    const topics = async (who: Who) => (await w.as(who, "GET", "/v1/topics")).body.topics.map((t: { name: string }) => t.name);
    const groups = async (who: Who) => (await w.as(who, "GET", "/v1/groups")).body.groups.map((g: { groupId: string }) => g.groupId).sort();
    expect(await topics("admin")).toEqual(["orders.eu", "orders.eu2", "orders.secret", "other"]);
    expect(await topics("alice")).toEqual(["orders.eu", "orders.eu2"]); // prefixed describe; orders.secret denied
    expect(await topics("bob")).toEqual(["orders.eu", "orders.eu2", "orders.secret", "other"]); // write denied, describe is not
    expect(await topics("eve")).toEqual([]);
    expect(await groups("admin")).toEqual(["b-old", "g1", "s1"]);
    expect(await groups("alice")).toEqual(["g1", "s1"]); // read implies describe
    expect(await groups("bob")).toEqual(["b-old"]);
    expect(await groups("eve")).toEqual([]);
  });

  it("leaves /healthz, /readyz and the console's static files open, and nothing else", async () => {
    const w = await world();
    expect((await w.as({}, "GET", "/healthz")).status).toBe(200);
    expect((await w.as({}, "GET", "/readyz")).status).toBe(200);
    expect((await w.as({}, "GET", "/nowhere")).status).toBe(401);
    expect((await w.as({}, "GET", "/v1/topics")).status).toBe(401);
  });

  it("without acls, every authenticated principal may do everything", async () => {
    const t = await openTestApp({ auth });
    const call = (who: Who, method: string, path: string, body?: unknown) => t.call(method, path, body, bearer(TOKENS[who]));
    expect((await call("eve", "POST", "/v1/topics", { name: "t", partitions: 1 })).status).toBe(201);
    expect((await call("bob", "POST", "/v1/topics/t/records", { records: [{ value: "x" }] })).status).toBe(200);
    expect((await t.call("GET", "/v1/topics")).status).toBe(401);
  });
});
