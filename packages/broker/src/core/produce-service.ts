import type { AppendOptions, AppendResult, RecordHeadersInput, RecordInput } from "@minikafka/log-store";
import { partitionForKey, type Partitioner } from "@minikafka/partitioner";
import { base64Bytes, utf8Bytes, type Encoding } from "../encoding.js";
import { BrokerError, miniKafkaErrorCode } from "../errors.js";
import type { BrokerStore } from "./storage.js";
import { checkRecord, checkRecordCount, DEFAULT_RECORD_LIMITS, type RecordLimits } from "./record-limits.js";
import type { TopicService } from "./topic-service.js";

/**
 * One record to produce, as a transport hands it over: bytes, or text that `encoding` turns into bytes
 * (UTF-8, or base64 for binary data carried as text). The `/v1` JSON records fit as they are.
 */
export interface ProduceInput {
  /** The key; `null` or absent for a keyless record. */
  readonly key?: string | Uint8Array | null | undefined;
  /** The value; `null` is a tombstone. */
  readonly value: string | Uint8Array | null;
  /** Header values by name. */
  readonly headers?: Readonly<Record<string, string | Uint8Array | null>> | undefined;
  /** Create time in ms since the epoch (default: the store's clock). */
  readonly timestamp?: number | undefined;
  /** An explicit partition (range-checked). */
  readonly partition?: number | undefined;
}

/**
 * Where each record of one produce call landed, in request order: record `i` is at offset `offsets[i]` of
 * partition `partitions[i]` (typed arrays, not one object per record).
 */
export interface ProduceOffsets {
  readonly partitions: Int32Array;
  readonly offsets: Float64Array;
  /**
   * Idempotent produce only: the partitions (ascending) whose batch was a retry of one already stored, so
   * nothing was appended there now and its offsets are the original ones. Absent without a producer.
   */
  readonly duplicatePartitions?: readonly number[];
}

/**
 * The idempotent-producer fields of a produce call (Kafka's producerId / producerEpoch / baseSequence per
 * partition): with them, each partition's batch is appended under log-store's producer rules.
 */
export interface ProduceProducer {
  /** From {@link ProducerIdService.initProducerId}. */
  readonly producerId: number;
  /** 0..32767; a higher epoch fences the lower ones in every partition it writes. */
  readonly producerEpoch: number;
  /** The base sequence of each partition the records go to: exactly one entry per such partition. */
  readonly sequences: ReadonlyArray<{ readonly partition: number; readonly sequence: number }>;
}

const PRODUCER_CODES: ReadonlySet<string> = new Set(["OUT_OF_ORDER_SEQUENCE_NUMBER", "INVALID_PRODUCER_EPOCH", "UNKNOWN_PRODUCER_ID"]);

/** What {@link ProduceService} needs. */
export interface ProduceServiceDeps {
  readonly store: Pick<BrokerStore, "append" | "appendMany" | "journaled">;
  readonly topics: Pick<TopicService, "partitionCount" | "resolvePartitionCount" | "ensure">;
  /** Places `/v1` records: explicit partition > murmur2 of the key > the keyless strategy (sticky by default). */
  readonly partitioner: Partitioner;
  /** Places the seed API's keyless records (round-robin, as the seed does). */
  readonly keylessCompat: Partitioner;
  /** How many records a call may carry and how large each may be (default {@link DEFAULT_RECORD_LIMITS}). */
  readonly limits?: RecordLimits | undefined;
  /** Merge small appends that wait for a busy fsync round (default true); false appends every call on its own (benchmarks). */
  readonly coalesce?: boolean | undefined;
}

/** Calls with at most this many records for a partition may be merged with others (see {@link AppendCoalescer}). */
const COALESCE_MAX_RECORDS = 100;
/** A merged batch grows to at most about this many records. */
const COALESCED_BATCH_RECORDS = 1000;

/**
 * Group commit for small appends (few records, no producer), per partition: a call that finds none of its
 * partition's earlier small appends still waiting to be durable is appended at once; calls that arrive
 * while one is waiting (or in the same turn of the event loop as one) queue, and are appended together, as
 * one batch: those of the same turn before the round that the first append starts (the log starts it on
 * the next check phase), the later ones (under fsync "always" they arrive while that round runs and could
 * only join the next one anyway) as soon as the waiting appends are durable.
 * One encoding, one write and one waiter of the fsync round instead of one per request, written before the
 * round that would have taken its calls starts (unless larger appends to the same partition keep the log's
 * rounds going back to back: then the queued calls take the round after). Each call's records stay
 * consecutive and in call order; a call is acknowledged once its batch is
 * durable, as before. If a merged append fails, each of its calls is appended on its own, so that it gets
 * its own answer (a failed append stores nothing).
 */
