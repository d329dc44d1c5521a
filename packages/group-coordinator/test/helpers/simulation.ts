import {
  type Assignment,
  type Assignor,
  type GroupDescription,
  GroupCoordinator,
  InMemoryOffsetStore,
  isCoordinatorError,
  ManualClock,
} from "@minikafka/group-coordinator";

/** `topic:partition`. */
export type Key = string;
export const key = (topic: string, partition: number): Key => `${topic}:${partition}`;

export function keysOf(assignment: Assignment): Set<Key> {
  const out = new Set<Key>();
  for (const { topic, partitions } of assignment) for (const p of partitions) out.add(key(topic, p));
  return out;
}

export function toAssignment(keys: Iterable<Key>): Assignment {
  const byTopic = new Map<string, number[]>();
  for (const k of keys) {
    const i = k.lastIndexOf(":");
    const topic = k.slice(0, i);
    const list = byTopic.get(topic) ?? [];
    list.push(Number(k.slice(i + 1)));
    byTopic.set(topic, list);
  }
  return [...byTopic.keys()].sort().map((topic) => ({ topic, partitions: byTopic.get(topic)!.sort((a, b) => a - b) }));
}

/**
 * A consumer process as the property tests model it, seen from its own side: it processes exactly what the
 * coordinator's last response handed it, plus partitions it was asked to give up but is still finishing
 * (a slow member keeps those for `slowness` more heartbeats), and reports all of them as owned.
 */
export interface SimMember {
  readonly name: string;
  memberId: string;
  readonly instanceId: string | undefined;
  readonly topics: readonly string[];
  epoch: number;
  /** What the process is processing right now. */
  readonly processing: Set<Key>;
  /** Revoked partitions still being finished → heartbeats left before letting go. */
  readonly finishing: Map<Key, number>;
  slowness: number;
  /** alive: heartbeats when asked; crashed: silent (may still be processing: a zombie); gone: stopped. */
  status: "alive" | "crashed" | "gone";
}

export interface SimulationOptions {
  readonly topics: Record<string, number>;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly assignor?: Assignor;
}

/** Drives one group of simulated members against a real coordinator with a fake clock. */
export class Simulation {
  readonly groupId = "g";
  readonly clock = new ManualClock(1_000);
  readonly store = new InMemoryOffsetStore();
  readonly counts: Map<string, number>;
  readonly gc: GroupCoordinator;
  readonly members: SimMember[] = [];
  readonly log: string[] = [];
  #nextId = 0;

  constructor(options: SimulationOptions) {
    this.counts = new Map(Object.entries(options.topics));
    this.gc = new GroupCoordinator({
      clock: this.clock,
      offsetStore: this.store,
      partitionCount: (t) => this.counts.get(t),
      sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3_000,
      generateMemberId: () => `m-${++this.#nextId}`,
      ...(options.assignor === undefined ? {} : { assignor: options.assignor }),
    });
  }

  alive(): SimMember[] {
    return this.members.filter((m) => m.status === "alive");
  }

  join(topics: readonly string[], options: { instanceId?: string; slowness?: number } = {}): SimMember | undefined {
    const { instanceId, slowness = 0 } = options;
    if (instanceId !== undefined) {
      const previous = this.members.find((m) => m.instanceId === instanceId && m.status !== "gone");
      // Two live processes must not share an instance id; a restart means the old process is dead.
      if (previous?.status === "alive") return undefined;
      if (previous !== undefined) this.#stop(previous);
    }
    const r = this.gc.join(this.groupId, { topics, ...(instanceId === undefined ? {} : { instanceId }) });
    const m: SimMember = {
      name: `s${this.members.length}`,
      memberId: r.memberId,
      instanceId,
      topics,
      epoch: r.memberEpoch,
      processing: keysOf(r.assignment),
      finishing: new Map(),
      slowness,
      status: "alive",
    };
    this.members.push(m);
    this.log.push(`join ${m.name}=${r.memberId}${instanceId ? ` (${instanceId})` : ""} -> e${r.memberEpoch} ${[...m.processing]}`);
    return m;
  }

  /**
   * One heartbeat; with `lose`, the coordinator handles it but the response never reaches the member; with
   * `epochDelta` (negative), the member sends an older epoch than it was given (a confused or zombie client).
   */
  heartbeat(m: SimMember, lose = false, epochDelta = 0): void {
    if (m.status !== "alive") return;
    for (const [k, left] of m.finishing) {
      if (left <= 1) {
        m.finishing.delete(k);
        m.processing.delete(k);
      } else m.finishing.set(k, left - 1);
    }
    let r;
    try {
      const memberEpoch = Math.max(1, m.epoch + epochDelta);
      r = this.gc.heartbeat(this.groupId, m.memberId, { memberEpoch, ownedPartitions: toAssignment(m.processing) });
    } catch (e) {
      if (isCoordinatorError(e) && ["FENCED_MEMBER_EPOCH", "UNKNOWN_MEMBER_ID", "FENCED_INSTANCE_ID"].includes(e.code)) {
        this.log.push(`hb ${m.name} -> ${e.code}`);
        this.#stop(m);
        return;
      }
      throw e;
    }
    this.log.push(`hb ${m.name} e${m.epoch} [${[...m.processing]}]${lose ? " (lost)" : ""} -> e${r.memberEpoch} [${[...keysOf(r.assignment)]}]`);
    if (lose) return;
    m.epoch = r.memberEpoch;
    const assigned = keysOf(r.assignment);
    for (const k of m.processing) {
      if (assigned.has(k)) continue;
      if (m.slowness > 0 && !m.finishing.has(k)) m.finishing.set(k, m.slowness);
      else if (!m.finishing.has(k)) m.processing.delete(k);
    }
    for (const k of assigned) {
      m.finishing.delete(k);
      m.processing.add(k);
    }
  }

