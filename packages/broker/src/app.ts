import { Hono } from "hono";
import { matchedRoutes } from "hono/route";
import { limitBody } from "./body-limit.js";
import { webGuard } from "./web-guard.js";
import { createBrokerContext, type BrokerAppOptions, type BrokerContext } from "./context.js";
import { createErrorHandler, notFoundHandler } from "./error-handler.js";
import { adminRoutes } from "./routes/admin.js";
import { clusterRoutes } from "./routes/cluster.js";
import { compatConsumerRoutes, compatProducerRoutes } from "./routes/compat.js";
import { consoleRoutes } from "./routes/console.js";
import { groupRoutes } from "./routes/groups.js";
import { producerRoutes } from "./routes/producers.js";
import { recordRoutes } from "./routes/records.js";
import { streamRoutes } from "./routes/streams.js";
import { topicSseRoutes } from "./routes/topic-sse.js";
import { topicRoutes } from "./routes/topics.js";

/**
 * The broker as a Hono app, runtime-agnostic (serve it with `@hono/node-server`, Deno, Bun, or call
 * `app.request()` in tests). Routes: the `/v1` API (topics, records, consumer groups), the seed tutorial's
 * API, `/healthz`, `/readyz`, `/metrics`, `/openapi.json`, and the web console at `/console/` (`GET /` links to it). Every input is validated at the boundary;
 * every error answers `{ "error": { "code", "message", "retriable" } }` with a status from one table.
 *
 * The caller owns `options.store` (and a coordinator it passes in): close them after the server stops.
 *
 * ```ts
 * const store = await LogStore.open({ dataDir: "./data" });
 * const app = createBrokerApp({ store });
 * const res = await app.request("/v1/topics", { method: "POST", body: JSON.stringify({ name: "orders", partitions: 3 }) });
 * ```
 * @throws BrokerError `INVALID_REQUEST` for invalid options.
 */
export function createBrokerApp(options: BrokerAppOptions): Hono {
  return buildBrokerApp(createBrokerContext(options));
}

/** Builds the app over an existing context. Internal (used by `startBroker`, which needs the context too). */
export function buildBrokerApp(ctx: BrokerContext): Hono {
  const app = new Hono();
  app.onError(createErrorHandler(ctx.logger, ctx.metrics));
  app.notFound(notFoundHandler);
  app.use("*", async (c, next) => {
    ctx.metrics.inFlight++;
    try {
      await next();
    } finally {
      ctx.metrics.inFlight--;
    }
    // The route pattern, not the path: one time series per route whatever the topic names.
    const route = matchedRoutes(c).at(-1);
    ctx.metrics.countRequest(c.req.method, route !== undefined && route.method !== "ALL" ? route.path : "unmatched", c.res.status);
  });
  // Before any route: pages on other origins change nothing (and read nothing) unless listed.
  app.use("*", webGuard(ctx.corsOrigins));
  // Then who is asking (when auth is configured), before any body is read.
  app.use("*", ctx.access.middleware());
  // Only the /v1 routes read a body.
  app.use("/v1/*", limitBody(ctx.maxBodyBytes));
  app.route("/", topicRoutes(ctx));
  if (ctx.streams !== undefined) app.route("/", streamRoutes(ctx.streams, ctx.access, ctx.logger, ctx.quotas));
  app.route("/", topicSseRoutes(ctx));
  app.route("/", recordRoutes(ctx));
  app.route("/", producerRoutes(ctx));
  app.route("/", groupRoutes(ctx));
  app.route("/", compatProducerRoutes(ctx));
  app.route("/", compatConsumerRoutes(ctx));
  app.route("/", clusterRoutes(ctx));
  app.route("/", adminRoutes(ctx));
  app.route("/", consoleRoutes());
  return app;
}
