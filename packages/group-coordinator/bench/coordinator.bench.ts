/**
 * Benchmarks for @minikafka/group-coordinator, each beside a baseline measured in the same run (the machine
 * is shared and noisy: compare ratios, not absolute figures). Run: `pnpm bench` in this package.
 *
 * 1. Heartbeats/s in a steady 100-member group (1,000 partitions), vs a trivial heartbeat that only looks
 *    the member up, checks its epoch, stamps the time and returns a fixed response (no assignment logic).
 * 2. Full reassignment of 1,000 members × 10,000 partitions: the uniform-sticky assignor from scratch and
 *    after one member joins, the range assignor, and the coordinator's whole recomputation (assignor +
 *    validation + indexing) after a partition-count change, vs a baseline that only deals the partitions
 *    out round-robin into the same output shape.
 */
import {
  type Assignment,
  type AssignorInput,
  type AssignorMember,
  GroupCoordinator,
  InMemoryOffsetStore,
  ManualClock,
  rangeAssignor,
  uniformStickyAssignor,
} from "@minikafka/group-coordinator";

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Median wall time (ms) of `fn` over `runs` runs, after `warmup` unmeasured ones. */
function time(fn: () => void, runs: number, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

const fmt = (n: number, digits = 2): string => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A coordinator with one group of `members` members on topic t, heartbeated until stable. */
function stableGroup(members: number, partitions: number) {
  const clock = new ManualClock(0);
  let next = 0;
  const gc = new GroupCoordinator({
    clock,
    offsetStore: new InMemoryOffsetStore(),
    partitionCount: (t) => (t === "t" ? partitions : undefined),
    generateMemberId: () => `m-${++next}`,
  });
  const state = new Map<string, { epoch: number; owned: Assignment }>();
  for (let i = 0; i < members; i++) {
    const r = gc.join("g", { topics: ["t"] });
    state.set(r.memberId, { epoch: r.memberEpoch, owned: r.assignment });
  }
  const round = (): void => {
    for (const [id, s] of state) {
      const r = gc.heartbeat("g", id, { memberEpoch: s.epoch, ownedPartitions: s.owned });
      s.epoch = r.memberEpoch;
      s.owned = r.assignment;
    }
  };
  for (let i = 0; i < 4 && gc.describeGroup("g").state !== "stable"; i++) round();
  if (gc.describeGroup("g").state !== "stable") throw new Error("group did not settle");
  return { gc, clock, state, round };
}

// --- 1. Heartbeats per second -------------------------------------------------------------------------

function heartbeatBench(): void {
  const MEMBERS = 100;
  const PARTITIONS = 1_000;
  const HEARTBEATS = 200_000;
  const { gc, clock, state } = stableGroup(MEMBERS, PARTITIONS);
  const ids = [...state.keys()];
  const requests = ids.map((id) => ({ id, options: { memberEpoch: state.get(id)!.epoch, ownedPartitions: state.get(id)!.owned } }));

  // Baseline: the least a heartbeat can do.
  const trivial = new Map(ids.map((id) => [id, { epoch: state.get(id)!.epoch, last: 0, assignment: state.get(id)!.owned }]));
  const trivialHeartbeat = (memberId: string, memberEpoch: number) => {
    const m = trivial.get(memberId);
    if (m === undefined || m.epoch !== memberEpoch) throw new Error("fenced");
    m.last = clock.now();
    return { memberEpoch: m.epoch, assignment: m.assignment, heartbeatIntervalMs: 5_000 };
  };

  let sink = 0;
  const coordinatorRun = (): void => {
    for (let i = 0; i < HEARTBEATS; i++) {
      const r = requests[i % MEMBERS]!;
      clock.advance(1);
      sink += gc.heartbeat("g", r.id, r.options).memberEpoch;
    }
  };
  const trivialRun = (): void => {
    for (let i = 0; i < HEARTBEATS; i++) {
      const r = requests[i % MEMBERS]!;
      clock.advance(1);
      sink += trivialHeartbeat(r.id, r.options.memberEpoch).memberEpoch;
    }
  };
  // Interleave the two so both see the same machine conditions.
  const c: number[] = [];
  const t: number[] = [];
  for (let i = 0; i < 7; i++) {
    c.push(time(coordinatorRun, 1, i === 0 ? 1 : 0));
    t.push(time(trivialRun, 1, i === 0 ? 1 : 0));
  }
  if (sink === 0) throw new Error("unreachable");
  if (gc.describeGroup("g").state !== "stable") throw new Error("group changed during the benchmark");
  const perSec = (ms: number): number => (HEARTBEATS / ms) * 1_000;
  const coordinator = perSec(median(c));
  const baseline = perSec(median(t));
  console.log(`\n## Heartbeats, steady group of ${MEMBERS} members × ${PARTITIONS} partitions (${fmt(HEARTBEATS, 0)} heartbeats, median of 7)`);
  console.log(`| | heartbeats/s | µs/heartbeat |`);
  console.log(`|---|---:|---:|`);
  console.log(
    `| GroupCoordinator.heartbeat (validates ${PARTITIONS / MEMBERS} owned partitions) | ${fmt(coordinator, 0)} | ${fmt(1e6 / coordinator, 3)} |`,
  );
  console.log(`| baseline: trivial heartbeat (lookup + epoch check + timestamp) | ${fmt(baseline, 0)} | ${fmt(1e6 / baseline, 3)} |`);
  console.log(`| ratio baseline / coordinator | ${fmt(baseline / coordinator)}× | |`);
}

// --- 2. Full reassignment -----------------------------------------------------------------------------

function reassignmentBench(): void {
  const MEMBERS = 1_000;
  const PARTITIONS = 10_000;
  const RUNS = 15;
  const members: AssignorMember[] = Array.from({ length: MEMBERS }, (_, i) => ({
    memberId: `member-${String(i).padStart(4, "0")}`,
    instanceId: undefined,
    topics: ["t"],
    currentAssignment: [],
  }));
  const partitionCounts = new Map([["t", PARTITIONS]]);
  const fresh: AssignorInput = { members, partitionCounts };

  // Baseline: deal the partitions out round-robin into the same output shape.
  const roundRobin = (input: AssignorInput): Map<string, Assignment> => {
    const lists = input.members.map(() => [] as number[]);
    for (let p = 0; p < PARTITIONS; p++) lists[p % lists.length]!.push(p);
    return new Map(input.members.map((m, i) => [m.memberId, [{ topic: "t", partitions: lists[i]! }]]));
  };

  // Sticky input: the fresh result as current assignment, plus one new member.
  const settled = uniformStickyAssignor(fresh);
  const withJoiner: AssignorInput = {
    members: [
      ...members.map((m) => ({ ...m, currentAssignment: settled.get(m.memberId)! })),
      { memberId: "member-new", instanceId: undefined, topics: ["t"], currentAssignment: [] },
    ],
    partitionCounts,
  };
  const moved = (): number => {
    const after = uniformStickyAssignor(withJoiner);
    let kept = 0;
    for (const m of members) {
      const before = new Set(settled.get(m.memberId)![0]!.partitions);
      kept += after.get(m.memberId)!.reduce((s, a) => s + a.partitions.filter((p) => before.has(p)).length, 0);
    }
    return PARTITIONS - kept;
  };

  const baseline = time(() => roundRobin(fresh), RUNS);
  const stickyFresh = time(() => uniformStickyAssignor(fresh), RUNS);
  const stickyJoin = time(() => uniformStickyAssignor(withJoiner), RUNS);
  const range = time(() => rangeAssignor(fresh), RUNS);

  // The coordinator's own recomputation: a partition-count change in a stable 1,000-member group, then the
  // first heartbeat (which recomputes the target and reconciles that member).
  let partitions = PARTITIONS;
  const clock = new ManualClock(0);
  let next = 0;
  const gc = new GroupCoordinator({
    clock,
    offsetStore: new InMemoryOffsetStore(),
    partitionCount: (t) => (t === "t" ? partitions : undefined),
    generateMemberId: () => `m-${++next}`,
  });
  const setupStart = performance.now();
  const state = new Map<string, { epoch: number; owned: Assignment }>();
  for (let i = 0; i < MEMBERS; i++) {
    const r = gc.join("g", { topics: ["t"] });
    state.set(r.memberId, { epoch: r.memberEpoch, owned: r.assignment });
  }
  const joinMs = performance.now() - setupStart;
  const round = (): number => {
    const t0 = performance.now();
    for (const [id, s] of state) {
      const r = gc.heartbeat("g", id, { memberEpoch: s.epoch, ownedPartitions: s.owned });
      s.epoch = r.memberEpoch;
      s.owned = r.assignment;
    }
    return performance.now() - t0;
  };
  round();
  round();
  round();
  if (gc.describeGroup("g").state !== "stable") throw new Error("group did not settle");
  const first = [...state.keys()][0]!;
  const recompute: number[] = [];
  const rounds: number[] = [];
  for (let i = 0; i < RUNS + 2; i++) {
    partitions++;
    gc.onTopicChanged("t");
    const s = state.get(first)!;
    const t0 = performance.now();
    const r = gc.heartbeat("g", first, { memberEpoch: s.epoch, ownedPartitions: s.owned });
    const dt = performance.now() - t0;
    s.epoch = r.memberEpoch;
    s.owned = r.assignment;
    const roundMs = round();
    if (i >= 2) {
      recompute.push(dt);
      rounds.push(roundMs);
    }
  }
  round();
  if (gc.describeGroup("g").state !== "stable") throw new Error("group did not settle after growth");
  const coordinator = median(recompute);

  console.log(`\n## Full reassignment, ${fmt(MEMBERS, 0)} members × ${fmt(PARTITIONS, 0)} partitions (median of ${RUNS})`);
  console.log(`| | ms | × baseline |`);
  console.log(`|---|---:|---:|`);
  console.log(`| baseline: round-robin deal into the output shape | ${fmt(baseline)} | 1.00× |`);
  console.log(`| uniformStickyAssignor, from scratch | ${fmt(stickyFresh)} | ${fmt(stickyFresh / baseline)}× |`);
  console.log(`| uniformStickyAssignor, one member joins (moves ${moved()} partitions) | ${fmt(stickyJoin)} | ${fmt(stickyJoin / baseline)}× |`);
  console.log(`| rangeAssignor, from scratch | ${fmt(range)} | ${fmt(range / baseline)}× |`);
  console.log(
    `| coordinator: target recomputation after a partition-count change (first heartbeat) | ${fmt(coordinator)} | ${fmt(coordinator / baseline)}× |`,
  );
  console.log(`| coordinator: the other ${MEMBERS - 1} heartbeats of that round | ${fmt(median(rounds))} | ${fmt(median(rounds) / baseline)}× |`);
  console.log(`\n(setup: ${MEMBERS} joins took ${fmt(joinMs, 0)} ms in all, one target recomputation per join)`);
}

console.log(`# @minikafka/group-coordinator benchmarks — Node ${process.version}, ${new Date().toISOString()}`);
heartbeatBench();
reassignmentBench();
