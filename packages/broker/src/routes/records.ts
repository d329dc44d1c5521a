import { Hono, type MiddlewareHandler } from "hono";
import { FetchQuery, PartitionParams, ProduceBody, TopicParams } from "@minikafka/protocol";
import { sendJsonBytes } from "../body-pool.js";
import type { BrokerContext } from "../context.js";
import { produceProducer, type ProduceOffsets } from "../core/produce-service.js";
import { JsonBytes, estimateRecordsJson, writeRecordsJson } from "../encoding.js";
import { jsonBody, params, query } from "../validate.js";

const JSON_HEADERS = { "content-type": "application/json" };

/** `/v1/topics/:topic/records` (produce) and `/v1/topics/:topic/partitions/:partition/records` (fetch, long poll). */
export function recordRoutes(ctx: BrokerContext): Hono {
  const { produce, fetch } = ctx.core;
  const { access, quotas } = ctx;
  // Before the body is read: a principal over its produce quota is not even listened to.
  const admitProduce: MiddlewareHandler = async (c, next) => {
    quotas.admit(c, "produce");
    await next();
  };
  return new Hono()
    .post("/v1/topics/:topic/records", params(TopicParams), admitProduce, jsonBody(ProduceBody), async (c) => {
      const { topic } = c.req.valid("param");
      access.check(c, "topic", topic, "write");
      const { records, encoding = "utf8", ...producer } = c.req.valid("json");
      const offsets = offsetsJson(await produce.produce(topic, records, encoding, produceProducer(producer)));
      if (quotas.enabled) quotas.charge(c, "produce", Number(c.req.header("content-length")) || (await c.req.text()).length);
      return c.body(offsets, 200, JSON_HEADERS);
    })
    .get("/v1/topics/:topic/partitions/:partition/records", params(PartitionParams), query(FetchQuery), async (c) => {
      const { topic, partition } = c.req.valid("param");
      access.check(c, "topic", topic, "read");
      const { offset, maxRecords, maxBytes, waitMs = 0, encoding = "utf8" } = c.req.valid("query");
      quotas.admit(c, "fetch");
      const release = waitMs > 0 ? quotas.holdLongPoll(c) : undefined;
      let result: Awaited<ReturnType<typeof fetch.fetch>>;
      try {
        result = await fetch.fetch(topic, partition, offset, { maxRecords, maxBytes, waitMs, signal: c.req.raw.signal });
      } finally {
        release?.();
      }
      const body = new JsonBytes(ctx.bodies.take(estimateRecordsJson(result.records, 0))).ascii('{"records":[');
      const { bytes } = writeRecordsJson(body, result.records, encoding);
      ctx.metrics.recordBytesOut += bytes;
      quotas.charge(c, "fetch", bytes);
      const { nextOffset, highWatermark, logStartOffset } = result;
      body.ascii(`],"nextOffset":${nextOffset},"highWatermark":${highWatermark},"logStartOffset":${logStartOffset}}`);
      return sendJsonBytes(c, ctx.bodies, body);
    });
}

/**
 * `{"offsets":[{"partition":p,"offset":o},…]}` in request order, written without an object per record;
 * idempotent produce adds `"duplicate"` and `"duplicatePartitions"`. Internal (also the Node lane's).
 */
export function offsetsJson({ partitions, offsets, duplicatePartitions }: ProduceOffsets): string {
  let out = '{"offsets":[';
  for (let i = 0; i < partitions.length; i++) out += `${i === 0 ? "" : ","}{"partition":${partitions[i]},"offset":${offsets[i]}}`;
  if (duplicatePartitions === undefined) return `${out}]}`;
  const all = duplicatePartitions.length > 0 && duplicatePartitions.length === new Set(partitions).size;
  return `${out}],"duplicate":${all},"duplicatePartitions":[${duplicatePartitions.join(",")}]}`;
}
