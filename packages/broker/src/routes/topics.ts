import { Hono } from "hono";
import { AddPartitionsBody, CreateTopicBody, TopicParams } from "@minikafka/protocol";
import type { BrokerContext } from "../context.js";
import { jsonBody, params } from "../validate.js";

/** `/v1/topics`: create, list, describe, grow, delete. */
export function topicRoutes(ctx: BrokerContext): Hono {
  const { topics } = ctx.core;
  const { access } = ctx;
  return new Hono()
    .post("/v1/topics", jsonBody(CreateTopicBody), async (c) => {
      const { name, partitions, config, replicationFactor, minInsyncReplicas } = c.req.valid("json");
      access.checkCreateTopic(c, name);
      return c.json(await topics.create(name, { partitions, config, replicationFactor, minInsyncReplicas }), 201);
    })
    .get("/v1/topics", (c) => c.json({ topics: access.filter(c, "topic", topics.list(), (t) => t.name) }))
    .get("/v1/topics/:topic", params(TopicParams), async (c) => {
      const { topic } = c.req.valid("param");
      access.check(c, "topic", topic, "describe");
      return c.json(await topics.resolve(topic));
    })
    .post("/v1/topics/:topic/partitions", params(TopicParams), jsonBody(AddPartitionsBody), async (c) => {
      const { topic } = c.req.valid("param");
      access.check(c, "topic", topic, "alter");
      return c.json(await topics.grow(topic, c.req.valid("json").count));
    })
    .delete("/v1/topics/:topic", params(TopicParams), async (c) => {
      const { topic } = c.req.valid("param");
      access.check(c, "topic", topic, "delete");
      await topics.delete(topic);
      return c.body(null, 204);
    });
}
