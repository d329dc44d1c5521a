import type { RecordHeadersInput, RecordInput } from "@minikafka/log-store";
import { Hono } from "hono";
import { sendJsonBytes } from "../body-pool.js";
import type { BrokerContext } from "../context.js";
import { JsonBytes, base64Bytes, estimateRecordsJson, utf8Bytes, writeRecordsJson, type Encoding } from "../encoding.js";
import { waitForAny } from "../long-poll.js";
import { FetchQuery, PartitionParams, ProduceBody, TopicParams, type ProduceRecord } from "@minikafka/protocol";
import { jsonBody, params, query } from "../validate.js";

/** `/v1/topics/:topic/records` (produce) and `/v1/topics/:topic/partitions/:partition/records` (fetch, long poll). */
export function recordRoutes(ctx: BrokerContext): Hono {
  const { store } = ctx;
  return new Hono()
    .post("/v1/topics/:topic/records", params(TopicParams), jsonBody(ProduceBody), async (c) => {
      const { topic } = c.req.valid("param");
      const { records, encoding = "utf8" } = c.req.valid("json");
      return c.json({ offsets: await produce(ctx, topic, records, encoding) });
    })
    .get("/v1/topics/:topic/partitions/:partition/records", params(PartitionParams), query(FetchQuery), async (c) => {
      const { topic, partition } = c.req.valid("param");
      const { offset, maxRecords, maxBytes, waitMs = 0, encoding = "utf8" } = c.req.valid("query");
      const limits = { maxRecords, maxBytes };
      let result = await store.read(topic, partition, offset, limits);
      if (result.records.length === 0) {
        const waited = await waitForAny(store, [{ topic, partition, offset }], Math.min(waitMs, ctx.maxWaitMs), [c.req.raw.signal, ctx.shutdown]);
        if (waited) result = await store.read(topic, partition, offset, limits);
      }
      const body = new JsonBytes(ctx.bodies.take(estimateRecordsJson(result.records, 0))).ascii('{"records":[');
      ctx.metrics.recordBytesOut += writeRecordsJson(body, result.records, encoding).bytes;
      const { nextOffset, highWatermark, logStartOffset } = result;
      body.ascii(`],"nextOffset":${nextOffset},"highWatermark":${highWatermark},"logStartOffset":${logStartOffset}}`);
      return sendJsonBytes(c, ctx.bodies, body);
    });
}

/**
 * Places every record on a partition (explicit partition > murmur2 of the key > the default keyless
 * strategy), appends each partition's records as one batch (all partitions in parallel), and answers each
 * record's partition and offset in request order. Resolves once every batch is durable.
 */
async function produce(ctx: BrokerContext, topic: string, records: readonly ProduceRecord[], encoding: Encoding) {
  const partitionCount = ctx.topics.requirePartitionCount(topic);
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
      key = binary ? base64Bytes(r.key, `record ${i} key`) : r.key;
      // Hash the bytes that are stored, encoding a text key only once.
      if (r.partition === undefined) hashed = key = typeof key === "string" ? utf8Bytes(key) : key;
    }
    // Explicit partition (range-checked: UNKNOWN_TOPIC_OR_PARTITION) > murmur2 of the key > sticky.
    const partition = ctx.partitioner({ topic, key: hashed, partitionCount, partition: r.partition });
    const value = binary && r.value !== null ? base64Bytes(r.value, `record ${i} value`) : r.value;
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
  const appended = await Promise.all(partitions.map((p) => ctx.store.append(topic, p, batches.get(p)!)));
  const baseOffset = new Map<number, number>();
  for (let k = 0; k < partitions.length; k++) baseOffset.set(partitions[k]!, appended[k]!.baseOffset);
  const offsets = new Array<{ partition: number; offset: number }>(n);
  for (let i = 0; i < n; i++) offsets[i] = { partition: partitionOf[i]!, offset: baseOffset.get(partitionOf[i]!)! + indexInBatch[i]! };
  return offsets;
}

function decodeHeaders(headers: Readonly<Record<string, string | null>>, index: number): RecordHeadersInput {
  const out: Record<string, Uint8Array | null> = Object.create(null); // a header may be named "__proto__"
  for (const name in headers) {
    const value = headers[name]!;
    out[name] = value === null ? null : base64Bytes(value, `record ${index} header ${JSON.stringify(name)}`);
  }
  return out;
}
