import { describe, expect, it } from "vitest";
import { electLeader } from "./election.js";

const live = (...ids: number[]) => new Set(ids);

describe("electLeader", () => {
  it("leaves a partition with a live leader and a live ISR alone", () => {
    expect(electLeader({ leader: 1, leaderEpoch: 3, isr: [1, 2, 3] }, [1, 2, 3], live(1, 2, 3))).toBeUndefined();
  });

  it("drops dead brokers from the ISR of a live leader without a new epoch", () => {
    expect(electLeader({ leader: 2, leaderEpoch: 3, isr: [2, 1, 3] }, [1, 2, 3], live(1, 2))).toEqual({ leader: 2, leaderEpoch: 3, isr: [2, 1] });
  });

  it("elects the first live in-sync replica in replica order when the leader dies, bumping the epoch", () => {
    expect(electLeader({ leader: 1, leaderEpoch: 3, isr: [1, 3, 2] }, [1, 2, 3], live(2, 3))).toEqual({ leader: 2, leaderEpoch: 4, isr: [2, 3] });
  });

  it("never elects a live replica that is out of the ISR (no unclean election)", () => {
    expect(electLeader({ leader: 1, leaderEpoch: 3, isr: [1] }, [1, 2, 3], live(2, 3))).toEqual({ leader: -1, leaderEpoch: 4, isr: [1] });
    // Offline stays offline (and unchanged) until an in-sync replica is back …
    expect(electLeader({ leader: -1, leaderEpoch: 4, isr: [1] }, [1, 2, 3], live(2, 3))).toBeUndefined();
    // … which then leads.
    expect(electLeader({ leader: -1, leaderEpoch: 4, isr: [1] }, [1, 2, 3], live(1, 2, 3))).toEqual({ leader: 1, leaderEpoch: 5, isr: [1] });
  });
});
