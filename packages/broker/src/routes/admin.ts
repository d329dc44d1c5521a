import { Hono } from "hono";
import { openApiDocument } from "@minikafka/protocol";
import { CLUSTER } from "../access.js";
import type { BrokerContext } from "../context.js";
import { BrokerError } from "../errors.js";
import { toErrorResponse } from "../error-handler.js";

const QUIET = { error() {} };

/** `/healthz`, `/readyz`, `/metrics`, `/openapi.json`. */
export function adminRoutes(ctx: BrokerContext): Hono {
  const { core } = ctx;
  let openapi: string | undefined;
  return new Hono()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", (c) => {
      try {
        core.checkReady();
        if (ctx.cluster !== undefined && !ctx.cluster.joined) {
          throw new BrokerError("BROKER_NOT_AVAILABLE", `broker ${ctx.cluster.nodeId} has not joined its cluster (yet): is etcd reachable?`);
        }
      } catch (error) {
        // "Not ready" is what a readiness probe asks about, not a fault: the same 503 envelope, without the
        // error log every other 5xx gets (a supervisor probing a starting broker would fill the log).
        const answer = toErrorResponse(error, QUIET);
        if (answer.status === 503) return c.json(answer.body, 503);
        throw error;
      }
      return c.json({ status: "ready" });
    })
    .get("/metrics", async (c) => {
      ctx.access.check(c, "cluster", CLUSTER, "describe");
      const { groups, lag } = await core.groups.lag();
      let logSizeBytes = 0;
      for (const topic of core.topics.list()) for (const p of topic.partitions) logSizeBytes += p.sizeBytes;
      const text = ctx.metrics.render({ store: core.store.metrics, groups, lag, logSizeBytes, holds: ctx.quotas.totals() });
      return c.body(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    })
    .get("/openapi.json", (c) => {
      openapi ??= JSON.stringify(openApiDocument());
      return c.body(openapi, 200, { "content-type": "application/json" });
    });
}