  crash(m: SimMember): void {
    if (m.status !== "alive") return;
    m.status = "crashed";
    this.log.push(`crash ${m.name}`);
  }

  leave(m: SimMember): void {
    if (m.status !== "alive") return;
    this.#stop(m);
    this.gc.leave(this.groupId, m.memberId);
    this.log.push(`leave ${m.name}`);
  }

  /** Advances the clock and expires silent members; an expired process is taken to stop (self-fencing). */
  advance(ms: number): void {
    this.clock.advance(ms);
    for (const e of this.gc.tick()) {
      const m = this.members.find((x) => x.memberId === e.memberId && x.status !== "gone");
      if (m !== undefined) this.#stop(m);
      this.log.push(`+${ms}ms expired ${m?.name ?? e.memberId}`);
    }
  }

  setPartitionCount(topic: string, count: number | undefined): void {
    if (count === undefined) this.counts.delete(topic);
    else this.counts.set(topic, count);
    this.gc.onTopicChanged(topic);
    // Nobody can read partitions that no longer exist.
    for (const m of this.members) {
      for (const k of [...m.processing]) {
        const i = k.lastIndexOf(":");
        if (Number(k.slice(i + 1)) >= (this.counts.get(k.slice(0, i)) ?? 0)) {
          m.processing.delete(k);
          m.finishing.delete(k);
        }
      }
    }
    this.log.push(`topic ${topic} -> ${count}`);
  }

  /** Every alive member heartbeats once, in the given order (default: join order). */
  round(order?: (members: SimMember[]) => SimMember[]): void {
    const members = this.alive();
    for (const m of order ? order(members) : members) this.heartbeat(m);
  }

  #stop(m: SimMember): void {
    m.status = "gone";
    m.processing.clear();
    m.finishing.clear();
  }

  /** The group's description; before the first join, an empty group. */
  describe(): GroupDescription {
    if (this.members.length === 0) {
      return { groupId: this.groupId, groupEpoch: 0, assignmentEpoch: 0, state: "empty", members: [] };
    }
    return this.gc.describeGroup(this.groupId);
  }

  /**
   * The safety invariant, checked from both sides:
   * - the coordinator's owner sets (assignment ∪ revoking per member) are pairwise disjoint and only name
   *   partitions that exist;
   * - every process's actual work is covered by its member's owner set (so no two processes ever work on
   *   the same partition), and a process the coordinator no longer knows works on nothing.
   */
  checkSafety(): void {
    const d = this.describe();
    const ownerOf = new Map<Key, string>();
    for (const member of d.members) {
      for (const k of [...keysOf(member.assignment), ...keysOf(member.revokingPartitions)]) {
        const other = ownerOf.get(k);
        if (other !== undefined) this.fail(`partition ${k} owned by both ${other} and ${member.memberId}`);
        ownerOf.set(k, member.memberId);
        const i = k.lastIndexOf(":");
        if (Number(k.slice(i + 1)) >= (this.counts.get(k.slice(0, i)) ?? 0)) this.fail(`${member.memberId} owns missing ${k}`);
      }
    }
    // Protocol discipline: epochs never run ahead of the group; a member still giving partitions up stays
    // behind the group epoch (revoke before assign); a reconciled member owns only its target.
    for (const member of d.members) {
      if (member.memberEpoch > d.groupEpoch) this.fail(`${member.memberId} epoch ${member.memberEpoch} > group ${d.groupEpoch}`);
      if (member.revokingPartitions.length > 0 && member.memberEpoch >= d.groupEpoch) {
        this.fail(`${member.memberId} is at the group epoch while still revoking`);
      }
      if (member.memberEpoch === d.groupEpoch && d.assignmentEpoch === d.groupEpoch) {
        const target = keysOf(member.targetAssignment);
        for (const k of keysOf(member.assignment)) {
          if (!target.has(k)) this.fail(`${member.memberId} at epoch ${member.memberEpoch} owns ${k} outside its target`);
        }
      }
    }
    const processedBy = new Map<Key, string>();
    for (const m of this.members) {
      if (m.status === "gone" && m.processing.size > 0) this.fail(`stopped ${m.name} still processing`);
      for (const k of m.processing) {
        const other = processedBy.get(k);
        if (other !== undefined) this.fail(`partition ${k} processed by both ${other} and ${m.name}`);
        processedBy.set(k, m.name);
        if (ownerOf.get(k) !== m.memberId) {
          this.fail(`${m.name} (${m.memberId}) processes ${k} but the coordinator says ${ownerOf.get(k) ?? "nobody"} owns it`);
        }
      }
    }
  }

  fail(message: string): never {
    throw new Error(`${message}\n${this.log.slice(-40).join("\n")}`);
  }
}
