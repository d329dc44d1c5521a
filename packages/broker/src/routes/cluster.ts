import { Hono } from "hono";
import { EpochEndQuery, GroupParams, ReplicaFetchQuery, ReplicaPartitionParams, type ClusterMetadataResult } from "@minikafka/protocol";
import { CLUSTER } from "../access.js";
import type { BrokerContext } from "../context.js";
import { BrokerError } from "../errors.js";
import type { ClusterNode } from "../cluster/cluster-node.js";
import { params, query } from "../validate.js";

/** What a single-node broker answers: no cluster, so every request goes to the broker asked. */
const SINGLE_NODE: ClusterMetadataResult = { clusterId: null, nodeId: null, controller: null, brokers: [], topics: [] };

/**
 * `GET /v1/metadata` (any client), and the broker-to-broker replica routes a follower calls on its leader:
 * `…/batches` (fetch) and `…/epoch-end` (OffsetForLeaderEpoch). Replica routes need `alter` on the cluster
 * when ACLs are on.
 */
export function clusterRoutes(ctx: BrokerContext): Hono {
  const { access } = ctx;
  const node = (): ClusterNode => {
    if (ctx.cluster === undefined) throw new BrokerError("INVALID_REQUEST", "this broker is not in cluster mode: it has no replicas to serve");
    return ctx.cluster;
  };
  return new Hono()
    .get("/v1/metadata", (c) => {
      access.check(c, "cluster", CLUSTER, "describe");
      return c.json(ctx.cluster?.describeCluster() ?? SINGLE_NODE);
    })
    .get("/v1/groups/:group/coordinator", params(GroupParams), async (c) => {
      const { group } = c.req.valid("param");
      access.check(c, "group", group, "describe");
      if (ctx.cluster === undefined) return c.json({ nodeId: null, url: null });
      const coordinator = ctx.cluster.coordinatorOf(group);
      if (coordinator !== undefined) return c.json(coordinator);
      void ctx.cluster.ensureOffsetsTopic();
      throw new BrokerError(
        "COORDINATOR_NOT_AVAILABLE",
        `group ${group} has no coordinator yet (the offsets topic is being created or is offline): try again shortly`,
      );
    })
    .get("/v1/replica/topics/:topic/partitions/:partition/batches", params(ReplicaPartitionParams), query(ReplicaFetchQuery), async (c) => {
      access.check(c, "cluster", CLUSTER, "alter");
      const { topic, partition } = c.req.valid("param");
      const answer = await node().serveFetch(topic, partition, c.req.valid("query"), c.req.raw.signal);
      if (answer.kind === "out-of-range") {
        const { logStartOffset, logEndOffset } = answer;
        const error = {
          code: "OFFSET_OUT_OF_RANGE",
          message: `offset outside [${logStartOffset}, ${logEndOffset}] of the leader's log`,
          retriable: false,
        };
        return c.json({ error }, 416, { "minikafka-log-start-offset": String(logStartOffset), "minikafka-log-end-offset": String(logEndOffset) });
      }
      return c.body(new Uint8Array(answer.bytes.buffer, answer.bytes.byteOffset, answer.bytes.byteLength) as Uint8Array<ArrayBuffer>, 200, {
        "content-type": "application/octet-stream",
        "minikafka-high-watermark": String(answer.highWatermark),
        "minikafka-log-start-offset": String(answer.logStartOffset),
      });
    })
    .get("/v1/replica/topics/:topic/partitions/:partition/epoch-end", params(ReplicaPartitionParams), query(EpochEndQuery), async (c) => {
      access.check(c, "cluster", CLUSTER, "alter");
      const { topic, partition } = c.req.valid("param");
      const { leaderEpoch, currentLeaderEpoch, topicId } = c.req.valid("query");
      return c.json(await node().epochEnd(topic, partition, leaderEpoch, currentLeaderEpoch, topicId));
    });
}
