import { describe, expect, it } from "vitest";
import { PartitionTable } from "./partition-table.js";

describe("PartitionTable", () => {
  it("hands out only active, current, unpaused partitions of a running consumer", () => {
    let running = true;
    const table = new PartitionTable(() => running);
    const a = table.add("t", 0);
    const b = table.add("t", 1);
    expect(table.deliverableStates()).toEqual([]); // both initializing
    expect(table.memberFetchServes()).toBe(false);
    a.position = 3;
    expect(a.activate()).toBe(true);
    expect(b.activate()).toBe(false); // no position yet
    expect(table.deliverableStates()).toEqual([a]);
    b.position = 0;
    b.activate();
    expect(table.memberFetchServes()).toBe(true);
    table.pause([{ topic: "t", partitions: [1] }]);
    expect(table.deliverableStates()).toEqual([a]);
    expect(table.memberFetchServes()).toBe(false); // the member fetch would serve the paused one too
    expect(table.paused()).toEqual([{ topic: "t", partitions: [1] }]);
    b.revoke();
    expect(table.memberFetchServes()).toBe(true); // the broker no longer serves a revoked one either
    expect(table.assignment()).toEqual([{ topic: "t", partitions: [0] }]);
    running = false;
    expect(table.deliverable(a)).toBe(false);
  });

  it("pauses whole topics, including partitions assigned later; resume of the topic clears its partitions", () => {
    const table = new PartitionTable(() => true);
    table.pause([{ topic: "t" }, { topic: "u", partitions: [2] }, { topic: "t", partitions: [5] }]);
    const later = table.add("t", 7);
    expect(table.isPaused(later)).toBe(true);
    expect(table.paused()).toEqual([
      { topic: "t", partitions: [5, 7] },
      { topic: "u", partitions: [2] },
    ]);
    table.resume([{ topic: "t" }]);
    expect(table.isPaused(later)).toBe(false);
    expect(table.paused()).toEqual([{ topic: "u", partitions: [2] }]);
  });

  it("seeks an active partition at once (stale generation) and keeps other seeks for later", () => {
    const table = new PartitionTable(() => true);
    const s = table.add("t", 0);
    expect(table.seek({ topic: "t", partition: 0, offset: 9 })).toBe(false); // still initializing
    expect(table.takePendingSeek(s.key)).toBe(9);
    expect(table.takePendingSeek(s.key)).toBeUndefined();
    s.position = 1;
    s.activate();
    expect(table.seek({ topic: "t", partition: 0, offset: 4 })).toBe(true);
    expect([s.position, s.generation]).toEqual([4, 1]);
  });

  it("records commits only for the partitions it still holds, and forgets replaced states", () => {
    const table = new PartitionTable(() => true);
    const old = table.add("t", 0);
    const fresh = table.add("t", 0); // a new assignment of the same partition
    expect(table.isCurrent(old)).toBe(false);
    table.remove(old); // not the current one: nothing happens
    expect(table.get(fresh.key)).toBe(fresh);
    table.markCommitted([
      { topic: "t", partition: 0, offset: 5 },
      { topic: "t", partition: 1, offset: 6 },
    ]);
    expect([old.committed, fresh.committed]).toEqual([undefined, 5]);
    table.remove(fresh);
    expect(table.get(fresh.key)).toBeUndefined();
  });
});
