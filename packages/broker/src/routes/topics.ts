import { Hono } from "hono";
import { AddPartitionsBody, CreateTopicBody, TopicParams } from "@minikafka/protocol";
import type { BrokerContext } from "../context.js";
import { jsonBody, params } from "../validate.js";

/** `/v1/topics`: create, list, describe, grow, delete. */
export function topicRoutes(ctx: BrokerContext): Hono {
  const { topics } = ctx.core;
  return new Hono()
    .post("/v1/topics", jsonBody(CreateTopicBody), async (c) => {
      const { name, partitions, config } = c.req.valid("json");
      return c.json(await topics.create(name, { partitions, config }), 201);
    })
    .get("/v1/topics", (c) => c.json({ topics: topics.list() }))
    .get("/v1/topics/:topic", params(TopicParams), (c) => c.json(topics.describe(c.req.valid("param").topic)))
    .post("/v1/topics/:topic/partitions", params(TopicParams), jsonBody(AddPartitionsBody), async (c) => {
      return c.json(await topics.grow(c.req.valid("param").topic, c.req.valid("json").count));
    })
    .delete("/v1/topics/:topic", params(TopicParams), async (c) => {
      await topics.delete(c.req.valid("param").topic);
      return c.body(null, 204);
    });
}
