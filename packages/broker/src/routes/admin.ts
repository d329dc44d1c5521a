import { Hono } from "hono";
import type { BrokerContext } from "../context.js";
import { BrokerError } from "../errors.js";
import { groupLag, type PartitionLag } from "../group-lag.js";
import type { LagSample } from "../metrics.js";
import { openApiDocument } from "@minikafka/protocol";

/** `/healthz`, `/readyz`, `/metrics`, `/openapi.json`. */
export function adminRoutes(ctx: BrokerContext): Hono {
  let openapi: string | undefined;
  return new Hono()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", (c) => {
      if (ctx.shutdown.aborted) throw new BrokerError("BROKER_NOT_AVAILABLE", "the broker is shutting down");
      ctx.store.listTopics(); // throws STORE_CLOSED (503) once the store is closed
      return c.json({ status: "ready" });
    })
    .get("/metrics", async (c) => {
      const groups = ctx.coordinator.listGroups();
      const lag: LagSample[] = [];
      for (const { groupId } of groups) {
        const partitions: PartitionLag[] = await groupLag(ctx, groupId);
        for (const p of partitions) lag.push({ group: groupId, topic: p.topic, partition: p.partition, lag: p.lag });
      }
      const text = ctx.metrics.render({ store: ctx.store.metrics, groups, lag });
      return c.body(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    })
    .get("/openapi.json", (c) => {
      openapi ??= JSON.stringify(openApiDocument());
      return c.body(openapi, 200, { "content-type": "application/json" });
    });
}
