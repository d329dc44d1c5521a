import type { RecordHeadersInput, RecordInput } from "@minikafka/log-store";
import { partitionForKey, type Partitioner } from "@minikafka/partitioner";
import { base64Bytes, utf8Bytes, type Encoding } from "../encoding.js";
import type { BrokerStore } from "./storage.js";
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
}

/** What {@link ProduceService} needs. */
export interface ProduceServiceDeps {
  readonly store: Pick<BrokerStore, "append">;
  readonly topics: Pick<TopicService, "requirePartitionCount" | "ensure">;
  /** Places `/v1` records: explicit partition > murmur2 of the key > the keyless strategy (sticky by default). */
  readonly partitioner: Partitioner;
  /** Places the seed API's keyless records (round-robin, as the seed does). */
  readonly keylessCompat: Partitioner;
}

/** Producing records, transport-neutral: placement, one batch per partition, offsets in request order. */
export class ProduceService {
  readonly #deps: ProduceServiceDeps;

  constructor(deps: ProduceServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Places every record on a partition (explicit partition > murmur2 of the key > the keyless strategy),
   * appends each partition's records as one batch (all partitions in parallel), and answers each record's
   * partition and offset in request order. Resolves once every batch is durable.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `INVALID_RECORD` and the store's append errors;
   *   PartitionerError for an explicit partition out of range; BrokerError `INVALID_RECORD` for bad base64.
   */
  async produce(topic: string, records: readonly ProduceInput[], encoding: Encoding = "utf8"): Promise<ProduceOffsets> {
    const partitionCount = this.#deps.topics.requirePartitionCount(topic);
    const { partitioner } = this.#deps;
    const n = records.length;
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
      let batch = batches.get(partition);
      if (batch === undefined) {
        batch = [];
        batches.set(partition, batch);
      }
      partitionOf[i] = partition;
      indexInBatch[i] = batch.push(input) - 1;
    }
    const partitions = [...batches.keys()];
    const appended = await Promise.all(partitions.map((p) => this.#deps.store.append(topic, p, batches.get(p)!)));
    const baseOffset = new Map<number, number>();
    for (let k = 0; k < partitions.length; k++) baseOffset.set(partitions[k]!, appended[k]!.baseOffset);
    const offsets = new Float64Array(n);
    for (let i = 0; i < n; i++) offsets[i] = baseOffset.get(partitionOf[i]!)! + indexInBatch[i]!;
    return { partitions: partitionOf, offsets };
  }

  /**
   * The seed API's produce: one text record; a topic that does not exist is created with one partition;
   * an empty key means no key (round-robin), any other is placed by Kafka's murmur2.
   */
  async produceCompat(topic: string, key: string, value: string): Promise<{ partition: number; offset: number }> {
    const partitionCount = await this.#deps.topics.ensure(topic, 1);
    const partition = key === "" ? this.#deps.keylessCompat({ topic, key: null, partitionCount }) : partitionForKey(key, partitionCount);
    const { baseOffset } = await this.#deps.store.append(topic, partition, [{ key: key === "" ? null : key, value }]);
    return { partition, offset: baseOffset };
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
