import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PartitionLeader, type LeaderEffects, type LeaderStart } from "./partition-leader.js";

const START: LeaderStart = {
  topic: "t",
  partition: 0,
  nodeId: 1,
  leaderEpoch: 3,
  replicas: [1, 2, 3],
  isr: [1, 2, 3],
  highWatermark: 10,
  logEndOffset: 10,
  minInsyncReplicas: 2,
  replicaLagTimeMs: 1_000,
  ackTimeoutMs: 5_000,
};

/** Effects that record what the leader did; ISR proposals succeed unless told otherwise. */
function effects(overrides: Partial<LeaderEffects> = {}) {
  const hw: number[] = [];
  const proposals: number[][] = [];
  let lease = true;
  const fx: LeaderEffects = {
    setHighWatermark: async (offset) => void hw.push(offset),
    proposeIsr: async (isr) => (proposals.push([...isr]), true),
    leaseValid: () => lease,
    now: () => Date.now(),
    onError: (error) => {
      throw error;
    },
    ...overrides,
  };
  return { fx, hw, proposals, loseLease: () => (lease = false) };
}

const code = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return (error as { code?: string }).code;
  }
};
const settle = () => vi.advanceTimersByTimeAsync(0);

describe("PartitionLeader", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("commits at the lowest log end of the ISR: a produce is answered once every in-sync replica has it", async () => {
    const { fx, hw } = effects();
    const leader = new PartitionLeader(START, fx);
    let done = false;
    const committed = leader.committed(12).then(() => (done = true));
    leader.followerFetched(2, 12);
    await settle();
    expect(done).toBe(false); // replica 3 has not fetched past 10 yet
    leader.followerFetched(3, 11);
    await settle();
    expect([done, leader.highWatermark]).toEqual([false, 11]);
    leader.followerFetched(3, 12);
    await committed;
    expect(leader.highWatermark).toBe(12);
    expect(hw).toEqual([11, 12]);
    leader.resign("test over");
  });

  it("a follower that stops fetching leaves the ISR after the lag time, and the high watermark moves on without it", async () => {
    const { fx, proposals } = effects();
    const leader = new PartitionLeader(START, fx);
    const committed = leader.committed(11);
    leader.followerFetched(2, 11);
    await vi.advanceTimersByTimeAsync(900);
    expect(proposals).toEqual([]);
    leader.followerFetched(2, 11);
    await vi.advanceTimersByTimeAsync(400);
    expect(proposals).toEqual([[1, 2]]); // 3 never fetched within 1 s
    await committed;
    expect(leader.isr).toEqual([1, 2]);
    expect(leader.highWatermark).toBe(11);
    // It comes back once it has caught up to the high watermark.
    leader.followerFetched(3, 11);
    await settle();
    expect(proposals.at(-1)).toEqual([1, 2, 3]);
    expect(leader.isr).toEqual([1, 2, 3]);
    leader.resign("test over");
  });

  it("keeps the ISR as it was when the metadata refuses the change, and refuses produce below the minimum ISR", async () => {
    const { fx, proposals } = effects({ proposeIsr: async () => false });
    const leader = new PartitionLeader({ ...START, isr: [1, 2] }, fx);
    await vi.advanceTimersByTimeAsync(1_300);
    expect(proposals).toEqual([]);
    expect(leader.isr).toEqual([1, 2]);
    leader.isrChanged([1]);
    expect(() => leader.checkProduce()).toThrow(expect.objectContaining({ code: "NOT_ENOUGH_REPLICAS" }));
    leader.resign("test over");
  });

  it("answers NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR falls below the minimum before the append is committed", async () => {
    const { fx } = effects();
    const leader = new PartitionLeader({ ...START, isr: [1, 2] }, fx);
    const pending = code(leader.committed(11));
    leader.isrChanged([1]); // the controller dropped 2: the high watermark is the leader's own end
    expect(await pending).toBe("NOT_ENOUGH_REPLICAS_AFTER_APPEND");
    leader.resign("test over");
  });

  it("never acknowledges once resigned or once its lease may have expired", async () => {
    const { fx, loseLease } = effects();
    const leader = new PartitionLeader(START, fx);
    const waiting = code(leader.committed(11));
    leader.resign("node 2 leads it");
    expect(await waiting).toBe("NOT_LEADER_OR_FOLLOWER");
    expect(() => leader.checkProduce()).toThrow(expect.objectContaining({ code: "NOT_LEADER_OR_FOLLOWER" }));

    const other = new PartitionLeader({ ...START, isr: [1, 2] }, fx);
    const pending = code(other.committed(11));
    loseLease();
    other.followerFetched(2, 11);
    expect(await pending).toBe("NOT_LEADER_OR_FOLLOWER");
    expect(() => other.checkProduce()).toThrow(expect.objectContaining({ code: "NOT_LEADER_OR_FOLLOWER" }));
    other.resign("test over");
  });

  it("times a produce out when the ISR does not confirm it, and refuses fetches from non-replicas", async () => {
    const { fx } = effects({ proposeIsr: async () => false });
    const leader = new PartitionLeader({ ...START, replicaLagTimeMs: 60_000 }, fx);
    const pending = code(leader.committed(11));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await pending).toBe("NOT_ENOUGH_REPLICAS_AFTER_APPEND");
    expect(() => leader.followerFetched(7, 0)).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
    leader.resign("test over");
  });
});
