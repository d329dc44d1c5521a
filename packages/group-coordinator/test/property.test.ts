import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCoordinatorError } from "@minikafka/group-coordinator";
import { keysOf, key, Simulation, type SimMember } from "./helpers/simulation.js";

const SESSION_TIMEOUT_MS = 30_000;

type Action =
  | { kind: "join"; topics: number; instance: number | undefined; slowness: number }
  | { kind: "heartbeat"; who: number; lose: boolean; epochDelta: number }
  | { kind: "round"; reverse: boolean }
  | { kind: "leave"; who: number }
  | { kind: "crash"; who: number }
  | { kind: "advance"; ms: number }
  | { kind: "grow"; topic: number; by: number }
  | { kind: "delete"; topic: number }
  | { kind: "commit"; who: number; topic: number; partition: number }
  | { kind: "restart" };

const TOPICS = ["a", "b", "c"];

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("join" as const),
      topics: fc.integer({ min: 1, max: 7 }),
      instance: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
      slowness: fc.constantFrom(0, 0, 1, 3),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant("heartbeat" as const),
      who: fc.nat(),
      lose: fc.integer({ min: 0, max: 7 }).map((x) => x === 0),
      epochDelta: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -2),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("round" as const), reverse: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("leave" as const), who: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("crash" as const), who: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 20_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("grow" as const), topic: fc.nat({ max: 2 }), by: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), topic: fc.nat({ max: 2 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("commit" as const), who: fc.nat(), topic: fc.nat({ max: 2 }), partition: fc.nat({ max: 6 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("restart" as const) }) },
);

/** Every run starts with one to four members, then a sequence of up to 80 random steps. */
const initialJoins = fc.array(
  fc.record({
    kind: fc.constant("join" as const),
    topics: fc.integer({ min: 1, max: 7 }),
    instance: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
    slowness: fc.constantFrom(0, 0, 1, 3),
  }),
  { minLength: 1, maxLength: 4 },
);
const steps = fc.array(actionArb, { minLength: 10, maxLength: 80, size: "max" });

/** Topics of a subscription: bit mask over TOPICS, or all of them in the homogeneous case. */
const subscription = (mask: number, homogeneous: boolean): string[] => (homogeneous ? TOPICS : TOPICS.filter((_, i) => (mask & (1 << i)) !== 0));

async function apply(sim: Simulation, action: Action, homogeneous: boolean): Promise<void> {
  const pick = (who: number): SimMember | undefined => (sim.members.length === 0 ? undefined : sim.members[who % sim.members.length]);
  switch (action.kind) {
    case "join":
      sim.join(subscription(action.topics, homogeneous), {
        ...(action.instance === undefined ? {} : { instanceId: `i-${action.instance}` }),
        slowness: action.slowness,
      });
      return;
    case "heartbeat": {
      const m = pick(action.who);
      if (m) sim.heartbeat(m, action.lose, action.epochDelta);
      return;
    }
    case "round":
      sim.round(action.reverse ? (ms) => ms.reverse() : undefined);
      return;
    case "leave": {
      const m = pick(action.who);
      if (m) sim.leave(m);
      return;
    }
    case "crash": {
      const m = pick(action.who);
      if (m) sim.crash(m);
      return;
    }
    case "advance":
      sim.advance(action.ms);
      return;
    case "grow": {
      const topic = TOPICS[action.topic]!;
      sim.setPartitionCount(topic, (sim.counts.get(topic) ?? 0) + action.by);
      return;
    }
    case "delete":
      sim.setPartitionCount(TOPICS[action.topic]!, undefined);
      return;
    case "restart":
      sim.restart();
      return;
    case "commit": {
      // Zombie fencing: a commit succeeds exactly when the coordinator sees the member, at that epoch,
      // owning the partition; otherwise the stored offset is unchanged.
      const m = pick(action.who);
      if (!m) return;
      const topic = TOPICS[action.topic]!;
      const d = sim.describe().members.find((x) => x.memberId === m.memberId);
      const owns = d !== undefined && [...keysOf(d.assignment), ...keysOf(d.revokingPartitions)].includes(key(topic, action.partition));
      const exists = action.partition < (sim.counts.get(topic) ?? 0);
      const before = await sim.gc.fetchOffsets(sim.groupId);
      const offset = before.length + 1;
      let error: unknown;
      try {
        await sim.gc.commitOffsets(sim.groupId, {
          memberId: m.memberId,
          memberEpoch: m.epoch,
          offsets: [{ topic, partition: action.partition, offset }],
        });
      } catch (e) {
        error = e;
      }
      const after = await sim.gc.fetchOffsets(sim.groupId);
      const expectOk = d !== undefined && d.memberEpoch === m.epoch && exists && owns;
      if (expectOk) {
        if (error !== undefined) sim.fail(`commit by ${m.name} rejected: ${String(error)}`);
        expect(after.find((o) => o.topic === topic && o.partition === action.partition)?.offset).toBe(offset);
      } else {
        if (!isCoordinatorError(error)) sim.fail(`commit by ${m.name} for ${topic}-${action.partition} accepted`);
        expect(after).toEqual(before);
      }
      return;
    }
  }
}

