// The route list of the broker: every method and path with the schemas of its input and answers. The
// broker registers its handlers from these entries and /openapi.json is generated from them, so there is
// no second list to keep in step.
import type { TObject, TSchema } from "typebox";
import * as S from "./schemas.js";

/** One route of the broker's HTTP API. */
export interface RouteSpec {
  /** HTTP method, lower-case as OpenAPI writes it. */
  readonly method: "get" | "post" | "delete";
  /** Path in Hono's `:param` style. */
  readonly path: string;
  /** One line for the OpenAPI document. */
  readonly summary: string;
  /** The OpenAPI tag: which part of the API. */
  readonly tag: "topics" | "records" | "producers" | "groups" | "seed" | "admin" | "console" | "cluster";
  /** The OpenAPI `operationId`, where the one derived from method and path would be unclear or clash. */
  readonly operationId?: string;
  /** Schema of the path parameters. */
  readonly params?: TObject;
  /** Schema of the query string (integer fields arrive as text and are converted before checking). */
  readonly query?: TObject;
  /** Schema of the JSON body. */
  readonly body?: TSchema;
  /** Status → [description, schema of the answer (none for an empty or non-JSON answer)]. */
  readonly responses: Readonly<Record<number, readonly [string, TSchema?]>>;
  /** Content type of the success answer when it is not JSON. */
  readonly contentType?: string;
}

/**
 * Every route of the broker, by operation name: the `/v1` API, the seed tutorial's API and the admin
 * routes. A transport serving this API registers exactly these (the broker's tests check both directions).
 */
