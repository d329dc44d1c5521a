import { Hono } from "hono";
import { PartitionParams } from "@minikafka/protocol";
import type { BrokerContext } from "../context.js";
import type { ReadResult } from "@minikafka/log-store";
import { LiveTails, type LiveReader } from "../core/live-tail.js";
import { topicRound } from "../core/topic-live.js";
import { cursorInterval, parseCursor, responseCursor, sseEvent } from "../core/stream-format.js";
import { JsonBytes, estimateRecordsJson, writeRecordsJson } from "../encoding.js";
import { BrokerError } from "../errors.js";
import { parseWith } from "../validate.js";
import { DEFAULT_SSE_BACKLOG_BYTES, SseChannel, sseConnectionCloser, sseResponse } from "./sse.js";

/** A topic SSE answer ends after about this long (clients reconnect from their last `streamNextOffset`). */
const LIVE_MAX_MS = 60_000;

/** How a topic SSE reader gets its bytes: readers with equal profiles share each round's bytes. */
interface TopicSseProfile {
  readonly encoding: "utf8" | "base64";
  /** The client's cursor (`NaN` when none). */
  readonly cursor: number;
}

/** One round's events (a `data` event with the records when there are any, then `control`), once per profile. */
function encode(r: ReadResult): (profile: TopicSseProfile) => Uint8Array {
  const upToDate = r.nextOffset >= r.highWatermark;
  const now = Date.now();
  const current = cursorInterval(now);
  const data = new Map<string, Buffer>();
  const frames = new Map<string, Uint8Array>();
  return (profile) => {
    const cursor = profile.cursor >= current ? profile.cursor : -1;
    const key = `${profile.encoding}:${cursor}`;
    let bytes = frames.get(key);
    if (bytes !== undefined) return bytes;
    let dataEvent = data.get(profile.encoding);
    if (dataEvent === undefined && r.records.length > 0) {
      const body = new JsonBytes(estimateRecordsJson(r.records, 0) + 2).ascii("[");
      writeRecordsJson(body, r.records, profile.encoding);
      dataEvent = Buffer.from(sseEvent("data", utf8.decode(body.ascii("]").bytes())));
      data.set(profile.encoding, dataEvent);
    }
    const control: Record<string, string | boolean> = {
      streamNextOffset: String(r.nextOffset),
      streamCursor: responseCursor(cursor < 0 ? undefined : String(cursor), now),
    };
    if (upToDate) control.upToDate = true;
    const controlEvent = Buffer.from(sseEvent("control", JSON.stringify(control)));
    bytes = dataEvent === undefined ? controlEvent : Buffer.concat([dataEvent, controlEvent]);
    frames.set(key, bytes);
    return bytes;
  };
}

/** `reader`, counting the bytes it is sent in the broker's bytes-out metric. */
function countingBytes(reader: SseChannel<TopicSseProfile>, ctx: BrokerContext): LiveReader<TopicSseProfile> {
  return {
    profile: reader.profile,
    get ended() {
      return reader.ended;
    },
    send(bytes) {
      if (!reader.send(bytes)) return false;
      ctx.metrics.recordBytesOut += bytes.byteLength;
      return true;
    },
    end: () => reader.end(),
    get onEnded() {
      return reader.onEnded;
    },
    set onEnded(listener) {
      reader.onEnded = listener;
    },
  };
}

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
  const tails = new LiveTails<TopicSseProfile>({
    shutdown: ctx.core.shutdown,
    keepAliveMs: ctx.core.fetch.maxWaitMs,
    onError: (error) => ctx.logger.error("minikafka broker: a topic's SSE read failed", error),
  });
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
    const profile: TopicSseProfile = { encoding, cursor: parseCursor(c.req.query("cursor")) };
    const limits = { maxRecords, maxBytes };
    // The first read before the answer starts: an unknown topic or a bad offset is still an error answer.
    const first = await ctx.core.fetch.fetch(topic, partition, offset, limits);
    // One slot of the principal's SSE streams until this one ends (429 when it holds them all).
    const release = ctx.quotas.holdSseStream(c);
    const channel = new SseChannel(profile, {
      maxBacklogBytes: DEFAULT_SSE_BACKLOG_BYTES,
      maxDurationMs: LIVE_MAX_MS,
      onClose: release,
      destroyConnection: sseConnectionCloser(c),
    });
    const reader = countingBytes(channel, ctx);
    const round = topicRound(first, encode);
    if (reader.send(round.bytes(profile))) {
      // One shared tail per partition and read limits; readers of either encoding share its reads.
      const key = `${topic}\u0000${partition}\u0000${maxRecords ?? ""}\u0000${maxBytes ?? ""}`;
      void tails.serve(key, ctx.core.fetch.liveSource(topic, partition, limits, encode), reader, round.next);
    }
    return sseResponse(c, channel, { "x-content-type-options": "nosniff" });
  });
}
