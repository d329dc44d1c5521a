// The seed tutorial's API (mini_kafka_v2's FastAPI server), unchanged on the wire, so that its Python
// Producer and Consumer run against minikafka without edits. Its semantics minus its bugs: durable
// 0-based offsets, stable murmur2 key hashing (not Python's salted hash()), group-level committed offsets.
import { partitionForKey } from "@minikafka/partitioner";
import { Hono } from "hono";
import { CompatConsumers } from "../compat-consumers.js";
import type { BrokerContext } from "../context.js";
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
import { params, query } from "../validate.js";

/** The seed's topic and producer routes. */
export function compatProducerRoutes(ctx: BrokerContext): Hono {
  const { topics } = ctx;
  return new Hono()
    .post("/topics/:topic/create", params(TopicParams), query(CompatCreateQuery), async (c) => {
      // As in the seed: creating an existing topic is a no-op, whatever its partition count.
      await topics.ensure(c.req.valid("param").topic, c.req.valid("query").num_partitions ?? 1);
      return c.json(null);
    })
    .post("/topics/:topic/messages", params(TopicParams), query(CompatProduceQuery), async (c) => {
      const { topic } = c.req.valid("param");
      const { message, key = "" } = c.req.valid("query");
      const partitionCount = await topics.ensure(topic, 1);
      // An empty key means "no key" in the seed: round-robin. Any other key: Kafka's murmur2.
      const partition = key === "" ? ctx.roundRobin({ topic, key: null, partitionCount }) : partitionForKey(key, partitionCount);
      const { baseOffset } = await ctx.store.append(topic, partition, [{ key: key === "" ? null : key, value: message }]);
      return c.json({ message_offset: baseOffset, partition_id: partition });
    });
}

/** The seed's consumer routes: subscribe, poll, ack (see {@link CompatConsumers}). */
export function compatConsumerRoutes(ctx: BrokerContext): Hono {
  const consumers = new CompatConsumers(ctx);
  return new Hono()
    .post("/topics/:topic/groups/:group/subscribe", params(CompatSubscribeParams), query(CompatConsumerQuery), (c) => {
      const { topic, group } = c.req.valid("param");
      return c.json({ assigned_partitions: consumers.subscribe(topic, group, c.req.valid("query").consumer_id) });
    })
    .get("/topics/:topic/messages", params(TopicParams), query(CompatPollQuery), async (c) => {
      const { consumer_id, group_id } = c.req.valid("query");
      const messages = await consumers.poll(c.req.valid("param").topic, group_id, consumer_id);
      // FastAPI's error shape, which the seed's Consumer.poll() reads as "nothing for me".
      if (messages === null) return c.json({ detail: "Consumer not assigned to any partitions." }, 404);
      return c.json(messages);
    })
    .post("/topics/:topic/messages/:offset/ack", params(CompatAckParams), query(CompatAckQuery), async (c) => {
      const { topic, offset } = c.req.valid("param");
      const { consumer_id, partition_id } = c.req.valid("query");
      await consumers.ack(topic, consumer_id, partition_id, offset);
      return c.json({ status: "ok" });
    });
}