export const ROUTES = {
  createTopic: {
    method: "post",
    path: "/v1/topics",
    tag: "topics",
    summary: "Create a topic",
    body: S.CreateTopicBody,
    responses: { 201: ["the topic", S.TopicDescription] },
  },
  listTopics: {
    method: "get",
    path: "/v1/topics",
    tag: "topics",
    summary: "List topics with their partitions",
    responses: { 200: ["all topics", S.TopicList] },
  },
  describeTopic: {
    method: "get",
    path: "/v1/topics/:topic",
    tag: "topics",
    summary: "Describe a topic: partitions, logStartOffset, highWatermark",
    params: S.TopicParams,
    responses: { 200: ["the topic", S.TopicDescription] },
  },
  addPartitions: {
    method: "post",
    path: "/v1/topics/:topic/partitions",
    tag: "topics",
    summary: "Grow a topic to `count` partitions (never shrinks)",
    params: S.TopicParams,
    body: S.AddPartitionsBody,
    responses: { 200: ["the topic", S.TopicDescription] },
  },
  deleteTopic: {
    method: "delete",
    path: "/v1/topics/:topic",
    tag: "topics",
    summary: "Delete a topic, its data and its committed offsets",
    params: S.TopicParams,
    responses: { 204: ["deleted"] },
  },
  produce: {
    method: "post",
    path: "/v1/topics/:topic/records",
    tag: "records",
    summary: "Produce records; answered once durable, with each record's partition and offset in request order",
    params: S.TopicParams,
    body: S.ProduceBody,
    responses: { 200: ["where each record landed", S.ProduceResult] },
  },
  initProducerId: {
    method: "post",
    path: "/v1/producers",
    tag: "producers",
    summary:
      "A fresh idempotent-producer id (epoch 0), never handed out before by this broker's data directory; no body. Use it with producerEpoch and sequences on produce",
    responses: { 201: ["the producer id and epoch", S.InitProducerResult] },
  },
  fetch: {
    method: "get",
    path: "/v1/topics/:topic/partitions/:partition/records",
    tag: "records",
    summary: "Fetch records of one partition from `offset`; with `waitMs`, wait for data (long poll)",
    params: S.PartitionParams,
    query: S.FetchQuery,
    responses: { 200: ["records (possibly none)", S.FetchResult] },
  },
  joinGroup: {
    method: "post",
    path: "/v1/groups/:group/members",
    tag: "groups",
    summary: "Join a consumer group",
    params: S.GroupParams,
    body: S.JoinBody,
    responses: { 201: ["the new member, its epoch and first assignment", S.JoinResult] },
  },
  heartbeat: {
    method: "post",
    path: "/v1/groups/:group/members/:member/heartbeat",
    tag: "groups",
    summary: "Heartbeat: report owned partitions, get the current assignment",
    params: S.MemberParams,
    body: S.HeartbeatBody,
    responses: { 200: ["the member's epoch and assignment", S.HeartbeatResult] },
  },
  leaveGroup: {
    method: "delete",
    path: "/v1/groups/:group/members/:member",
    tag: "groups",
    summary: "Leave the group (its partitions are reassigned at once)",
    params: S.MemberParams,
    responses: { 204: ["left"] },
  },
  memberFetch: {
    method: "get",
    path: "/v1/groups/:group/members/:member/records",
    tag: "groups",
    summary: "Fetch records of the member's partitions from the group's committed offsets (long poll with `waitMs`)",
    params: S.MemberParams,
    query: S.MemberFetchQuery,
    responses: { 200: ["records (possibly none)", S.MemberFetchResult] },
  },
  commitOffsets: {
    method: "post",
    path: "/v1/groups/:group/offsets",
    tag: "groups",
    summary: "Commit offsets (each the next offset to read) for partitions the member owns",
    params: S.GroupParams,
    body: S.CommitBody,
    responses: { 204: ["committed durably"] },
  },
  listGroups: { method: "get", path: "/v1/groups", tag: "groups", summary: "List consumer groups", responses: { 200: ["all groups", S.GroupList] } },
  describeGroup: {
    method: "get",
    path: "/v1/groups/:group",
    tag: "groups",
    summary: "Describe a group: members, assignments, committed offsets, lag",
    params: S.GroupParams,
    responses: { 200: ["the group", S.GroupDescription] },
  },
  deleteGroup: {
    method: "delete",
    path: "/v1/groups/:group",
    tag: "groups",
    summary:
      "Delete an empty group and its committed offsets (409 NON_EMPTY_GROUP while it has members, 404 GROUP_ID_NOT_FOUND for an unknown group)",
    params: S.GroupParams,
    responses: { 204: ["deleted, with its committed offsets"] },
  },
  compatCreateTopic: {
    method: "post",
    path: "/topics/:topic/create",
    tag: "seed",
    summary: "Seed API: create a topic (no-op if it exists)",
    params: S.TopicParams,
    query: S.CompatCreateQuery,
    responses: { 200: ["null"] },
  },
  compatSubscribe: {
    method: "post",
    path: "/topics/:topic/groups/:group/subscribe",
    tag: "seed",
    summary: "Seed API: subscribe a consumer to a group",
    params: S.CompatSubscribeParams,
    query: S.CompatConsumerQuery,
    responses: { 200: ["partitions the consumer may read now", S.CompatSubscribeResult] },
  },
  compatProduce: {
    method: "post",
    path: "/topics/:topic/messages",
    tag: "seed",
    summary: "Seed API: produce one message (unknown topics are created with one partition; empty key = round-robin)",
    params: S.TopicParams,
    query: S.CompatProduceQuery,
    responses: { 200: ["where it landed", S.CompatProduceResult] },
  },
  compatPoll: {
    method: "get",
    path: "/topics/:topic/messages",
    tag: "seed",
    summary: "Seed API: for each partition of the consumer, the next record after the group's committed offset",
    params: S.TopicParams,
    query: S.CompatPollQuery,
    responses: { 200: ["messages (possibly none)", S.CompatMessages], 404: ["the consumer has no partitions", S.CompatDetail] },
  },
  compatAck: {
    method: "post",
    path: "/topics/:topic/messages/:offset/ack",
    tag: "seed",
    summary: "Seed API: acknowledge a message (commits offset + 1 for the consumer's group)",
    params: S.CompatAckParams,
    query: S.CompatAckQuery,
    responses: { 200: ["ok", S.CompatAckResult] },
  },
  getMetadata: {
    method: "get",
    path: "/v1/metadata",
    tag: "cluster",
    summary: "Cluster metadata: live brokers, the controller, each partition's leader, replicas and ISR (clients route by it)",
    responses: { 200: ["the cluster as this broker sees it (an empty cluster on a single-node broker)", S.ClusterMetadataResult] },
  },
  findCoordinator: {
    method: "get",
    path: "/v1/groups/:group/coordinator",
    tag: "cluster",
    summary: "The broker that coordinates a consumer group (cluster mode: the leader of its offsets partition); send the group's calls there",
    params: S.GroupParams,
    responses: {
      200: ["the coordinator (nulls on a single-node broker: the broker asked)", S.GroupCoordinatorResult],
      503: ["COORDINATOR_NOT_AVAILABLE: none yet (the offsets topic is being created or is offline); retry", S.ErrorEnvelope],
    },
  },
  replicaFetch: {
    method: "get",
    path: "/v1/replica/topics/:topic/partitions/:partition/batches",
    tag: "cluster",
    summary: "Broker to broker: a follower fetches stored batches from the leader (long poll); the leader learns the follower's log end",
    params: S.ReplicaPartitionParams,
    query: S.ReplicaFetchQuery,
    responses: {
      200: ["whole record batches as stored (possibly none), the high watermark in the minikafka-high-watermark header"],
      416: ["the offset is outside the leader's log (the follower truncates or restarts at its log start)", S.ErrorEnvelope],
    },
    contentType: "application/octet-stream",
  },
  replicaEpochEnd: {
    method: "get",
    path: "/v1/replica/topics/:topic/partitions/:partition/epoch-end",
    tag: "cluster",
    summary: "Broker to broker: where the leader's history of an epoch ends (Kafka's OffsetForLeaderEpoch), for a follower's truncation",
    params: S.ReplicaPartitionParams,
    query: S.EpochEndQuery,
    responses: { 200: ["the epoch's end", S.EpochEndResult] },
  },
  healthz: { method: "get", path: "/healthz", tag: "admin", summary: "Liveness", responses: { 200: ["alive", S.Status] } },
  readyz: {
    method: "get",
    path: "/readyz",
    tag: "admin",
    summary: "Readiness (503 while shutting down)",
    responses: { 200: ["ready", S.Status], 503: ["shutting down", S.ErrorEnvelope] },
  },
  metrics: {
    method: "get",
    path: "/metrics",
    tag: "admin",
    summary: "Prometheus metrics",
    responses: { 200: ["text exposition format"] },
    contentType: "text/plain",
  },
  openapi: { method: "get", path: "/openapi.json", tag: "admin", summary: "This document", responses: { 200: ["OpenAPI 3.1"] } },
  root: {
    method: "get",
    path: "/",
    tag: "console",
    operationId: "getRoot",
    summary: "A small HTML page linking to the web console, this document and /metrics",
    responses: { 200: ["HTML"] },
    contentType: "text/html",
  },
  consoleRedirect: {
    method: "get",
    path: "/console",
    tag: "console",
    operationId: "getConsoleRedirect",
    summary: "Redirects to /console/ (the console's files are named relative to it)",
    responses: { 308: ["to /console/"] },
  },
  console: {
    method: "get",
    path: "/console/",
    tag: "console",
    operationId: "getConsole",
    summary: "The web console (a single page; revalidated on every load)",
    responses: { 200: ["HTML"] },
    contentType: "text/html",
  },
  consoleAsset: {
    method: "get",
    path: "/console/:file",
    tag: "console",
    operationId: "getConsoleFile",
    summary: "A file of the web console (content-hashed name, cached as immutable)",
    params: S.ConsoleFileParams,
    responses: { 200: ["the file (JavaScript or CSS)"], 404: ["no such file", S.ErrorEnvelope] },
    contentType: "application/octet-stream",
  },
} as const satisfies Record<string, RouteSpec>;

/** The name of a route in {@link ROUTES}. */
export type RouteName = keyof typeof ROUTES;
