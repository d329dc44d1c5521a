import { readFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { serve } from "@hono/node-server";
import { systemClock, type GroupEvent } from "@minikafka/group-coordinator";
import { LogStore, type LogStoreOptions, type TopicChangeEvent } from "@minikafka/log-store";
import { join } from "node:path";
import { StreamService } from "./core/stream-service.js";
import { buildBrokerApp } from "./app.js";
import { createBrokerContext, type BrokerAppOptions, type BrokerContext } from "./context.js";
import type { StructuredLogger } from "./structured-logger.js";
import { BrokerError } from "./errors.js";
import { createNodeLane, type NodeLane } from "./node-lane.js";
import { ClusterNode, type ClusterOptions } from "./cluster/cluster-node.js";
import { ReplicatedStore } from "./cluster/replicated-store.js";
import { ClusterGroups } from "./cluster/cluster-groups.js";
import { guardSockets, serverOptions, socketLimits, type SocketLimits } from "./socket-guard.js";

/** Options of {@link startBroker}. */
export interface StartBrokerOptions
  extends Omit<BrokerAppOptions, "store" | "coordinator" | "clock" | "signal" | "onGroupEvent" | "streams">, Omit<LogStoreOptions, "now"> {
  /**
   * The Durable Streams routes under `/v1/stream/*` (default: on). Streams live in a log store of their
   * own in `<dataDir>/__streams`, with the same fsync policy as the topics; `false` turns the routes off.
   */
  streams?: StreamsOptions | false | undefined;
  /** Port to listen on (default 8000, the seed's; 0 picks a free port). */
  port?: number | undefined;
  /** Interface to listen on (default `127.0.0.1`). */
  host?: string | undefined;
  /**
   * Install SIGINT/SIGTERM handlers that close the broker gracefully (default false). A second signal
   * exits at once, unless it comes within {@link SIGNAL_ECHO_MS} of the first: process managers
   * (pnpm, npm, tsx) forward the Ctrl-C the terminal already sent to the whole process group.
   */
  handleSignals?: boolean | undefined;
  /**
   * The broker's event log: start and stop, topic changes, group joins, leaves, rebalances, evictions
   * and fencings, slow requests (and every request at `debug`). Also where errors go when `logger` is not given.
   */
  log?: StructuredLogger | undefined;
  /** With `log`: requests that take longer than this are logged at `warn`, in ms (default 1 000; 0 = off). Long polls (`waitMs` > 0) are not. */
  slowRequestMs?: number | undefined;
  /** How long `close()` lets in-flight requests finish before cutting connections, in ms (default 10 000). */
  shutdownTimeoutMs?: number | undefined;
  /**
   * Serve HTTPS with this certificate and key (PEM files, read at start), and nothing on plain HTTP: the
   * port then speaks only TLS. Default: plain HTTP.
   */
  tls?: TlsOptions | undefined;
  /**
   * Bytes of a request's line and headers together (default 16 384, Node's); more → 431
   * `REQUEST_HEADERS_TOO_LARGE` and the connection is closed. The seed's produce carries its message in the
   * query string, so this also bounds those messages.
   */
  maxRequestHeaderBytes?: number | undefined;
  /**
   * A request's headers must have arrived this long after its first byte, in ms (default 20 000); a client
   * that sends them slower (slowloris) gets 408 `REQUEST_TIMEOUT` and is disconnected. Also the TLS
   * handshake's limit.
   */
  headersTimeoutMs?: number | undefined;
  /** The whole request, body included, must have arrived within this, in ms (default 120 000); else as above. At least `headersTimeoutMs`. */
  requestTimeoutMs?: number | undefined;
  /** A keep-alive connection with no request in progress is closed after this, in ms (default 5 000; Node adds one second). */
  keepAliveTimeoutMs?: number | undefined;
  /**
   * A connection on which nothing moves for this long is closed, in ms (default 60 000; 0 = never), unless
   * the broker is waiting to answer it: long polls and SSE streams are not idle while they wait for data.
   */
  idleTimeoutMs?: number | undefined;
  /**
   * Serve the per-message routes through the Node fast lane (default true); false sends every request
   * through the Hono app. For side-by-side benchmarks and tests.
   * @internal
   */
  nodeLane?: boolean | undefined;
  /**
   * Cluster mode (see the README's "Cluster" section): this broker joins the cluster whose metadata is in
   * `cluster.etcd`, holds replicas of its topics, leads some of their partitions and follows the rest.
   * Without it the broker is a single node and needs no etcd.
   */
  cluster?: ClusterOptions | undefined;
}

/** `StartBrokerOptions.tls`: the PEM files of the broker's certificate (chain) and private key. */
export interface TlsOptions {
  /** The certificate, followed by any intermediate certificates, PEM-encoded. */
  certFile: string;
  /** The private key of the certificate, PEM-encoded (unencrypted). */
  keyFile: string;
}

/** Settings of the Durable Streams routes of {@link startBroker}. */
export interface StreamsOptions {
  /** How long a long-poll read waits before answering 204, in ms (default 30 000). */
  longPollTimeoutMs?: number | undefined;
  /** SSE connections are ended after about this long, in ms (default 60 000), for clients to reconnect. */
  sseMaxMs?: number | undefined;
  /** Expired streams are deleted this often, in ms (default 60 000; they are refused as soon as they expire). */
  sweepIntervalMs?: number | undefined;
}

/** A running broker. */
export interface StartBrokerResult {
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  readonly url: string;
  /** The port actually listened on (useful with `port: 0`). */
  readonly port: number;
  /**
   * Shuts down gracefully: stops accepting connections, ends long polls (they answer with what they have),
   * lets in-flight requests finish (at most `shutdownTimeoutMs`), then closes the coordinator and flushes
   * and closes the store. Idempotent.
   */
  close(): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_PORT = 8000;
const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
const DEFAULT_SLOW_REQUEST_MS = 1_000;

/**
 * Signals that arrive this soon after the first one (in ms) are taken as copies of it, not as a second
 * Ctrl-C: a terminal sends SIGINT to every process of the foreground group, and wrappers such as pnpm,
 * npm and tsx forward it to their child as well.
 */
export const SIGNAL_ECHO_MS = 500;

/**
 * Opens the log store in `options.dataDir` (recovering it), serves the broker over HTTP with
 * `@hono/node-server`, and evicts silent consumer-group members on a timer. Produce requests are answered
 * once durable under `options.fsync` (default `"always"`: fsynced, group-committed).
 *
 * ```ts
 * const broker = await startBroker({ dataDir: "./data", port: 8000, handleSignals: true });
 * console.log(`listening on ${broker.url}`);
 * ```
 * @throws LogStoreError `DATA_DIR_LOCKED` when another process owns the data directory, `CORRUPT_RECORD`
 *   when durable data is damaged; the listen error (e.g. `EADDRINUSE`) when the port is taken.
 */
export async function startBroker(options: StartBrokerOptions): Promise<StartBrokerResult> {
  const {
    port = DEFAULT_PORT,
    host = DEFAULT_HOST,
    handleSignals = false,
    shutdownTimeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS,
    maxBodyBytes,
    maxWaitMs,
    maxRecordsPerRequest,
    maxRecordKeyBytes,
    maxRecordValueBytes,
    maxRecordHeaders,
    maxRecordHeaderBytes,
    maxRequestHeaderBytes,
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs,
    idleTimeoutMs,
    logger: givenLogger,
    log,
    slowRequestMs = DEFAULT_SLOW_REQUEST_MS,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    minSessionTimeoutMs,
    maxSessionTimeoutMs,
    offsetsRetentionMs,
    restartHoldMs,
    tickIntervalMs = 1_000,
    cors,
    auth,
    acls,
    streams: streamsOptions = {},
    tls,
    quotas,
    nodeLane = true,
    coalesceProduce,
    cluster: clusterOptions,
    ...storeOptions
  } = options;
  const logger = givenLogger ?? log;
  const limits = socketLimits({ maxRequestHeaderBytes, headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, idleTimeoutMs });
  const secure = tls === undefined ? undefined : readTls(tls);
  const store = await LogStore.open(storeOptions);
  /** A store of the broker's own beside the topics (streams, the cluster's internal topics), with the same durability. */
  const sideStore = (dir: string, extra: Partial<LogStoreOptions> = {}) =>
    LogStore.open({ dataDir: join(storeOptions.dataDir, dir), fsync: storeOptions.fsync, fsyncIntervalMs: storeOptions.fsyncIntervalMs, ...extra });
  const groupOptions = { sessionTimeoutMs, heartbeatIntervalMs, minSessionTimeoutMs, maxSessionTimeoutMs, offsetsRetentionMs };
  let internal: LogStore | undefined;
  let cluster: ClusterNode | undefined;
  let clusterGroups: ClusterGroups | undefined;
  if (clusterOptions !== undefined) {
    // The cluster's internal topics (group offsets) live in a store of their own, never reached through /v1.
    try {
      internal = await sideStore("__cluster");
    } catch (error) {
      await store.close();
      throw error;
    }
    cluster = new ClusterNode(store, clusterOptions, logger ?? console, log, internal, join(storeOptions.dataDir, "cluster-topics.json"));
    clusterGroups = new ClusterGroups(cluster, internal, {
      clock: systemClock,
      partitionCount: (topic) => {
        try {
          return store.describeTopic(topic).partitions.length;
        } catch {
          return undefined;
        }
      },
      topics: () => store.listTopics(),
      ...groupOptions,
      onEvent: log === undefined ? undefined : (event) => logGroupEvent(log, event),
      onLoadError: (partition, error) =>
        (logger ?? console).error(`minikafka broker: cannot load the group offsets of partition ${partition}`, error),
    });
  }
  const shutdown = new AbortController();
  let server: Server;
  let ctx: BrokerContext;
  let streamStore: LogStore | undefined;
  let streams: StreamService | undefined;
  try {
    if (streamsOptions !== false) {
      // Streams are topics of a store of their own: never listed, created or deleted through /v1.
      streamStore = await sideStore("__streams", { segmentBytes: storeOptions.segmentBytes });
      streams = await StreamService.open({ store: streamStore, ...streamsOptions, shutdown: shutdown.signal, logger });
    }
    ctx = createBrokerContext(
      {
        store: cluster === undefined ? store : new ReplicatedStore(store, cluster),
        coordinator: clusterGroups,
        clock: systemClock,
        ...groupOptions,
        restartHoldMs,
        tickIntervalMs,
        maxBodyBytes,
        maxWaitMs,
        maxRecordsPerRequest,
        maxRecordKeyBytes,
        maxRecordValueBytes,
        maxRecordHeaders,
        maxRecordHeaderBytes,
        logger,
        cors,
        auth,
        acls,
        onGroupEvent: log === undefined ? undefined : (event) => logGroupEvent(log, event),
        streams,
        quotas,
        coalesceProduce,
        signal: shutdown.signal,
      },
      cluster,
    );
    if (log !== undefined) store.onTopicChange((event) => logTopicChange(log, event));
    const app = buildBrokerApp(ctx);
    server = await listen(app.fetch, nodeLane ? createNodeLane(ctx) : undefined, port, host, secure, limits);
    if (cluster !== undefined) {
      // After listening: the other brokers may fetch from this one as soon as it is registered.
      try {
        await cluster.join(urlOf(server.address() as AddressInfo, secure !== undefined));
      } catch (error) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        throw error;
      }
    }
  } catch (error) {
    await streams?.close();
    await streamStore?.close();
    await internal?.close();
    await store.close();
    throw error;
  }
  const ticker = setInterval(() => {
    try {
      ctx.expireSessions(true);
    } catch {
      // Closed while shutting down.
    }
  }, tickIntervalMs);
  ticker.unref();

  // Keep-alive connections would hold server.close() up until their idle timeout: during shutdown,
  // answers say "connection: close" and every finished answer closes the connections left idle.
  let shuttingDown = false;
  const responses = new Set<ServerResponse>();
  ctx.metrics.connections = 0;
  server.on("connection", (socket: Socket) => {
    ctx.metrics.connections!++;
    socket.once("close", () => ctx.metrics.connections!--);
  });
  const timeRequests = log !== undefined && (slowRequestMs > 0 || log.enabled("debug"));
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (shuttingDown) res.setHeader("connection", "close");
    responses.add(res);
    const started = timeRequests ? performance.now() : 0;
    res.once("close", () => {
      responses.delete(res);
      if (shuttingDown) server.closeIdleConnections();
      if (timeRequests) logRequest(log!, req, res, performance.now() - started, slowRequestMs);
    });
  });

  const address = server.address() as AddressInfo;
  const url = urlOf(address, secure !== undefined);
  log?.log("info", "broker.started", `minikafka broker listening on ${url}`, {
    address: url,
    dataDir: storeOptions.dataDir,
    fsync: storeOptions.fsync ?? "always",
    ...(cluster === undefined ? {} : { nodeId: cluster.nodeId, cluster: cluster.clusterId }),
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      shutdown.abort();
      clearInterval(ticker);
      shuttingDown = true;
      for (const res of responses) if (!res.headersSent) res.setHeader("connection", "close");
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), shutdownTimeoutMs);
      force.unref();
      await stopped;
      clearTimeout(force);
      // Leaves the cluster (resigns leaderships, revokes the lease) before the store closes under it.
      await cluster?.close();
      await ctx.coordinator.close();
      await streams?.close();
      await streamStore?.close();
      await internal?.close();
      await store.close();
      removeSignalHandlers();
      log?.log("info", "broker.stopped", "minikafka broker stopped", { address: url });
    })();
    return closing;
  };

  const removeSignalHandlers = handleSignals
    ? onShutdownSignal(() => {
        void close().catch((error: unknown) => {
          (logger ?? console).error("minikafka broker: shutdown failed", error);
          process.exitCode = 1;
        });
      })
    : () => undefined;

  return { url, port: address.port, close, [Symbol.asyncDispose]: close };
}