class AppendCoalescer {
  readonly #store: Pick<BrokerStore, "append">;
  readonly #partitions = new Map<string, PartitionQueue>();

  constructor(store: Pick<BrokerStore, "append">) {
    this.#store = store;
  }

  /** Appends `records` to the partition, or queues them behind its waiting appends; resolves with its first offset. */
  append(topic: string, partition: number, records: RecordInput[]): Promise<number> {
    const key = `${topic}\u0000${partition}`;
    let queue = this.#partitions.get(key);
    if (queue === undefined) this.#partitions.set(key, (queue = { key, topic, partition, waiting: 0, records: [], parts: [] }));
    return new Promise((resolve, reject) => {
      const q = queue;
      q.parts.push({ start: q.records.length, records, resolve, reject });
      for (const record of records) q.records.push(record);
      if (q.waiting === 0 || q.records.length >= COALESCED_BATCH_RECORDS) this.#appendQueued(q);
    });
  }

  #appendQueued(q: PartitionQueue): void {
    const { parts, records } = q;
    q.parts = [];
    q.records = [];
    const done = () => {
      if (--q.waiting > 0) return;
      if (q.parts.length > 0) this.#appendQueued(q);
      else this.#partitions.delete(q.key);
    };
    if (q.waiting === 0) {
      // The log starts the round for an append made while it was idle on the next turn's check phase:
      // calls that arrive in this turn still make that round if they are written first (scheduled before
      // the append, so before the log's own setImmediate). Until then the partition counts as busy, also
      // where appends are durable at once (fsync "never"), so that the turn's calls share a batch.
      q.waiting++;
      setImmediate(() => {
        if (q.parts.length > 0) this.#appendQueued(q);
        done();
      });
    }
    q.waiting++;
    const alone = (part: PendingPart) => this.#store.append(q.topic, q.partition, part.records).then((r) => part.resolve(r.baseOffset), part.reject);
    const appended: Promise<unknown> =
      parts.length === 1
        ? alone(parts[0]!)
        : this.#store.append(q.topic, q.partition, records).then(
            ({ baseOffset }) => {
              for (const part of parts) part.resolve(baseOffset + part.start);
            },
            () => Promise.all(parts.map(alone)),
          );
    void appended.finally(done);
  }
}

interface PendingPart {
  readonly start: number;
  readonly records: RecordInput[];
  resolve(baseOffset: number): void;
  reject(error: unknown): void;
}

/** One partition's small appends: how many are waiting to be durable, and the calls queued behind them. */
interface PartitionQueue {
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  waiting: number;
  records: RecordInput[];
  parts: PendingPart[];
}

/** Producing records, transport-neutral: placement, one batch per partition, offsets in request order. */
export class ProduceService {
  readonly #deps: ProduceServiceDeps;

  readonly #limits: RecordLimits;

  readonly #coalescer: AppendCoalescer;

  constructor(deps: ProduceServiceDeps) {
    this.#deps = deps;
    this.#limits = deps.limits ?? DEFAULT_RECORD_LIMITS;
    this.#coalescer = new AppendCoalescer(deps.store);
  }

  /** One partition's records of a call without a producer: small ones merged with the turn's others. */
  #append(topic: string, partition: number, records: RecordInput[]): Promise<number> {
    if (records.length > COALESCE_MAX_RECORDS || this.#deps.coalesce === false)
      return this.#deps.store.append(topic, partition, records).then((r) => r.baseOffset);
    return this.#coalescer.append(topic, partition, records);
  }

