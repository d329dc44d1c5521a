import { describe, expect, it } from "vitest";
import { systemClock } from "./clock.js";
import { ClientError } from "./errors.js";
import { GroupMember, type GroupMemberListener } from "./group-member.js";
import { Http } from "./http.js";
import type { TopicPartition } from "./types.js";

type Handler = (body: any) => Response | Promise<Response>;
const ok = (body: unknown) => Response.json(body);
const fail = (status: number, code: string, retriable = false) =>
  Response.json({ error: { code, message: code.toLowerCase(), retriable } }, { status });
const answer = (memberEpoch: number, partitions: number[], heartbeatIntervalMs = 10) => ({
  memberEpoch,
  heartbeatIntervalMs,
  assignment: partitions.length === 0 ? [] : [{ topic: "t", partitions }],
  revokingPartitions: [],
  pendingPartitions: [],
});

/** A scripted coordinator: routes to handlers, records every call in order. */
function coordinator(handlers: { join?: Handler; heartbeat?: Handler; commit?: Handler; leave?: Handler }) {
  const calls: Array<{ kind: string; body: any; at: number }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fetch = async (input: Request | string | URL) => {
    const request = input as Request;
    const path = new URL(request.url).pathname;
    const body = request.method === "POST" ? await request.json() : undefined;
    const kind = request.method === "DELETE" ? "leave" : path.endsWith("/heartbeat") ? "heartbeat" : path.endsWith("/offsets") ? "commit" : "join";
    calls.push({ kind, body, at: Date.now() });
    if (kind === "heartbeat") maxInFlight = Math.max(maxInFlight, ++inFlight);
    try {
      const handler = handlers[kind as keyof typeof handlers];
      if (handler === undefined) return kind === "leave" ? new Response(null, { status: 204 }) : fail(500, "UNEXPECTED");
      return await handler(body);
    } finally {
      if (kind === "heartbeat") inFlight--;
    }
  };
  const http = new Http({ baseUrl: "http://broker.test", timeoutMs: 1_000, retry: { retries: 0, initialRetryTimeMs: 5, maxRetryTimeMs: 20 }, fetch });
  return { http, calls, maxInFlight: () => maxInFlight, heartbeats: () => calls.filter((c) => c.kind === "heartbeat") };
}

function recorder(): GroupMemberListener & { events: string[]; revocations: TopicPartition[][] } {
  const events: string[] = [];
  const revocations: TopicPartition[][] = [];
  return {
    events,
    revocations,
    assigned: (ps) => events.push(`assigned ${ps.map((p) => p.partition).join(",")}`),
    revoked: (ps) => {
      revocations.push(ps);
      events.push(`revoked ${ps.map((p) => p.partition).join(",")}`);
    },
    lost: (reason) => events.push(`lost ${reason.code}`),
    fatal: (error) => events.push(`fatal ${(error as ClientError).code}`),
  };
}

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const options = {
  groupId: "g",
  instanceId: undefined,
  topics: ["t"],
  sessionTimeoutMs: 10_000,
  retry: { retries: 0, initialRetryTimeMs: 5, maxRetryTimeMs: 20 },
  clock: systemClock,
};

