import { Hono, type Context } from "hono";
import { BrokerError, miniKafkaErrorCode } from "../errors.js";
import { toErrorResponse, type BrokerLogger } from "../error-handler.js";
import { StreamError } from "../core/stream-errors.js";
import { parseProducerNumber, parseStrictUint } from "../core/stream-format.js";
import type { Access } from "../access.js";
import type { Quotas } from "../quotas.js";
import type { StreamInfo, StreamProducer, StreamService } from "../core/stream-service.js";
import { DEFAULT_SSE_BACKLOG_BYTES, SseChannel, sseConnectionCloser, sseOutgoing, sseResponse } from "./sse.js";

/** Where stream paths start: `/v1/stream/<path>`, `<path>` any UTF-8 (slashes included). */
export const STREAM_PREFIX = "/v1/stream/";

const SECURITY_HEADERS = { "x-content-type-options": "nosniff", "cross-origin-resource-policy": "cross-origin" } as const;
const DATA_CACHE = "private, max-age=60, stale-while-revalidate=300";

/**
 * The Durable Streams routes (PROTOCOL.md) under `/v1/stream/*`: PUT create (and fork), POST append /
 * close, HEAD, GET catch-up / long-poll / SSE, DELETE. Decodes headers, calls the {@link StreamService},
 * encodes the protocol's headers; refusals carry the JSON error envelope plus the protocol's headers
 * (`Stream-Closed`, `Stream-Next-Offset`, `Producer-Epoch`, `Producer-Expected-Seq`, …).
 */
export function streamRoutes(streams: StreamService, access: Access, logger: BrokerLogger, quotas: Quotas): Hono {
  const app = new Hono();
  app.use(`${STREAM_PREFIX}*`, async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
  });
  const handle = (run: (c: Context, path: string) => Promise<Response> | Response) => async (c: Context) => {
    try {
      return await run(c, streamPath(c.req.url));
    } catch (error) {
      return errorResponse(c, error, logger);
    }
  };
  // Streams are ACL resources like topics (resource "stream", named by path): PUT needs create (a fork
  // also read on its source), POST write, GET read, HEAD describe, DELETE delete.
  app.put(`${STREAM_PREFIX}*`, handle(create(streams, access)));
  app.post(
    `${STREAM_PREFIX}*`,
    handle((c, path) => {
      access.check(c, "stream", path, "write");
      return append(streams)(c, path);
    }),
  );
  // Hono routes HEAD to the GET handlers (and drops the body).
  app.get(
    `${STREAM_PREFIX}*`,
    handle((c, path) => {
      access.check(c, "stream", path, c.req.method === "HEAD" ? "describe" : "read");
      return read(streams, quotas)(c, path);
    }),
  );
  app.delete(
    `${STREAM_PREFIX}*`,
    handle(async (c, path) => {
      access.check(c, "stream", path, "delete");
      await streams.delete(path);
      return c.newResponse(null, 204);
    }),
  );
  return app;
}