  /**
   * The batches of a call spread over several partitions, in one `appendMany` of a journaled store (one
   * journal round and one promise for all of them, not one per partition); resolves with each partition's
   * base offset. The store coalesces small batches of concurrent calls itself, so they skip the
   * AppendCoalescer.
   */
  async #appendMany(topic: string, partitions: readonly number[], batches: ReadonlyMap<number, RecordInput[]>): Promise<number[]> {
    const appends = partitions.map((partition) => ({ partition, records: batches.get(partition)! }));
    const results = await this.#deps.store.appendMany!(topic, appends);
    return results.map((r) => r.baseOffset);
  }

  /**
   * Places every record on a partition (explicit partition > murmur2 of the key > the keyless strategy),
   * appends each partition's records as one batch (all partitions in parallel; a few records that would wait
   * for a busy fsync round are merged with other calls' to the same partition, see `AppendCoalescer`), and answers each record's
   * partition and offset in request order. Resolves once every batch is durable.
   *
   * With `producer`, the call is idempotent per partition: every record must name its partition (the
   * sequence counts the producer's records in that partition, so placement must be the producer's, not
   * a sticky choice that a retry could make differently), and `producer.sequences` gives each of those
   * partitions its batch's base sequence. A batch that repeats one already stored answers the original
   * offsets and is listed in `duplicatePartitions`. A call spanning partitions is not atomic: when one
   * partition refuses, the others may have been appended (a retry of the same call then finds those as
   * duplicates).
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `INVALID_RECORD` and the store's append errors
   *   (with a producer also `OUT_OF_ORDER_SEQUENCE_NUMBER`, `INVALID_PRODUCER_EPOCH`,
   *   `UNKNOWN_PRODUCER_ID`, the message naming the partition); PartitionerError for an explicit partition
   *   out of range; BrokerError `INVALID_RECORD` for bad base64, `INVALID_REQUEST` for producer fields that
   *   do not match the records, `RECORD_LIST_TOO_LARGE` / `MESSAGE_TOO_LARGE` over the {@link RecordLimits}
   *   (nothing appended).
   */
  async produce(topic: string, records: readonly ProduceInput[], encoding: Encoding = "utf8", producer?: ProduceProducer): Promise<ProduceOffsets> {
    // A topic missing from the cache is looked up (cluster mode: created through another broker a moment ago).
    const partitionCount = this.#deps.topics.partitionCount(topic) ?? (await this.#deps.topics.resolvePartitionCount(topic));
    const { partitioner } = this.#deps;
    const limits = this.#limits;
    const n = records.length;
    checkRecordCount(limits, n);
    const partitionOf = new Int32Array(n);
    const indexInBatch = new Int32Array(n);
    const batches = new Map<number, RecordInput[]>();
    const binary = encoding === "base64";
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      let key: Uint8Array | string | null = null;
      let hashed: Uint8Array | null = null;
      if (r.key !== undefined && r.key !== null) {
        key = binary && typeof r.key === "string" ? base64Bytes(r.key, `record ${i} key`) : r.key;
        // Hash the bytes that are stored, encoding a text key only once.
        if (r.partition === undefined) hashed = key = typeof key === "string" ? utf8Bytes(key) : key;
      }
      // Explicit partition (range-checked: UNKNOWN_TOPIC_OR_PARTITION) > murmur2 of the key > sticky.
      const partition = partitioner({ topic, key: hashed, partitionCount, partition: r.partition });
      const value = binary && typeof r.value === "string" ? base64Bytes(r.value, `record ${i} value`) : r.value;
      const input: RecordInput = { key, value, timestamp: r.timestamp };
      if (r.headers !== undefined) {
        input.headers = binary ? decodeHeaders(r.headers, i) : r.headers;
      }
      // Sizes of what is stored (decoded base64), before anything of the call is appended.
      checkRecord(limits, i, key, value, input.headers);
      let batch = batches.get(partition);
      if (batch === undefined) {
        batch = [];
        batches.set(partition, batch);
      }
      partitionOf[i] = partition;
      indexInBatch[i] = batch.push(input) - 1;
    }
    const offsets = new Float64Array(n);
    if (producer === undefined && batches.size === 1) {
      // One partition (a single record, or a sticky run): its batch is the call's records in order.
      const partition = partitionOf[0]!;
      const base = await this.#append(topic, partition, batches.get(partition)!);
      for (let i = 0; i < n; i++) offsets[i] = base + i;
      return { partitions: partitionOf, offsets };
    }
    const partitions = [...batches.keys()];
    if (producer === undefined) {
      const { store } = this.#deps;
      const bases =
        partitions.length > 1 && store.journaled === true && store.appendMany !== undefined
          ? await this.#appendMany(topic, partitions, batches)
          : await Promise.all(partitions.map((p) => this.#append(topic, p, batches.get(p)!)));
      const baseOffset = new Map<number, number>();
      for (let k = 0; k < partitions.length; k++) baseOffset.set(partitions[k]!, bases[k]!);
      for (let i = 0; i < n; i++) offsets[i] = baseOffset.get(partitionOf[i]!)! + indexInBatch[i]!;
      return { partitions: partitionOf, offsets };
    }
    const appended = await this.#appendIdempotent(topic, records, partitions, batches, producer);
    const baseOffset = new Map<number, number>();
    for (let k = 0; k < partitions.length; k++) baseOffset.set(partitions[k]!, appended[k]!.baseOffset);
    for (let i = 0; i < n; i++) offsets[i] = baseOffset.get(partitionOf[i]!)! + indexInBatch[i]!;
    const duplicatePartitions: number[] = [];
    for (let k = 0; k < partitions.length; k++) if (appended[k]!.duplicate === true) duplicatePartitions.push(partitions[k]!);
    return { partitions: partitionOf, offsets, duplicatePartitions: duplicatePartitions.sort((a, b) => a - b) };
  }

  /** Each partition's batch with its base sequence; producer errors name their partition. */
  #appendIdempotent(
    topic: string,
    records: readonly ProduceInput[],
    partitions: readonly number[],
    batches: ReadonlyMap<number, RecordInput[]>,
    producer: ProduceProducer,
  ): Promise<AppendResult[]> {
    const { producerId, producerEpoch, sequences } = producer;
    for (let i = 0; i < records.length; i++) {
      if (records[i]!.partition === undefined)
        throw new BrokerError("INVALID_REQUEST", `record ${i} names no partition: with producerId every record must name its partition`);
    }
    const sequenceOf = new Map<number, number>();
    for (const { partition, sequence } of sequences) {
      if (sequenceOf.has(partition)) throw new BrokerError("INVALID_REQUEST", `sequences name partition ${partition} twice`);
      if (!batches.has(partition)) throw new BrokerError("INVALID_REQUEST", `sequences name partition ${partition}, which no record goes to`);
      sequenceOf.set(partition, sequence);
    }
    for (const partition of partitions) {
      if (!sequenceOf.has(partition)) throw new BrokerError("INVALID_REQUEST", `sequences give no sequence for partition ${partition}`);
    }
    // Started together, in partition order of first appearance: log-store decides each synchronously.
    return Promise.all(
      partitions.map((partition) => {
        const options: AppendOptions = { producer: { producerId, producerEpoch, sequence: sequenceOf.get(partition)! } };
        return this.#deps.store.append(topic, partition, batches.get(partition)!, options).catch((error: unknown) => {
          const code = miniKafkaErrorCode(error);
          if (code !== undefined && PRODUCER_CODES.has(code)) (error as Error).message = `${topic}/${partition}: ${(error as Error).message}`;
          throw error;
        });
      }),
    );
  }

  /**
   * The seed API's produce: one text record; a topic that does not exist is created with one partition;
   * an empty key means no key (round-robin), any other is placed by Kafka's murmur2.
   * @throws BrokerError `MESSAGE_TOO_LARGE` for a key or value over the {@link RecordLimits}.
   */
  async produceCompat(topic: string, key: string, value: string): Promise<{ partition: number; offset: number }> {
    checkRecord(this.#limits, 0, key === "" ? null : key, value, undefined);
    const partitionCount = await this.#deps.topics.ensure(topic, 1);
    const partition = key === "" ? this.#deps.keylessCompat({ topic, key: null, partitionCount }) : partitionForKey(key, partitionCount);
    return { partition, offset: await this.#append(topic, partition, [{ key: key === "" ? null : key, value }]) };
  }
}

function decodeHeaders(headers: Readonly<Record<string, string | Uint8Array | null>>, index: number): RecordHeadersInput {
  const out: Record<string, Uint8Array | null> = Object.create(null); // a header may be named "__proto__"
  for (const name in headers) {
    const value = headers[name]!;
    out[name] = typeof value === "string" ? base64Bytes(value, `record ${index} header ${JSON.stringify(name)}`) : value;
  }
  return out;
}

/**
 * The producer fields of a produce request as a transport decoded them (each optional), checked to be all
 * present or all absent.
 * @throws BrokerError `INVALID_REQUEST` when only some are given.
 */
export function produceProducer(fields: {
  producerId?: number | undefined;
  producerEpoch?: number | undefined;
  sequences?: ProduceProducer["sequences"] | undefined;
}): ProduceProducer | undefined {
  const { producerId, producerEpoch, sequences } = fields;
  if (producerId === undefined && producerEpoch === undefined && sequences === undefined) return undefined;
  if (producerId === undefined || producerEpoch === undefined || sequences === undefined) {
    const missing = [
      producerId === undefined && "producerId",
      producerEpoch === undefined && "producerEpoch",
      sequences === undefined && "sequences",
    ];
    throw new BrokerError(
      "INVALID_REQUEST",
      `an idempotent produce needs producerId, producerEpoch and sequences together; missing ${missing.filter(Boolean).join(", ")}`,
    );
  }
  return { producerId, producerEpoch, sequences };
}
