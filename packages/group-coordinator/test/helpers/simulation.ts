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
  /** Which coordinator (incarnation, counting restarts) the member joined. */
  readonly incarnation: number;
  /** Clock time of the last response the member received (join or heartbeat). */
  lastSuccessMs: number;
}

export interface SimulationOptions {
  readonly topics: Record<string, number>;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly assignor?: Assignor;
  readonly offsetsRetentionMs?: number;
}

/** Drives one group of simulated members against a real coordinator with a fake clock. */
export class Simulation {
  readonly groupId = "g";
  readonly clock = new ManualClock(1_000);
  readonly store = new InMemoryOffsetStore();
  readonly counts: Map<string, number>;
  gc: GroupCoordinator;
  /** Coordinator incarnation: bumped by {@link restart}. */
  incarnation = 0;
  readonly sessionTimeoutMs: number;
  readonly members: SimMember[] = [];
  readonly log: string[] = [];
  readonly #options: SimulationOptions;
  #nextId = 0;

  constructor(options: SimulationOptions) {
    this.#options = options;
    this.counts = new Map(Object.entries(options.topics));
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.gc = this.#coordinator(undefined);
  }

  #coordinator(held: string[] | undefined): GroupCoordinator {
    const options = this.#options;
    return new GroupCoordinator({
      clock: this.clock,
      offsetStore: this.store,
      partitionCount: (t) => this.counts.get(t),
      sessionTimeoutMs: this.sessionTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3_000,
      // Ids stay unique across restarts, as UUIDs would.
      generateMemberId: () => `m-${++this.#nextId}`,
      ...(options.assignor === undefined ? {} : { assignor: options.assignor }),
      ...(options.offsetsRetentionMs === undefined ? {} : { offsetsRetentionMs: options.offsetsRetentionMs }),
      ...(held === undefined ? {} : { restartHold: { topics: held } }),
    });
  }

  /**
   * The broker restarts: a new coordinator over the same offset store, holding every existing topic. The
   * members of the old one know nothing of it: they go on processing until a heartbeat tells them to
   * rejoin, or until they have gone a session timeout without a successful heartbeat (self-fencing).
   */
  restart(): void {
    this.incarnation++;
    this.gc = this.#coordinator([...this.counts.keys()]);
    this.log.push(`restart -> incarnation ${this.incarnation}, hold until ${this.gc.restartHoldUntilMs}`);
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
      incarnation: this.incarnation,
      lastSuccessMs: this.clock.now(),
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
      if (isCoordinatorError(e) && ["FENCED_MEMBER_EPOCH", "UNKNOWN_MEMBER_ID", "FENCED_INSTANCE_ID", "GROUP_ID_NOT_FOUND"].includes(e.code)) {
        this.log.push(`hb ${m.name} -> ${e.code}`);
        this.#stop(m);
        return;
      }
      throw e;
    }
    this.log.push(`hb ${m.name} e${m.epoch} [${[...m.processing]}]${lose ? " (lost)" : ""} -> e${r.memberEpoch} [${[...keysOf(r.assignment)]}]`);
    if (lose) return;
    m.lastSuccessMs = this.clock.now();
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
    this.log.push(`leave ${m.name}`);
    if (m.incarnation === this.incarnation) {
      this.gc.leave(this.groupId, m.memberId);
      return;
    }
    // Left through a coordinator that does not know it (a real client ignores the error).
    try {
      this.gc.leave(this.groupId, m.memberId);
    } catch (e) {
      if (!isCoordinatorError(e) || !["UNKNOWN_MEMBER_ID", "GROUP_ID_NOT_FOUND"].includes(e.code)) throw e;
    }
  }

  /**
   * Advances the clock and expires silent members; an expired process is taken to stop (self-fencing).
   * A member of an earlier incarnation stops once it has gone more than a session timeout without a
   * response (the client's self-fencing rule): no coordinator will ever evict it.
   */
  advance(ms: number): void {
    this.clock.advance(ms);
    for (const m of this.members) {
      if (m.status !== "gone" && m.incarnation < this.incarnation && this.clock.now() - m.lastSuccessMs > this.sessionTimeoutMs) {
        this.#stop(m);
        this.log.push(`+${ms}ms ${m.name} stops by itself (no heartbeat for a session)`);
      }
    }
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

  /** Whether the coordinator knows the group (retention forgets empty ones). */
  known(): boolean {
    return this.gc.listGroups().some((g) => g.groupId === this.groupId);
  }

  /** The group's description; an empty group when the coordinator does not know it. */
  describe(): GroupDescription {
    if (!this.known()) return { groupId: this.groupId, groupEpoch: 0, assignmentEpoch: 0, state: "empty", members: [] };
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
    // Retention never forgets a group with members, and a forgotten group has no offsets left in the store.
    if (!this.known()) {
      const inGroup = this.members.filter((m) => m.status !== "gone" && m.incarnation === this.incarnation);
      if (inGroup.length > 0) this.fail(`group forgotten while ${inGroup.map((m) => m.name).join(", ")} are members`);
      if (this.store.committedGroupIds().includes(this.groupId)) this.fail("group forgotten but its offsets are still stored");
    }
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
        if (m.incarnation < this.incarnation) {
          // A member of the coordinator before the restart: the new one must not have given its work to anyone.
          if (ownerOf.has(k)) this.fail(`${ownerOf.get(k)} owns ${k} while ${m.name}, from before the restart, still processes it`);
        } else if (ownerOf.get(k) !== m.memberId) {
          this.fail(`${m.name} (${m.memberId}) processes ${k} but the coordinator says ${ownerOf.get(k) ?? "nobody"} owns it`);
        }
      }
    }
  }

  fail(message: string): never {
    throw new Error(`${message}\n${this.log.slice(-40).join("\n")}`);
  }
}