/**
 * After the random sequence: let every member catch up once, stop slowness, expire the crashed ones, then
 * check that two heartbeat rounds (in an adversarial order) settle the group, and a third tells everyone.
 */
function settle(sim: Simulation, reverse: boolean, homogeneous: boolean): void {
  sim.round();
  for (const m of sim.members) {
    m.slowness = 0;
    for (const k of m.finishing.keys()) m.finishing.set(k, 1);
  }
  sim.advance(1);
  sim.round();
  sim.advance(SESSION_TIMEOUT_MS);
  sim.checkSafety();
  expect(sim.members.filter((m) => m.status === "crashed")).toEqual([]);

  const order = reverse ? (ms: SimMember[]) => ms.reverse() : undefined;
  sim.round(order);
  sim.checkSafety();
  sim.round(order);
  sim.checkSafety();

  const d = sim.describe();
  const alive = sim.alive();
  expect(d.members.map((m) => m.memberId).sort()).toEqual(alive.map((m) => m.memberId).sort());
  if (alive.length === 0) {
    expect(d.state).toBe("empty");
    return;
  }
  if (d.state !== "stable") sim.fail(`not settled after two rounds: ${JSON.stringify(d)}`);
  for (const m of d.members) {
    expect(m.memberEpoch).toBe(d.groupEpoch);
    expect(m.assignment).toEqual(m.targetAssignment);
  }
  // Every existing partition of a subscribed topic has an owner.
  const subscribed = new Set(alive.flatMap((m) => m.topics));
  const total = [...sim.counts].filter(([t]) => subscribed.has(t)).reduce((s, [, c]) => s + c, 0);
  expect(d.members.reduce((s, m) => s + keysOf(m.assignment).size, 0)).toBe(total);
  // Balance.
  const sizes = new Map(d.members.map((m) => [m.memberId, keysOf(m.assignment).size]));
  if (homogeneous) {
    const values = [...sizes.values()];
    if (Math.max(...values) - Math.min(...values) > 1) sim.fail(`unbalanced: ${values}`);
  } else {
    for (const a of d.members) {
      for (const b of d.members) {
        const couldTake = a.assignment.some(({ topic }) => b.topics.includes(topic));
        if (couldTake && sizes.get(a.memberId)! - sizes.get(b.memberId)! > 1) {
          sim.fail(`${a.memberId} has ${sizes.get(a.memberId)}, ${b.memberId} could take one and has ${sizes.get(b.memberId)}`);
        }
      }
    }
  }
  // A third round tells every member its final assignment.
  sim.round(order);
  const final = sim.describe();
  for (const m of alive) {
    expect([...m.processing].sort()).toEqual([...keysOf(final.members.find((x) => x.memberId === m.memberId)!.assignment)].sort());
  }
}

async function run(initial: Action[], actions: Action[], reverse: boolean, homogeneous: boolean): Promise<void> {
  const sim = new Simulation({
    topics: { a: 3, b: 2 },
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: 3_000,
    // Short enough for the random clock jumps to expire empty groups that committed.
    offsetsRetentionMs: 40_000,
  });
  for (const action of [...initial, ...actions]) {
    await apply(sim, action, homogeneous);
    sim.checkSafety();
  }
  settle(sim, reverse, homogeneous);
}

describe("group coordinator properties", () => {
  // Every run mixes in broker restarts (a new coordinator holding every existing topic, while the old
  // members go on until told to rejoin or until they stop by themselves) and group retention (empty groups
  // forgotten at once or after their offsets expire): the safety check spans both.
  it("never gives a partition two owners, and settles balanced within two rounds (same subscriptions)", async () => {
    await fc.assert(
      fc.asyncProperty(initialJoins, steps, fc.boolean(), (initial, actions, reverse) => run(initial, actions, reverse, true)),
      { numRuns: 300, seed: 848 },
    );
  });

  it("never gives a partition two owners, and settles within two rounds (mixed subscriptions)", async () => {
    await fc.assert(
      fc.asyncProperty(initialJoins, steps, fc.boolean(), (initial, actions, reverse) => run(initial, actions, reverse, false)),
      { numRuns: 200, seed: 4848 },
    );
  });
});
