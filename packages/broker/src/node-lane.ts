// The Node fast lane: the broker's per-message routes (one-record produce, member fetch and commit, the seed's
// produce, poll and ack) served straight from Node's request and response objects, calling the same core
// services, schemas, access checks, limits, metrics and error table as the Hono routes. A one-record
// produce through Hono costs about twice the broker CPU of the same work done here: the web `Request`
// façade, the `Response` and its header object, a promise and closure per middleware layer, the router's
// parameter decoding, and the Headers object built from the raw headers for the first `c.req.header()`.
//
// The lane only takes requests whose every step it does exactly as the Hono app would; anything else goes
// to the app unchanged (the lane says "not mine" before touching the request): a browser's request (an
// `Origin` or `Sec-Fetch-Site` header: the web guard and CORS decide those), a path with `%`-escapes, dot
// segments or characters @hono/node-server would normalise, an unusual Host, a repeated header (Node
// keeps the first `Content-Type` / `Authorization` where a web `Headers` joins them), a chunked body,
// quotas configured, a long poll (`waitMs`), a HEAD. `node-lane.test.ts` runs the same requests, good and
// bad, through both and compares the answers.
import type { IncomingMessage, ServerResponse } from "node:http";
import { getQueryParams } from "hono/utils/url";
import {
  CommitBody,
  CompatAckParams,
  CompatAckQuery,
  CompatPollQuery,
  CompatProduceQuery,
  GroupParams,
  MemberFetchQuery,
  MemberParams,
  ProduceBody,
  TopicParams,
} from "@minikafka/protocol";
import type { Principal } from "./access.js";
import type { BrokerContext } from "./context.js";
import { parsePositions } from "./core/committed-reader.js";
import { produceProducer } from "./core/produce-service.js";
import { BrokerError } from "./errors.js";
import { toErrorResponse } from "./error-handler.js";
import { memberRecordsJson } from "./routes/groups.js";
import { offsetsJson } from "./routes/records.js";
import { parseJsonText, parseStrings, requireJsonContentType } from "./validate.js";

/** Serves `req` and answers `res` if the request is one of the lane's (then returns true); otherwise touches nothing and returns false. */
export type NodeLane = (req: IncomingMessage, res: ServerResponse) => boolean;

// @hono/node-server builds the URL from the raw request target only when these hold (else it normalises it
// through `new URL`); the lane takes the same targets, minus `#` and `%` (fragments, escapes).
const PLAIN_TARGET = /^\/[!$&-;=?-[\]_a-z~]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?]|$)/;
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;

/** What one lane route answers: a status and a JSON body (`null`: none), plus a pool buffer to recycle. */
interface Answer {
  status: number;
  body: string | Uint8Array | null;
  pooled?: Uint8Array<ArrayBuffer> | undefined;
}

/** A request as a lane route sees it. */
interface LaneRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Path segments after the leading `/`. */
  readonly segments: readonly string[];
  /** The raw request target (path and query). */
  readonly target: string;
  /** The authenticated principal (`undefined` without `auth`). */
  principal: Principal | undefined;
}

interface LaneRoute {
  /** The route's pattern as the Hono app names it (the metrics label). */
  readonly pattern: string;
  /** Reads a JSON body (`/v1` bodies are bounded by `maxBodyBytes` first). */
  readonly body: boolean;
  serve(request: LaneRequest): Promise<Answer>;
}

const JSON_HEADERS = { "content-type": "application/json" } as const;
const textDecoder = new TextDecoder();

/**
 * Builds the lane over the broker's context. Internal: `startBroker` puts it in front of the Hono app's
 * request listener.
 */
