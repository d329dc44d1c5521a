import type { PartitionState } from "./types.js";

/**
 * What the controller writes for a partition given which brokers are alive, or `undefined` when the
 * state stays as it is. Unclean leader election is off: a leader is only ever picked from the ISR.
 *
 * - A live leader keeps leading; dead brokers leave its ISR (epoch unchanged: the leader did not change).
 * - A dead or missing leader is replaced by the first live ISR member in replica order (the preferred
 *   leader first), with the epoch bumped and the dead brokers dropped from the ISR.
 * - With no live ISR member the partition goes offline (leader -1, epoch bumped so that the old leader,
 *   should it come back, is refused) and keeps its last ISR, so that the partition comes back only with
 *   one of those replicas, which hold every committed record.
 */
export function electLeader(state: PartitionState, replicas: readonly number[], live: ReadonlySet<number>): PartitionState | undefined {
  const liveIsr = replicas.filter((id) => state.isr.includes(id) && live.has(id));
  if (state.leader >= 0 && live.has(state.leader)) {
    if (liveIsr.length === state.isr.length) return undefined;
    return { leader: state.leader, leaderEpoch: state.leaderEpoch, isr: [state.leader, ...liveIsr.filter((id) => id !== state.leader)] };
  }
  if (liveIsr.length === 0) {
    if (state.leader === -1) return undefined;
    return { leader: -1, leaderEpoch: state.leaderEpoch + 1, isr: state.isr };
  }
  return { leader: liveIsr[0]!, leaderEpoch: state.leaderEpoch + 1, isr: liveIsr };
}
