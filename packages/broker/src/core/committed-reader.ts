import type { GroupCoordinator } from "@minikafka/group-coordinator";
import type { StoredRecord } from "@minikafka/log-store";
import { BrokerError, miniKafkaErrorCode } from "../errors.js";
import type { WaitTarget } from "./long-poll.js";
import type { ReadStore } from "./storage.js";
import type { TopicService } from "./topic-service.js";

/** A partition of a topic. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** What one partition read gave, from the group's committed offset. */
export interface CommittedRead extends TopicPartition {
  records: StoredRecord[];
}

/** Reads of a group's partitions, and where to wait for more when they gave nothing. */
export interface CommittedReads {
  reads: CommittedRead[];
  /** Every readable partition's next offset, for a long poll. */
  waitTargets: WaitTarget[];
}

/** What reading from committed offsets needs. */
export interface CommittedReaderDeps {
  readonly store: Pick<ReadStore, "read">;
  readonly coordinator: Pick<GroupCoordinator, "fetchOffsets">;
  readonly topics: Pick<TopicService, "describePartitionIfExists">;
}

/**
 * Reads each partition from the group's committed offset (the log start when nothing is committed or
 * retention has passed it), in parallel, at most `maxRecords` / `maxBytes` per partition. Partitions that
 * vanished meanwhile (topic deleted, shrunk by a delete and re-create) are skipped, as are partitions whose
 * committed offset is not readable yet.
 *
 * `positions` (keyed by {@link positionKey}) overrides the committed offset of the partitions it names:
 * a consumer that tracks its own position can fetch the next batch before its commit of the last one has
 * completed. A position past the high watermark is `OFFSET_OUT_OF_RANGE`; one below the log start reads
 * from the log start, as a committed offset would.
 */
export async function readFromCommitted(
  deps: CommittedReaderDeps,
  groupId: string,
  partitions: readonly TopicPartition[],
  limits: { maxRecords?: number | undefined; maxBytes?: number | undefined },
  positions?: Positions,
): Promise<CommittedReads> {
  if (partitions.length === 0) return { reads: [], waitTargets: [] };
  const topics = [...new Set(partitions.map((p) => p.topic))];
  const committed = new Map<string, number>();
  for (const { topic, partition, offset } of await deps.coordinator.fetchOffsets(groupId, topics))
    committed.set(positionKey(topic, partition), offset);
  const waitTargets: WaitTarget[] = [];
  const pending: Array<Promise<CommittedRead | undefined>> = [];
  for (const { topic, partition } of partitions) {
    const p = deps.topics.describePartitionIfExists(topic, partition);
    if (p === undefined) continue;
    const key = positionKey(topic, partition);
    const position = positions?.get(key);
    if (position !== undefined && position > p.highWatermark) {
      throw new BrokerError("OFFSET_OUT_OF_RANGE", `position ${position} of ${topic}/${partition} is past its high watermark ${p.highWatermark}`);
    }
    const offset = Math.max(position === undefined ? (committed.get(key) ?? p.logStartOffset) : Number(position), p.logStartOffset);
    waitTargets.push({ topic, partition, offset });
    if (offset >= p.highWatermark) continue;
    pending.push(
      deps.store.read(topic, partition, offset, limits).then(
        ({ records }) => ({ topic, partition, records }),
        (error: unknown) => {
          // Deleted, or retention moved the log start past the offset since we looked: nothing this time.
          const code = miniKafkaErrorCode(error);
          if (code === "UNKNOWN_TOPIC_OR_PARTITION" || code === "OFFSET_OUT_OF_RANGE") return undefined;
          throw error;
        },
      ),
    );
  }
  const reads = (await Promise.all(pending)).filter((r): r is CommittedRead => r !== undefined);
  return { reads, waitTargets };
}

/**
 * Where to read partitions from, keyed by {@link positionKey}. An offset too large for a `number` to hold
 * exactly (beyond 2^53 − 1, so past any high watermark) is kept as a `bigint`, so that it is compared and
 * reported exactly.
 */
export type Positions = ReadonlyMap<string, number | bigint>;

/** The key of a partition in a positions map. */
export const positionKey = (topic: string, partition: number): string => `${partition}:${topic}`;

/**
 * Parses a member fetch's `positions` query, `topic:partition:offset` items separated by commas (topic
 * names cannot contain either), into a map keyed by {@link positionKey}.
 * @throws BrokerError `INVALID_REQUEST` when a partition is named twice.
 */
export function parsePositions(text: string | undefined): Map<string, number | bigint> | undefined {
  if (text === undefined || text === "") return undefined;
  const positions = new Map<string, number | bigint>();
  for (const item of text.split(",")) {
    const [topic, partition, offset] = item.split(":") as [string, string, string];
    const key = positionKey(topic, Number(partition));
    if (positions.has(key)) throw new BrokerError("INVALID_REQUEST", `positions names ${topic}/${partition} twice`);
    const n = Number(offset);
    positions.set(key, Number.isSafeInteger(n) ? n : BigInt(offset));
  }
  return positions;
}

/** The partitions of an assignment, flattened (optionally only those of `topic`). */
export function partitionsOf(assignment: ReadonlyArray<{ topic: string; partitions: readonly number[] }>, topic?: string): TopicPartition[] {
  const out: TopicPartition[] = [];
  for (const entry of assignment) {
    if (topic !== undefined && entry.topic !== topic) continue;
    for (const partition of entry.partitions) out.push({ topic: entry.topic, partition });
  }
  return out;
}