export function createNodeLane(ctx: BrokerContext): NodeLane {
  const { core, access, quotas, metrics } = ctx;
  const { produce, groups, compat, topics } = core;

  const queryOf = (target: string): Record<string, string | string[]> => {
    // What Hono's query validator hands its function: `c.req.queries()`, one value unwrapped.
    const all = getQueryParams(`http://l${target}`) as Record<string, string[]>;
    const out: Record<string, string | string[]> = {};
    for (const key in all) {
      const values = all[key]!;
      out[key] = values.length === 1 ? values[0]! : values;
    }
    return out;
  };

  const v1Produce: LaneRoute = {
    pattern: "/v1/topics/:topic/records",
    body: true,
    async serve({ req, segments, principal }) {
      const { topic } = parseStrings(TopicParams, { topic: segments[2]! }, "path");
      requireJsonContentType(req.headers["content-type"]);
      const text = readText(req);
      const body = parseJsonText(ProduceBody, typeof text === "string" ? text : await text);
      access.checkPrincipal(principal, "topic", topic, "write");
      const { records, encoding = "utf8", ...producer } = body;
      return { status: 200, body: offsetsJson(await produce.produce(topic, records, encoding, produceProducer(producer))) };
    },
  };

  const memberFetch: LaneRoute = {
    pattern: "/v1/groups/:group/members/:member/records",
    body: false,
    async serve({ segments, target, principal }) {
      const { group, member } = parseStrings(MemberParams, { group: segments[2]!, member: segments[4]! }, "path");
      const query = parseStrings(MemberFetchQuery, queryOf(target), "query");
      access.checkPrincipal(principal, "group", group, "read");
      if (principal !== undefined && !principal.unrestricted) {
        for (const topic of ctx.coordinator.describeMember(group, member).topics) access.checkPrincipal(principal, "topic", topic, "read");
      }
      const { maxRecords, maxBytes, waitMs, encoding = "utf8", positions } = query;
      const reads = await groups.memberFetch(group, member, { maxRecords, maxBytes, waitMs, positions: parsePositions(positions) });
      const body = memberRecordsJson(ctx, reads, encoding, () => undefined);
      return { status: 200, body: body.bytes(), pooled: body.buffer };
    },
  };

  const commit: LaneRoute = {
    pattern: "/v1/groups/:group/offsets",
    body: true,
    async serve({ req, segments, principal }) {
      const { group } = parseStrings(GroupParams, { group: segments[2]! }, "path");
      requireJsonContentType(req.headers["content-type"]);
      const body = parseJsonText(CommitBody, await readText(req));
      access.checkPrincipal(principal, "group", group, "read");
      for (const { topic } of body.offsets) access.checkPrincipal(principal, "topic", topic, "read");
      await groups.commitOffsets(group, body);
      return { status: 204, body: null };
    },
  };

  const seedProduce: LaneRoute = {
    pattern: "/topics/:topic/messages",
    body: false,
    async serve({ segments, target, principal }) {
      const { topic } = parseStrings(TopicParams, { topic: segments[1]! }, "path");
      const { message, key = "" } = parseStrings(CompatProduceQuery, queryOf(target), "query");
      access.checkPrincipal(principal, "topic", topic, "write");
      // The seed creates the topic on first produce: that is a create too.
      if (topics.partitionCount(topic) === undefined) access.checkCreateTopicPrincipal(principal, topic);
      const { partition, offset } = await produce.produceCompat(topic, key, message);
      return { status: 200, body: JSON.stringify({ message_offset: offset, partition_id: partition }) };
    },
  };

  const seedPoll: LaneRoute = {
    pattern: "/topics/:topic/messages",
    body: false,
    async serve({ segments, target, principal }) {
      const { topic } = parseStrings(TopicParams, { topic: segments[1]! }, "path");
      const { consumer_id, group_id } = parseStrings(CompatPollQuery, queryOf(target), "query");
      access.checkPrincipal(principal, "group", group_id, "read");
      access.checkPrincipal(principal, "topic", topic, "read");
      const messages = await compat.poll(topic, group_id, consumer_id);
      // FastAPI's error shape, which the seed's Consumer.poll() reads as "nothing for me".
      if (messages === null) return { status: 404, body: JSON.stringify({ detail: "Consumer not assigned to any partitions." }) };
      return { status: 200, body: JSON.stringify(messages) };
    },
  };

  const seedAck: LaneRoute = {
    pattern: "/topics/:topic/messages/:offset/ack",
    body: false,
    async serve({ segments, target, principal }) {
      const { topic, offset } = parseStrings(CompatAckParams, { topic: segments[1]!, offset: segments[3]! }, "path");
      const { consumer_id, partition_id } = parseStrings(CompatAckQuery, queryOf(target), "query");
      access.checkPrincipal(principal, "topic", topic, "read");
      await compat.ack(topic, consumer_id, partition_id, offset, (group) => access.allowsPrincipal(principal, "group", group, "read"));
      return { status: 200, body: '{"status":"ok"}' };
    },
  };

  /** The lane's route for this method and path, if any. */
  const route = (method: string | undefined, segments: readonly string[], target: string): LaneRoute | undefined => {
    const n = segments.length;
    if (segments[0] === "v1") {
      if (method === "POST" && n === 4 && segments[1] === "topics" && segments[3] === "records") return v1Produce;
      if (segments[1] !== "groups") return undefined;
      if (method === "POST" && n === 4 && segments[3] === "offsets") return commit;
      // A long poll holds a slot of the principal's bound: the Hono route counts it.
      if (method === "GET" && n === 6 && segments[3] === "members" && segments[5] === "records" && !target.includes("waitMs")) return memberFetch;
      return undefined;
    }
    if (segments[0] !== "topics" || segments[2] !== "messages") return undefined;
    if (n === 3) return method === "POST" ? seedProduce : method === "GET" ? seedPoll : undefined;
    if (n === 5 && method === "POST" && segments[4] === "ack") return seedAck;
    return undefined;
  };

  const answer = (res: ServerResponse, { status, body, pooled }: Answer, extra?: Record<string, string>) => {
    if (pooled !== undefined) ctx.bodies.recycleAfterFinish(res, pooled);
    if (body === null) {
      res.writeHead(status, extra);
      res.end();
      return;
    }
    const length = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
    res.writeHead(status, { ...JSON_HEADERS, "content-length": length, ...extra });
    res.end(body);
  };

  const run = async (r: LaneRoute, request: LaneRequest): Promise<void> => {
    const { req, res } = request;
    metrics.inFlight++;
    let result: Answer;
    let extra: Record<string, string> | undefined;
    try {
      // The Hono app's order: authenticate, bound the body (`/v1` only), then the route's own checks.
      if (access.enabled) request.principal = access.authenticate(req.headers.authorization);
      if (r.body && Number(req.headers["content-length"]) > ctx.maxBodyBytes) {
        throw new BrokerError("REQUEST_TOO_LARGE", `request body exceeds the limit of ${ctx.maxBodyBytes} bytes`);
      }
      result = await r.serve(request);
    } catch (error) {
      if (error instanceof BodyUnreadable) {
        // The client went away mid-body: there is no one to answer.
        metrics.inFlight--;
        res.destroy();
        return;
      }
      const { status, body } = toErrorResponse(error, ctx.logger, metrics);
      // RFC 6750: a 401 names the scheme the broker accepts.
      if (status === 401) extra = { "www-authenticate": 'Bearer realm="minikafka"' };
      result = { status, body: JSON.stringify(body) };
    }
    metrics.inFlight--;
    metrics.countRequest(req.method!, r.pattern, result.status);
    try {
      answer(res, result, extra);
    } catch (error) {
      ctx.logger.error("minikafka broker: writing an answer failed", error);
      res.destroy();
    }
  };

  return (req, res) => {
    const target = req.url ?? "";
    if (!PLAIN_TARGET.test(target) || DOT_SEGMENT.test(target) || target.includes("%")) return false;
    const q = target.indexOf("?");
    const segments = (q < 0 ? target : target.slice(0, q)).slice(1).split("/");
    const r = route(req.method, segments, target);
    if (r === undefined || quotas.enabled) return false;
    const headers = req.headers;
    // A browser's request: the web guard's, and CORS answers carry headers of their own.
    if (headers.origin !== undefined || headers["sec-fetch-site"] !== undefined) return false;
    const host = headers.host;
    if (host === undefined || !PLAIN_HOST.test(host)) return false;
    // A repeated header: Node keeps the first of some (Content-Type, Authorization) where Hono's web
    // Headers would see them joined. Every distinct name is one key of `headers`.
    if (req.rawHeaders.length !== 2 * Object.keys(headers).length) return false;
    if (headers["transfer-encoding"] !== undefined) return false;
    const length = headers["content-length"];
    if (r.body ? length === undefined : length !== undefined && length !== "0") return false;
    // Answered from a later turn, never inside this listener: the server's other "request" listeners
    // (shutdown's `connection: close`, the socket guard) run first, as they do for the Hono app.
    queueMicrotask(() => void run(r, { req, res, segments, target, principal: undefined }));
    return true;
  };
}

/** The request body could not be read to its end (the client disconnected). */
class BodyUnreadable extends Error {}

/**
 * The whole body as text, decoded as @hono/node-server's `text()` does (UTF-8, a leading BOM dropped).
 * A small body usually arrives in the same read as its headers: the parser has then pushed all of it, and
 * its end, before the lane's route runs (`req.complete`), and it is taken from the stream's buffer at once
 * (a string, no promise, no listeners); otherwise it is read as it arrives.
 */
function readText(req: IncomingMessage): string | Promise<string> {
  if (req.complete && !req.readableFlowing) {
    const all = req.read() as Buffer | null; // everything buffered, in one Buffer (null: an empty body)
    return all === null ? "" : textDecoder.decode(all);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => resolve(textDecoder.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))));
    req.once("error", () => reject(new BodyUnreadable()));
    req.once("close", () => {
      if (!req.complete) reject(new BodyUnreadable());
    });
  });
}