/** The base URL of a listening server. */
function urlOf(address: AddressInfo, secure: boolean): string {
  return `${secure ? "https" : "http"}://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
}

/**
 * Reads the certificate and key files.
 * @throws BrokerError `INVALID_REQUEST` naming the option for a missing field or an unreadable file.
 */
function readTls(tls: TlsOptions): { cert: Buffer; key: Buffer } {
  const read = (name: "certFile" | "keyFile") => {
    const file = tls?.[name];
    if (typeof file !== "string" || file === "") throw new BrokerError("INVALID_REQUEST", `tls.${name} must be the path of a PEM file`);
    try {
      return readFileSync(file);
    } catch (error) {
      throw new BrokerError("INVALID_REQUEST", `tls.${name}: cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
  };
  return { cert: read("certFile"), key: read("keyFile") };
}

function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  lane: NodeLane | undefined,
  port: number,
  hostname: string,
  tls: { cert: Buffer; key: Buffer } | undefined,
  limits: SocketLimits,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const options = serverOptions(limits, tls);
    // The lane answers the per-message routes it can serve exactly as the app would; the app, everything else.
    const createServer = (opts: ServerOptions, app: RequestListener): Server => {
      const listener: RequestListener = lane === undefined ? app : (req, res) => lane(req, res) || void app(req, res);
      return tls === undefined ? createHttpServer(opts, listener) : (createHttpsServer(opts, listener) as unknown as Server);
    };
    const server = serve({ fetch, port, hostname, createServer: createServer as never, serverOptions: options }) as Server;
    guardSockets(server, limits);
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.once("listening", () => {
      server.off("error", onError);
      resolve(server);
    });
  });
}