/** The stream path of a request URL: what follows `/v1/stream/`, percent-decoded. @throws BrokerError `INVALID_REQUEST` */
export function streamPath(url: string): string {
  const start = url.indexOf(STREAM_PREFIX, url.indexOf("//") + 2);
  let raw = url.slice(start + STREAM_PREFIX.length);
  const end = raw.search(/[?#]/);
  if (end >= 0) raw = raw.slice(0, end);
  return decodePath(raw);
}

function decodePath(raw: string): string {
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    throw new BrokerError("INVALID_REQUEST", "the stream path is not valid percent-encoded utf-8");
  }
  if (path.length === 0) throw new BrokerError("INVALID_REQUEST", "the stream path is empty");
  if (path.length > 4096) throw new BrokerError("INVALID_REQUEST", `the stream path is ${path.length} characters long, more than 4096`);
  return path;
}

/** `Stream-Forked-From`: a path like the request's (`/v1/stream/src`), or one relative to `/v1/stream/`. */
function forkSourcePath(value: string): string {
  const v = value.trim();
  return decodePath(v.startsWith(STREAM_PREFIX) ? v.slice(STREAM_PREFIX.length) : v.replace(/^\/+/, ""));
}

const isTrue = (v: string | undefined) => v !== undefined && v.trim().toLowerCase() === "true";

async function body(c: Context): Promise<Uint8Array> {
  return new Uint8Array(await c.req.raw.arrayBuffer());
}

function create(streams: StreamService, access: Access) {
  return async (c: Context, path: string): Promise<Response> => {
    access.checkCreateStream(c, path);
    const ttl = c.req.header("stream-ttl");
    const expiresAt = c.req.header("stream-expires-at");
    const forkedFrom = c.req.header("stream-forked-from");
    const sub = c.req.header("stream-fork-sub-offset");
    if (sub !== undefined && forkedFrom === undefined) throw new BrokerError("INVALID_REQUEST", "stream-fork-sub-offset needs stream-forked-from");
    if (ttl !== undefined && expiresAt !== undefined)
      throw new BrokerError("INVALID_REQUEST", "stream-ttl and stream-expires-at cannot both be given");
    const source = forkedFrom === undefined ? undefined : forkSourcePath(forkedFrom);
    if (source !== undefined) access.check(c, "stream", source, "read");
    const { created, info } = await streams.create(path, {
      contentType: c.req.header("content-type"),
      ttlSeconds: ttl === undefined ? undefined : parseStrictUint("stream-ttl", ttl),
      expiresAt,
      closed: isTrue(c.req.header("stream-closed")),
      body: await body(c),
      forkedFrom: source,
      forkOffset: c.req.header("stream-fork-offset"),
      forkSubOffset: sub === undefined ? undefined : parseStrictUint("stream-fork-sub-offset", sub),
    });
    const headers = infoHeaders(info);
    if (created) headers.location = new URL(c.req.url).href;
    return c.newResponse(null, created ? 201 : 200, headers);
  };
}

function append(streams: StreamService) {
  return async (c: Context, path: string): Promise<Response> => {
    const id = c.req.header("producer-id");
    const epoch = c.req.header("producer-epoch");
    const seq = c.req.header("producer-seq");
    let producer: StreamProducer | undefined;
    if (id !== undefined || epoch !== undefined || seq !== undefined) {
      if (id === undefined || epoch === undefined || seq === undefined) {
        throw new BrokerError("INVALID_REQUEST", "producer-id, producer-epoch and producer-seq must be given together");
      }
      if (id.length === 0) throw new BrokerError("INVALID_REQUEST", "producer-id must not be empty");
      producer = { id, epoch: parseProducerNumber("producer-epoch", epoch), seq: parseProducerNumber("producer-seq", seq) };
    }
    const result = await streams.append(path, {
      contentType: c.req.header("content-type"),
      body: await body(c),
      close: isTrue(c.req.header("stream-closed")),
      streamSeq: c.req.header("stream-seq"),
      producer,
    });
    const headers: Record<string, string> = { "stream-next-offset": result.nextOffset };
    if (result.closed) headers["stream-closed"] = "true";
    if (result.producer !== undefined) {
      headers["producer-epoch"] = String(result.producer.epoch);
      headers["producer-seq"] = String(result.producer.seq);
    }
    // 200 for a producer's new data; 204 for plain appends, duplicates and close-only requests.
    return c.newResponse(null, producer !== undefined && !result.duplicate && result.appended ? 200 : 204, headers);
  };
}

function read(streams: StreamService, quotas: Quotas) {
  return async (c: Context, path: string): Promise<Response> => {
    if (c.req.method === "HEAD") {
      const headers = infoHeaders(streams.head(path));
      headers["cache-control"] = "no-store";
      return c.newResponse(null, 200, headers);
    }
    const url = new URL(c.req.url);
    const offsets = url.searchParams.getAll("offset");
    if (offsets.length > 1) throw new BrokerError("INVALID_REQUEST", "give one offset parameter");
    const offset = offsets[0];
    const live = url.searchParams.get("live") ?? undefined;
    const cursor = url.searchParams.get("cursor") ?? undefined;
    if (live === "sse") {
      // A slot of the principal's SSE streams until this one ends (429 when it holds them all).
      const release = quotas.holdSseStream(c);
      let sse: Awaited<ReturnType<StreamService["openSse"]>>;
      try {
        // The first round is read before the answer starts, so a bad offset is still a 400.
        sse = await streams.openSse(path, { offset, cursor });
      } catch (error) {
        release();
        throw error;
      }
      const channel = new SseChannel(sse.profile, {
        maxBacklogBytes: DEFAULT_SSE_BACKLOG_BYTES,
        maxDurationMs: streams.sseMaxMs,
        onClose: release,
        destroyConnection: sseConnectionCloser(c),
        outgoing: sseOutgoing(c),
      });
      sse.serve(channel);
      const headers: Record<string, string> = { ...SECURITY_HEADERS };
      if (sse.base64) headers["stream-sse-data-encoding"] = "base64";
      return sseResponse(c, channel, headers);
    }
    if (live !== undefined && live !== "long-poll")
      throw new BrokerError("INVALID_REQUEST", `live must be long-poll or sse, got ${JSON.stringify(live)}`);
    const release = live === "long-poll" ? quotas.holdLongPoll(c) : undefined;
    // On Node, the answer is read into the service's reused buffers, given back once the response is done
    // (sent, or its connection gone: Node has then handed every byte to the kernel or dropped it).
    const outgoing = nodeResponse(c);
    let r: Awaited<ReturnType<StreamService["read"]>>;
    try {
      r = await streams.read(path, { offset, live, cursor, signal: c.req.raw.signal, reuseBuffers: outgoing !== undefined });
    } finally {
      release?.();
    }
    if (outgoing !== undefined) {
      if (outgoing.destroyed) r.release();
      else outgoing.once("close", () => r.release());
    }
    const headers: Record<string, string> = { "stream-next-offset": r.nextOffset };
    if (r.status === 200) {
      headers["content-type"] = r.contentType;
      headers["content-length"] = String(r.parts.reduce((n, p) => n + p.length, 0));
    }
    if (r.upToDate) headers["stream-up-to-date"] = "true";
    if (r.closed) headers["stream-closed"] = "true";
    if (r.cursor !== undefined) headers["stream-cursor"] = r.cursor;
    headers["cache-control"] = r.cacheable ? DATA_CACHE : "no-store";
    if (r.etag !== undefined) {
      headers.etag = r.etag;
      const inm = c.req.header("if-none-match");
      if (inm !== undefined && inm.split(",").some((t) => t.trim() === r.etag)) {
        return c.newResponse(null, 304, { etag: r.etag, "cache-control": headers["cache-control"]! });
      }
    }
    if (r.status === 204) return c.newResponse(null, 204, headers);
    return c.newResponse(answerBody(r.parts), 200, headers);
  };
}

/**
 * An answer's body from its parts: one part as it is; several as a stream of them (written one after the
 * other as the socket takes them, no copy into one buffer), with its length.
 */
function answerBody(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> {
  if (parts.length <= 1) return (parts[0] ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>;
  let next = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (next < parts.length) controller.enqueue(parts[next++]!);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

/** The part of Node's `http.ServerResponse` a read's buffers wait on; @hono/node-server passes it as `c.env.outgoing`. */
interface NodeResponse {
  readonly destroyed: boolean;
  once(event: "close", listener: () => void): unknown;
}

/** Node's response of the request, when the runtime gives it (its `close` tells when the answer is done). */
function nodeResponse(c: Context): NodeResponse | undefined {
  const outgoing = (c.env as { outgoing?: Partial<NodeResponse> } | undefined)?.outgoing;
  return typeof outgoing?.once === "function" && typeof outgoing.destroyed === "boolean" ? (outgoing as NodeResponse) : undefined;
}

function infoHeaders(info: StreamInfo): Record<string, string> {
  const headers: Record<string, string> = { "content-type": info.contentType, "stream-next-offset": info.nextOffset, etag: info.etag };
  if (info.closed) headers["stream-closed"] = "true";
  if (info.ttlSeconds !== undefined) headers["stream-ttl"] = String(info.ttlSeconds);
  if (info.expiresAt !== undefined) headers["stream-expires-at"] = info.expiresAt;
  return headers;
}

/** The JSON envelope with the protocol's headers of the refusal. Non-minikafka errors go to the app's handler. */
function errorResponse(c: Context, error: unknown, logger: BrokerLogger): Response {
  if (miniKafkaErrorCode(error) === undefined) throw error;
  const { status, body } = toErrorResponse(error, logger);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (error instanceof StreamError) {
    const s = error.state;
    if (s.closed) headers["stream-closed"] = "true";
    if (s.nextOffset !== undefined) headers["stream-next-offset"] = s.nextOffset;
    if (s.producerEpoch !== undefined) headers["producer-epoch"] = String(s.producerEpoch);
    if (s.expectedSeq !== undefined) headers["producer-expected-seq"] = String(s.expectedSeq);
    if (s.receivedSeq !== undefined) headers["producer-received-seq"] = String(s.receivedSeq);
  }
  return c.newResponse(c.req.method === "HEAD" ? null : JSON.stringify(body), status, headers);
}
