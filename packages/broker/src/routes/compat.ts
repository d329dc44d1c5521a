// The seed tutorial's API (mini_kafka_v2's FastAPI server), unchanged on the wire, so that its Python
// Producer and Consumer run against minikafka without edits. Its semantics minus its bugs: durable
// 0-based offsets, stable murmur2 key hashing (not Python's salted hash()), group-level committed offsets.
// The rules live in the core (`ProduceService.produceCompat`, `CompatConsumers`); these routes only
// decode the query strings and answer the seed's shapes.
import { Hono, type Context } from "hono";
import {
  CompatAckParams,
  CompatAckQuery,
  CompatConsumerQuery,
  CompatCreateQuery,
  CompatPollQuery,
  CompatProduceQuery,
  CompatSubscribeParams,
  TopicParams,
} from "@minikafka/protocol";
import type { BrokerContext } from "../context.js";
import { params, query } from "../validate.js";

/** The seed's topic and producer routes. */
export function compatProducerRoutes(ctx: BrokerContext): Hono {
  const { topics, produce } = ctx.core;
  const { access, quotas } = ctx;
  return new Hono()
    .post("/topics/:topic/create", params(TopicParams), query(CompatCreateQuery), async (c) => {
      // As in the seed: creating an existing topic is a no-op, whatever its partition count.
      const { topic } = c.req.valid("param");
      access.checkCreateTopic(c, topic);
      await topics.ensure(topic, c.req.valid("query").num_partitions ?? 1);
      return c.json(null);
    })
    .post("/topics/:topic/messages", params(TopicParams), query(CompatProduceQuery), async (c) => {
      const { message, key = "" } = c.req.valid("query");
      const { topic } = c.req.valid("param");
      access.check(c, "topic", topic, "write");
      quotas.admit(c, "produce");
      // The seed creates the topic on first produce: that is a create too.
      if (topics.partitionCount(topic) === undefined) access.checkCreateTopic(c, topic);
      const { partition, offset } = await produce.produceCompat(topic, key, message);
      quotas.charge(c, "produce", key.length + message.length);
      return c.json({ message_offset: offset, partition_id: partition });
    });
}

/** The seed's consumer routes: subscribe, poll, ack (see `CompatConsumers`). */
export function compatConsumerRoutes(ctx: BrokerContext): Hono {
  const consumers = ctx.core.compat;
  const { access } = ctx;
  const checkConsumer = (c: Context, topic: string, group: string) => {
    access.check(c, "group", group, "read");
    access.check(c, "topic", topic, "read");
  };
  return new Hono()
    .post("/topics/:topic/groups/:group/subscribe", params(CompatSubscribeParams), query(CompatConsumerQuery), (c) => {
      const { topic, group } = c.req.valid("param");
      checkConsumer(c, topic, group);
      return c.json({ assigned_partitions: consumers.subscribe(topic, group, c.req.valid("query").consumer_id) });
    })
    .get("/topics/:topic/messages", params(TopicParams), query(CompatPollQuery), async (c) => {
      const { consumer_id, group_id } = c.req.valid("query");
      const { topic } = c.req.valid("param");
      checkConsumer(c, topic, group_id);
      const messages = await consumers.poll(topic, group_id, consumer_id);
      // FastAPI's error shape, which the seed's Consumer.poll() reads as "nothing for me".
      if (messages === null) return c.json({ detail: "Consumer not assigned to any partitions." }, 404);
      return c.json(messages);
    })
    .post("/topics/:topic/messages/:offset/ack", params(CompatAckParams), query(CompatAckQuery), async (c) => {
      const { topic, offset } = c.req.valid("param");
      const { consumer_id, partition_id } = c.req.valid("query");
      access.check(c, "topic", topic, "read");
      // The seed's ack names no group: it is for one the consumer joined and the principal may read.
      await consumers.ack(topic, consumer_id, partition_id, offset, (group) => access.allows(c, "group", group, "read"));
      return c.json({ status: "ok" });
    });
}
