import { Hono } from "hono";
import { PartitionParams } from "@minikafka/protocol";
import type { BrokerContext } from "../context.js";
import { responseCursor, sseEvent } from "../core/stream-format.js";
import { JsonBytes, estimateRecordsJson, writeRecordsJson } from "../encoding.js";
import { BrokerError } from "../errors.js";
import { parseWith } from "../validate.js";
import { sseResponse } from "./sse.js";

const utf8 = new TextDecoder();

function intParam(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new BrokerError("INVALID_REQUEST", `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value.slice(0, 32))}`);
  return n;
}

/**
 * `GET /v1/topics/:topic/partitions/:partition/records?offset=…&live=sse`: the partition as Server-Sent
 * Events, with the Durable Streams framing — `event: data` with a JSON array of records (the fetch
 * answer's record objects, `encoding=utf8|base64`), then `event: control` with `streamNextOffset` (the
 * offset to resume from, as a string), `streamCursor` and `upToDate` — from any offset, live until the
 * client goes away (about a minute per connection; reconnect from the last `streamNextOffset`). Other
 * requests of that route go on to the ordinary fetch.
 */
export function topicSseRoutes(ctx: BrokerContext): Hono {
  return new Hono().get("/v1/topics/:topic/partitions/:partition/records", async (c, next) => {
    if (c.req.query("live") !== "sse") return next();
    const { topic, partition } = parseWith(PartitionParams, { topic: c.req.param("topic"), partition: Number(c.req.param("partition")) }, "path");
    ctx.access.check(c, "topic", topic, "read");
    const offset = intParam("offset", c.req.query("offset"), 0, Number.MAX_SAFE_INTEGER);
    if (offset === undefined) throw new BrokerError("INVALID_REQUEST", "a live read needs an offset");
    const encoding = c.req.query("encoding") ?? "utf8";
    if (encoding !== "utf8" && encoding !== "base64")
      throw new BrokerError("INVALID_REQUEST", `encoding must be utf8 or base64, got ${JSON.stringify(encoding)}`);
    const maxRecords = intParam("maxRecords", c.req.query("maxRecords"), 1, 100_000);
    const maxBytes = intParam("maxBytes", c.req.query("maxBytes"), 1, 64 * 1024 * 1024);
    const cursor = c.req.query("cursor");
    // One slot of the principal's SSE streams until this one ends (429 when it holds them all).
    const release = ctx.quotas.holdSseStream(c);
    const stop = new AbortController();
    c.req.raw.signal.addEventListener("abort", () => stop.abort(), { once: true });
    const reads = ctx.core.fetch.live(topic, partition, offset, {
      maxRecords,
      maxBytes,
      signal: stop.signal,
    });
    async function* events(): AsyncGenerator<string> {
      try {
        for await (const r of reads) {
          if (r.records.length > 0) {
            const body = new JsonBytes(estimateRecordsJson(r.records, 0) + 2).ascii("[");
            ctx.metrics.recordBytesOut += writeRecordsJson(body, r.records, encoding as "utf8" | "base64").bytes;
            yield sseEvent("data", utf8.decode(body.ascii("]").bytes()));
          }
          const upToDate = r.nextOffset >= r.highWatermark;
          const control: Record<string, string | boolean> = {
            streamNextOffset: String(r.nextOffset),
            streamCursor: responseCursor(cursor, Date.now()),
          };
          if (upToDate) control.upToDate = true;
          yield sseEvent("control", JSON.stringify(control));
        }
      } finally {
        release();
        await reads.return(undefined);
      }
    }
    const gen = events();
    const first = await gen.next(); // the first read: an unknown topic or a bad offset is still an error answer
    return sseResponse(c, first, gen, { "x-content-type-options": "nosniff" }, () => stop.abort());
  });
}