describe("GroupMember", () => {
  it("heartbeats one at a time on the broker's interval, each carrying what it owns now", async () => {
    const slow = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const c = coordinator({
      join: () => ok({ memberId: "m1", ...answer(1, [0, 1]) }),
      heartbeat: async () => (await slow(15), ok(answer(1, [0, 1]))),
    });
    const listener = recorder();
    const member = new GroupMember(c.http, options, listener);
    await member.start();
    await until(() => c.heartbeats().length >= 5);
    await member.stop(true);
    expect(c.maxInFlight()).toBe(1);
    expect(c.heartbeats()[0]!.body).toEqual({ memberEpoch: 1, ownedPartitions: [{ topic: "t", partitions: [0, 1] }] });
    expect(listener.events).toEqual(["assigned 0,1"]);
    expect(c.calls.at(-1)!.kind).toBe("leave");
  });

  it("asks for its session timeout in the join only when one was given", async () => {
    const joins: unknown[] = [];
    for (const requestedSessionTimeoutMs of [undefined, 12_000]) {
      const c = coordinator({ join: () => ok({ memberId: "m1", ...answer(1, [0], 60_000) }), heartbeat: () => ok(answer(1, [0], 60_000)) });
      const member = new GroupMember(c.http, { ...options, instanceId: "host-1", requestedSessionTimeoutMs }, recorder());
      await member.start();
      await member.stop(true);
      joins.push(c.calls.find((call) => call.kind === "join")!.body);
    }
    expect(joins).toEqual([
      { topics: ["t"], instanceId: "host-1" },
      { topics: ["t"], instanceId: "host-1", sessionTimeoutMs: 12_000 },
    ]);
  });

  it("keeps a revoked partition until released, then heartbeats at once without it", async () => {
    const c = coordinator({
      join: () => ok({ memberId: "m1", ...answer(1, [0, 1], 60_000) }),
      heartbeat: () => ok(answer(1, [0], 60_000)), // partition 1 goes to someone else
    });
    const listener = recorder();
    const member = new GroupMember(c.http, options, listener);
    await member.start();
    // The interval is a minute: heartbeats here come only from release() nudges.
    await member.release([]);
    await until(() => listener.revocations.length === 1);
    expect(listener.revocations[0]).toEqual([{ topic: "t", partition: 1 }]);
    expect(c.heartbeats()[0]!.body).toEqual({ memberEpoch: 1, ownedPartitions: [{ topic: "t", partitions: [0, 1] }] });
    expect(member.owns("t", 1)).toBe(true); // still ours until released
    const releasedAt = Date.now();
    await member.release([{ topic: "t", partition: 1 }]);
    await until(() => c.heartbeats().length === 2);
    expect(c.heartbeats()[1]!.at - releasedAt).toBeLessThan(1_000);
    expect(c.heartbeats()[1]!.body).toEqual({ memberEpoch: 1, ownedPartitions: [{ topic: "t", partitions: [0] }] });
    expect(member.owns("t", 1)).toBe(false);
    expect(listener.events).toEqual(["assigned 0,1", "revoked 1"]);
    await member.stop(false);
    expect(c.calls.some((call) => call.kind === "leave")).toBe(false);
  });

  it("drops everything and rejoins when the coordinator no longer knows it", async () => {
    let joins = 0;
    let heartbeats = 0;
    const c = coordinator({
      join: () => ok({ memberId: `m${++joins}`, ...answer(1, [0]) }),
      heartbeat: () => (++heartbeats === 2 ? fail(404, "UNKNOWN_MEMBER_ID") : ok(answer(1, [0]))),
    });
    const listener = recorder();
    const member = new GroupMember(c.http, options, listener);
    await member.start();
    await until(() => joins === 2 && member.memberId === "m2");
    expect(listener.events.slice(0, 3)).toEqual(["assigned 0", "lost UNKNOWN_MEMBER_ID", "assigned 0"]);
    await member.stop(true);
  });

  it("gives its partitions up by itself when no heartbeat succeeds for a session", async () => {
    let failing = false;
    const c = coordinator({
      join: () => ok({ memberId: "m1", ...answer(1, [0]) }),
      heartbeat: () => {
        failing = true;
        throw new TypeError("fetch failed");
      },
    });
    const listener = recorder();
    const member = new GroupMember(c.http, { ...options, sessionTimeoutMs: 150 }, listener);
    const started = Date.now();
    await member.start();
    await until(() => listener.events.includes("lost UNKNOWN_MEMBER_ID"));
    expect(failing).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(listener.events.slice(0, 2)).toEqual(["assigned 0", "lost UNKNOWN_MEMBER_ID"]); // then it rejoins
    await member.stop(false);
  });

  it("commits again with the new epoch after STALE_MEMBER_EPOCH", async () => {
    let epoch = 1;
    const c = coordinator({
      join: () => ok({ memberId: "m1", ...answer(1, [0], 60_000) }),
      heartbeat: () => ok(answer(epoch, [0], 60_000)),
      commit: (body) => (body.memberEpoch === epoch ? new Response(null, { status: 204 }) : fail(409, "STALE_MEMBER_EPOCH", true)),
    });
    const member = new GroupMember(c.http, options, recorder());
    await member.start();
    epoch = 2; // the group moved on; the member learns it from its next heartbeat
    expect(
      await member.commit([
        { topic: "t", partition: 0, offset: 7 },
        { topic: "t", partition: 3, offset: 1 },
      ]),
    ).toEqual([{ topic: "t", partition: 0, offset: 7 }]);
    expect(c.calls.filter((call) => call.kind !== "join").map((call) => [call.kind, call.body.memberEpoch])).toEqual([
      ["commit", 1],
      ["heartbeat", 1],
      ["commit", 2],
    ]);
    await member.stop(false);
  });

  it("stops for good when another process takes its instance id", async () => {
    const c = coordinator({
      join: () => ok({ memberId: "m1", ...answer(1, [0]) }),
      heartbeat: () => fail(409, "FENCED_INSTANCE_ID"),
    });
    const listener = recorder();
    const member = new GroupMember(c.http, { ...options, instanceId: "i-1" }, listener);
    await member.start();
    await until(() => listener.events.length === 2);
    expect(listener.events).toEqual(["assigned 0", "fatal FENCED_INSTANCE_ID"]);
    expect(c.calls[0]!.body).toEqual({ topics: ["t"], instanceId: "i-1" });
    await member.stop(true);
  });
});
