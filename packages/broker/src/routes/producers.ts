import { Hono } from "hono";
import type { BrokerContext } from "../context.js";

/** `POST /v1/producers`: a fresh idempotent-producer id (no body). */
export function producerRoutes(ctx: BrokerContext): Hono {
  const { producers } = ctx.core;
  return new Hono().post("/v1/producers", async (c) => c.json(await producers.initProducerId(), 201));
}
