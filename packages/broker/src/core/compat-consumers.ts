import type { Assignment, GroupCoordinator, HeartbeatResult } from "@minikafka/group-coordinator";
import { errorCodesWhere } from "@minikafka/protocol/errors";
import { encodeBytes } from "../encoding.js";
import { BrokerError, miniKafkaErrorCode } from "../errors.js";
import { partitionsOf, readFromCommitted } from "./committed-reader.js";
import type { GroupService } from "./group-service.js";
import type { ReadStore } from "./storage.js";
import type { TopicService } from "./topic-service.js";

/** One message as the seed's poll answers it. */
export interface CompatMessage {
  message_offset: number;
  data: string | null;
  partition_id: number;
}

/** A seed consumer, as a member of a coordinator group. */
interface CompatMember {
  readonly groupId: string;
  readonly consumerId: string;
  memberId: string;
  memberEpoch: number;
  topics: string[];
  /** What the consumer was last handed (it may be processing it): reported as owned in every heartbeat. */
  held: Assignment;
  /** When it last subscribed or polled (a counter): to pick the group an ack is for. */
  lastPoll: number;
}

// A member the coordinator no longer knows (expired, fenced, replaced, or the broker restarted): rejoin.
// Replaced too (`member: "fenced"`): the instance id is the seed consumer itself, so it takes its place back.
const REJOIN = errorCodesWhere((row) => row.member !== undefined);

/** What {@link CompatConsumers} needs. */
export interface CompatConsumersDeps {
  readonly coordinator: Pick<GroupCoordinator, "join" | "heartbeat" | "fetchOffsets" | "commitOffsets">;
  /** Session expiry: run before every call; tells which members expired. */
  readonly sessions: Pick<GroupService, "expireSessions" | "onExpired">;
  readonly store: Pick<ReadStore, "read">;
  readonly topics: Pick<TopicService, "partitionCount" | "describePartitionIfExists">;
}

/**
 * The seed's consumer API on top of the group coordinator: a thin adapter from `(group, consumer_id)` to a
 * coordinator member. The seed's consumer is synchronous (poll, process, ack, poll again), so the adapter
 * heartbeats on its behalf at every call, reporting as owned exactly what it last handed the consumer:
 * partitions revoked at one poll are released at the next call, and a partition never has two owners.
 * `consumer_id` is the member's static `instanceId`, so a consumer that comes back keeps its partitions.
 *
 * Offsets are the group's (not the consumer's, as in the seed): a poll answers, per partition, the record
 * at the group's committed offset, until an ack commits `offset + 1`. Acks of one partition are applied one
 * at a time and never move the committed offset backwards, so concurrent or repeated acks lose nothing and
 * redeliver nothing.
 */
export class CompatConsumers {
  readonly #deps: CompatConsumersDeps;
  /** `group \0 consumer` → member. */
  readonly #members = new Map<string, CompatMember>();
  /** `group \0 topic \0 partition` → the tail of that partition's ack queue. */
  readonly #ackQueues = new Map<string, Promise<unknown>>();
  #polls = 0;