/**
 * Calls `onFirst(signal)` on the first SIGINT or SIGTERM. A later one exits the process at once (130 /
 * 143), unless it comes within {@link SIGNAL_ECHO_MS} of the first (a copy forwarded by a wrapper). The
 * handlers stay installed until the returned function removes them: without one, a wrapper's copy would
 * kill the process mid-shutdown. Internal.
 */
export function onShutdownSignal(onFirst: (signal: NodeJS.Signals) => void, echoMs = SIGNAL_ECHO_MS): () => void {
  let first: number | undefined;
  const handler = (signal: NodeJS.Signals) => {
    const now = performance.now();
    if (first === undefined) {
      first = now;
      onFirst(signal);
    } else if (now - first >= echoMs) {
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

function logGroupEvent(log: StructuredLogger, event: GroupEvent): void {
  switch (event.type) {
    case "member-joined":
      log.log("info", "group.member.joined", `member ${event.memberId} joined group ${event.groupId}`, {
        groupId: event.groupId,
        memberId: event.memberId,
        memberEpoch: event.memberEpoch,
        instanceId: event.instanceId,
        topics: event.topics,
        replacedMemberId: event.replacedMemberId,
      });
      return;
    case "member-left":
      log.log("info", "group.member.left", `member ${event.memberId} left group ${event.groupId}`, {
        groupId: event.groupId,
        memberId: event.memberId,
      });
      return;
    case "member-expired":
      log.log("warn", "group.member.expired", `member ${event.memberId} of group ${event.groupId} evicted: no heartbeat within the session timeout`, {
        groupId: event.groupId,
        memberId: event.memberId,
        instanceId: event.instanceId,
      });
      return;
    case "member-fenced":
      log.log("warn", "group.member.fenced", `member ${event.memberId} of group ${event.groupId} fenced (${event.code})`, {
        groupId: event.groupId,
        memberId: event.memberId,
        memberEpoch: event.memberEpoch,
        code: event.code,
      });
      return;
    case "rebalance":
      log.log("info", "group.rebalanced", `group ${event.groupId} rebalanced to epoch ${event.groupEpoch} with ${event.memberCount} members`, {
        groupId: event.groupId,
        groupEpoch: event.groupEpoch,
        memberCount: event.memberCount,
      });
      return;
  }
}

/** Logs each create, grow and delete as the store tells it (whoever made the change). */
function logTopicChange(log: StructuredLogger, event: TopicChangeEvent): void {
  const { topic, partitions } = event;
  if (event.type === "created") log.log("info", "topic.created", `topic ${topic} created with ${partitions} partitions`, { topic, partitions });
  else if (event.type === "deleted") log.log("info", "topic.deleted", `topic ${topic} deleted`, { topic });
  else log.log("info", "topic.grown", `topic ${topic} grown to ${partitions} partitions`, { topic, partitions });
}

function logRequest(log: StructuredLogger, req: IncomingMessage, res: ServerResponse, ms: number, slowRequestMs: number): void {
  const raw = req.url ?? "/";
  const query = raw.indexOf("?");
  const path = query < 0 ? raw : raw.slice(0, query);
  const fields = { method: req.method, path, status: res.statusCode, durationMs: Math.round(ms) };
  const longPoll = query >= 0 && /[?&]waitMs=0*[1-9]/.test(raw.slice(query));
  if (slowRequestMs > 0 && ms >= slowRequestMs && !longPoll) {
    log.log("warn", "request.slow", `slow request: ${req.method} ${path} took ${fields.durationMs} ms`, fields);
  } else {
    log.log("debug", "request", `${req.method} ${path} ${res.statusCode} ${fields.durationMs} ms`, fields);
  }
}
