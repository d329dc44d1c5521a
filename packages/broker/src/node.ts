import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { serve } from "@hono/node-server";
import { systemClock } from "@minikafka/group-coordinator";
import { LogStore, type LogStoreOptions } from "@minikafka/log-store";
import { buildBrokerApp } from "./app.js";
import { createBrokerContext, type BrokerAppOptions, type BrokerContext } from "./context.js";

/** Options of {@link startBroker}. */
export interface StartBrokerOptions extends Omit<BrokerAppOptions, "store" | "coordinator" | "clock" | "signal">, Omit<LogStoreOptions, "now"> {
  /** Port to listen on (default 8000, the seed's; 0 picks a free port). */
  port?: number | undefined;
  /** Interface to listen on (default `127.0.0.1`). */
  host?: string | undefined;
  /** Install SIGINT/SIGTERM handlers that close the broker gracefully (default false). A second signal exits at once. */
  handleSignals?: boolean | undefined;
  /** How long `close()` lets in-flight requests finish before cutting connections, in ms (default 10 000). */
  shutdownTimeoutMs?: number | undefined;
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
    logger,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    offsetsRetentionMs,
    restartHoldMs,
    tickIntervalMs = 1_000,
    cors,
    auth,
    acls,
    ...storeOptions
  } = options;
  const store = await LogStore.open(storeOptions);
  const shutdown = new AbortController();
  let server: Server;
  let ctx: BrokerContext;
  try {
    ctx = createBrokerContext({
      store,
      clock: systemClock,
      sessionTimeoutMs,
      heartbeatIntervalMs,
      offsetsRetentionMs,
      restartHoldMs,
      tickIntervalMs,
      maxBodyBytes,
      maxWaitMs,
      logger,
      cors,
      auth,
      acls,
      signal: shutdown.signal,
    });
    const app = buildBrokerApp(ctx);
    server = await listen(app.fetch, port, host);
  } catch (error) {
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
  server.on("request", (_req: IncomingMessage, res: ServerResponse) => {
    if (shuttingDown) res.setHeader("connection", "close");
    responses.add(res);
    res.once("close", () => {
      responses.delete(res);
      if (shuttingDown) server.closeIdleConnections();
    });
  });

  const address = server.address() as AddressInfo;
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      removeSignalHandlers();
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
      await ctx.coordinator.close();
      await store.close();
    })();
    return closing;
  };

  // close() removes the handlers at once, so a second signal gets Node's default: exit now.
  const onSignal = () => {
    void close().catch((error: unknown) => {
      (logger ?? console).error("minikafka broker: shutdown failed", error);
      process.exitCode = 1;
    });
  };
  const removeSignalHandlers = () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  if (handleSignals) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }

  return { url, port: address.port, close, [Symbol.asyncDispose]: close };
}

function listen(fetch: (request: Request) => Response | Promise<Response>, port: number, hostname: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname }) as Server;
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.once("listening", () => {
      server.off("error", onError);
      resolve(server);
    });
  });
}