  constructor(deps: CompatConsumersDeps) {
    this.#deps = deps;
    deps.sessions.onExpired((expired) => {
      for (const { groupId, memberId, instanceId } of expired) {
        if (instanceId === undefined) continue;
        const key = `${groupId}\u0000${instanceId}`;
        if (this.#members.get(key)?.memberId === memberId) this.#members.delete(key);
      }
    });
  }

  /**
   * Joins (or heartbeats) the consumer into `groupId` with `topic` in its subscription; answers the
   * partitions of `topic` it may read now (more may follow as other members release them).
   */
  subscribe(topic: string, groupId: string, consumerId: string): number[] {
    this.#requireTopic(topic);
    const member = this.#memberFor(topic, groupId, consumerId);
    return partitionsOf(member.held, topic).map((p) => p.partition);
  }

  /**
   * Heartbeats for the consumer, then answers, for each partition of `topic` assigned to it, the record at
   * the group's committed offset (partitions with nothing to read are left out). `null` when the consumer
   * has no partition of `topic` (the seed answers 404 then).
   */
  async poll(topic: string, groupId: string, consumerId: string): Promise<CompatMessage[] | null> {
    this.#requireTopic(topic);
    const member = this.#memberFor(topic, groupId, consumerId);
    const partitions = partitionsOf(member.held, topic);
    if (partitions.length === 0) return null;
    const { reads } = await readFromCommitted(this.#deps, groupId, partitions, { maxRecords: 1 });
    const messages: CompatMessage[] = [];
    for (const { partition, records } of reads) {
      const record = records[0];
      if (record !== undefined) messages.push({ message_offset: record.offset, data: encodeBytes(record.value, "utf8"), partition_id: partition });
    }
    return messages;
  }

  /**
   * Heartbeats for the consumer, then commits `offset + 1` of `topic`/`partition` for its group, unless
   * the group's committed offset is already past it. Only groups `mayUseGroup` accepts are considered (the
   * transport's authorisation; default: all).
   * @throws BrokerError `UNKNOWN_MEMBER_ID` when the consumer has not subscribed to or polled `topic`;
   *   `GROUP_AUTHORIZATION_FAILED` when it did so only in groups `mayUseGroup` refuses;
   *   CoordinatorError `UNASSIGNED_PARTITION` when the partition is not the consumer's;
   *   LogStoreError `OFFSET_OUT_OF_RANGE` for an offset that was never written.
   */
  async ack(topic: string, consumerId: string, partition: number, offset: number, mayUseGroup?: (groupId: string) => boolean): Promise<void> {
    this.#deps.sessions.expireSessions();
    this.#requireTopic(topic);
    // The seed's ack names no group. A consumer id is normally in one group per topic; if it is in several,
    // the ack is for the group in which it holds the partition and polled last.
    let member: CompatMember | undefined;
    let memberHolds = false;
    let refused: string | undefined;
    for (const candidate of this.#members.values()) {
      if (candidate.consumerId !== consumerId || !candidate.topics.includes(topic)) continue;
      if (mayUseGroup !== undefined && !mayUseGroup(candidate.groupId)) {
        refused = candidate.groupId;
        continue;
      }
      const holds = partitionsOf(candidate.held, topic).some((p) => p.partition === partition);
      if (member === undefined || (holds && !memberHolds) || (holds === memberHolds && candidate.lastPoll > member.lastPoll)) {
        member = candidate;
        memberHolds = holds;
      }
    }
    if (member === undefined && refused !== undefined) {
      throw new BrokerError(
        "GROUP_AUTHORIZATION_FAILED",
        `the caller may not read group ${JSON.stringify(refused)}, in which consumer ${JSON.stringify(consumerId)} reads topic ${JSON.stringify(topic)}`,
      );
    }
    if (member === undefined) {
      throw new BrokerError(
        "UNKNOWN_MEMBER_ID",
        `consumer ${JSON.stringify(consumerId)} is in no group reading topic ${JSON.stringify(topic)} (never subscribed, or its session expired): poll or subscribe first`,
      );
    }
    this.#heartbeat(member, false);
    const { groupId } = member;
    const key = `${groupId}\u0000${topic}\u0000${partition}`;
    const previous = this.#ackQueues.get(key) ?? Promise.resolve();
    const run = previous.then(async () => {
      const [committed] = await this.#deps.coordinator.fetchOffsets(groupId, [topic]).then((all) => all.filter((o) => o.partition === partition));
      if (committed !== undefined && committed.offset > offset) return; // already acknowledged
      const offsets = [{ topic, partition, offset: offset + 1 }];
      try {
        await this.#deps.coordinator.commitOffsets(groupId, { memberId: member.memberId, memberEpoch: member.memberEpoch, offsets });
      } catch (error) {
        // Another call of this consumer moved its epoch on while this one waited: heartbeat, commit again.
        if (miniKafkaErrorCode(error) !== "STALE_MEMBER_EPOCH") throw error;
        this.#heartbeat(member, false);
        await this.#deps.coordinator.commitOffsets(groupId, { memberId: member.memberId, memberEpoch: member.memberEpoch, offsets });
      }
    });
    const tail = run.catch(() => undefined);
    this.#ackQueues.set(key, tail);
    void tail.then(() => {
      if (this.#ackQueues.get(key) === tail) this.#ackQueues.delete(key);
    });
    await run;
  }

  /** The consumer's member, joined (subscribed to `topic`) and freshly heartbeated. */
  #memberFor(topic: string, groupId: string, consumerId: string): CompatMember {
    this.#deps.sessions.expireSessions();
    const key = `${groupId}\u0000${consumerId}`;
    let member = this.#members.get(key);
    if (member === undefined) {
      member = { groupId, consumerId, memberId: "", memberEpoch: 0, topics: [topic], held: [], lastPoll: 0 };
      this.#join(member);
      this.#members.set(key, member);
    } else if (!member.topics.includes(topic)) {
      member.topics = [...member.topics, topic];
      this.#join(member);
    } else {
      this.#heartbeat(member, true);
    }
    member.lastPoll = ++this.#polls;
    return member;
  }

  /**
   * Heartbeats with what the consumer holds. With `handOut` (a poll or subscribe: the consumer is done with
   * what it held), what it holds becomes the new assignment; an ack keeps it holding what it processes.
   * A member the coordinator no longer knows rejoins under the same instance id (and holds what the join
   * assigns it: a returning static member gets its partitions back).
   */
  #heartbeat(member: CompatMember, handOut: boolean): void {
    let result: HeartbeatResult;
    try {
      result = this.#deps.coordinator.heartbeat(member.groupId, member.memberId, { memberEpoch: member.memberEpoch, ownedPartitions: member.held });
    } catch (error) {
      if (!(REJOIN as ReadonlySet<string>).has(miniKafkaErrorCode(error) ?? "")) throw error;
      this.#join(member);
      return;
    }
    member.memberEpoch = result.memberEpoch;
    if (handOut) member.held = result.assignment;
  }

  #join(member: CompatMember): void {
    const result = this.#deps.coordinator.join(member.groupId, { topics: member.topics, instanceId: member.consumerId });
    member.memberId = result.memberId;
    member.memberEpoch = result.memberEpoch;
    member.held = result.assignment;
  }

  #requireTopic(topic: string): void {
    if (this.#deps.topics.partitionCount(topic) === undefined) {
      throw new BrokerError("UNKNOWN_TOPIC_OR_PARTITION", `topic ${JSON.stringify(topic)} not found`);
    }
  }
}
