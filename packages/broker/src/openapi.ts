import type { TObject, TSchema } from "typebox";
import * as S from "./schemas.js";

interface Operation {
  method: "get" | "post" | "delete";
  /** Hono path (`:param` style). */
  path: string;
  summary: string;
  tag: "topics" | "records" | "groups" | "seed" | "admin";
  params?: TObject;
  query?: TObject;
  body?: TSchema;
  /** Status → [description, JSON schema of the answer (none for empty answers)]. */
  responses: Record<number, [string, TSchema?]>;
  contentType?: string;
}

/** Every route of the broker, with the typebox schemas its input is validated with. */
export const OPERATIONS: readonly Operation[] = [
  {
    method: "post",
    path: "/v1/topics",
    tag: "topics",
    summary: "Create a topic",
    body: S.CreateTopicBody,
    responses: { 201: ["the topic", S.TopicDescription] },
  },
  { method: "get", path: "/v1/topics", tag: "topics", summary: "List topics with their partitions", responses: { 200: ["all topics", S.TopicList] } },
  {
    method: "get",
    path: "/v1/topics/:topic",
    tag: "topics",
    summary: "Describe a topic: partitions, logStartOffset, highWatermark",
    params: S.TopicParams,
    responses: { 200: ["the topic", S.TopicDescription] },
  },
  {
    method: "post",
    path: "/v1/topics/:topic/partitions",
    tag: "topics",
    summary: "Grow a topic to `count` partitions (never shrinks)",
    params: S.TopicParams,
    body: S.AddPartitionsBody,
    responses: { 200: ["the topic", S.TopicDescription] },
  },
  {
    method: "delete",
    path: "/v1/topics/:topic",
    tag: "topics",
    summary: "Delete a topic, its data and its committed offsets",
    params: S.TopicParams,
    responses: { 204: ["deleted"] },
  },
  {
    method: "post",
    path: "/v1/topics/:topic/records",
    tag: "records",
    summary: "Produce records; answered once durable, with each record's partition and offset in request order",
    params: S.TopicParams,
    body: S.ProduceBody,
    responses: { 200: ["where each record landed", S.ProduceResult] },
  },
  {
    method: "get",
    path: "/v1/topics/:topic/partitions/:partition/records",
    tag: "records",
    summary: "Fetch records of one partition from `offset`; with `waitMs`, wait for data (long poll)",
    params: S.PartitionParams,
    query: S.FetchQuery,
    responses: { 200: ["records (possibly none)", S.FetchResult] },
  },
  {
    method: "post",
    path: "/v1/groups/:group/members",
    tag: "groups",
    summary: "Join a consumer group",
    params: S.GroupParams,
    body: S.JoinBody,
    responses: { 201: ["the new member, its epoch and first assignment", S.JoinResult] },
  },
  {
    method: "post",
    path: "/v1/groups/:group/members/:member/heartbeat",
    tag: "groups",
    summary: "Heartbeat: report owned partitions, get the current assignment",
    params: S.MemberParams,
    body: S.HeartbeatBody,
    responses: { 200: ["the member's epoch and assignment", S.HeartbeatResult] },
  },
  {
    method: "delete",
    path: "/v1/groups/:group/members/:member",
    tag: "groups",
    summary: "Leave the group (its partitions are reassigned at once)",
    params: S.MemberParams,
    responses: { 204: ["left"] },
  },
  {
    method: "get",
    path: "/v1/groups/:group/members/:member/records",
    tag: "groups",
    summary: "Fetch records of the member's partitions from the group's committed offsets (long poll with `waitMs`)",
    params: S.MemberParams,
    query: S.MemberFetchQuery,
    responses: { 200: ["records (possibly none)", S.MemberFetchResult] },
  },
  {
    method: "post",
    path: "/v1/groups/:group/offsets",
    tag: "groups",
    summary: "Commit offsets (each the next offset to read) for partitions the member owns",
    params: S.GroupParams,
    body: S.CommitBody,
    responses: { 204: ["committed durably"] },
  },
  { method: "get", path: "/v1/groups", tag: "groups", summary: "List consumer groups", responses: { 200: ["all groups", S.GroupList] } },
  {
    method: "get",
    path: "/v1/groups/:group",
    tag: "groups",
    summary: "Describe a group: members, assignments, committed offsets, lag",
    params: S.GroupParams,
    responses: { 200: ["the group", S.GroupDescription] },
  },
  {
    method: "post",
    path: "/topics/:topic/create",
    tag: "seed",
    summary: "Seed API: create a topic (no-op if it exists)",
    params: S.TopicParams,
    query: S.CompatCreateQuery,
    responses: { 200: ["null"] },
  },
  {
    method: "post",
    path: "/topics/:topic/groups/:group/subscribe",
    tag: "seed",
    summary: "Seed API: subscribe a consumer to a group",
    params: S.CompatSubscribeParams,
    query: S.CompatConsumerQuery,
    responses: { 200: ["partitions the consumer may read now", S.CompatSubscribeResult] },
  },
  {
    method: "post",
    path: "/topics/:topic/messages",
    tag: "seed",
    summary: "Seed API: produce one message (unknown topics are created with one partition; empty key = round-robin)",
    params: S.TopicParams,
    query: S.CompatProduceQuery,
    responses: { 200: ["where it landed", S.CompatProduceResult] },
  },
  {
    method: "get",
    path: "/topics/:topic/messages",
    tag: "seed",
    summary: "Seed API: for each partition of the consumer, the next record after the group's committed offset",
    params: S.TopicParams,
    query: S.CompatPollQuery,
    responses: { 200: ["messages (possibly none)", S.CompatMessages], 404: ["the consumer has no partitions", S.CompatDetail] },
  },
  {
    method: "post",
    path: "/topics/:topic/messages/:offset/ack",
    tag: "seed",
    summary: "Seed API: acknowledge a message (commits offset + 1 for the consumer's group)",
    params: S.CompatAckParams,
    query: S.CompatAckQuery,
    responses: { 200: ["ok", S.CompatAckResult] },
  },
  { method: "get", path: "/healthz", tag: "admin", summary: "Liveness", responses: { 200: ["alive", S.Status] } },
  {
    method: "get",
    path: "/readyz",
    tag: "admin",
    summary: "Readiness (503 while shutting down)",
    responses: { 200: ["ready", S.Status], 503: ["shutting down", S.ErrorEnvelope] },
  },
  {
    method: "get",
    path: "/metrics",
    tag: "admin",
    summary: "Prometheus metrics",
    responses: { 200: ["text exposition format"] },
    contentType: "text/plain",
  },
  { method: "get", path: "/openapi.json", tag: "admin", summary: "This document", responses: { 200: ["OpenAPI 3.1"] } },
];

const ERROR_STATUSES: Record<string, string> = {
  "400": "invalid input (INVALID_REQUEST, INVALID_TOPIC_NAME, INVALID_PARTITIONS, INVALID_RECORD, INVALID_GROUP_ID)",
  "404": "unknown topic, partition, group or member",
  "409": "conflicts with the current state (TOPIC_ALREADY_EXISTS, FENCED_MEMBER_EPOCH, ...)",
  "413": "request body too large (REQUEST_TOO_LARGE)",
  "416": "offset out of range (OFFSET_OUT_OF_RANGE)",
  "503": "temporarily unavailable (retriable)",
};

/** Builds the OpenAPI 3.1 document (JSON Schema 2020-12 is what typebox emits). */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const path = op.path.replace(/:([A-Za-z_]+)/g, "{$1}");
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ["path", op.params],
      ["query", op.query],
    ] as const) {
      if (schema === undefined) continue;
      const required = new Set<string>((schema as { required?: string[] }).required ?? []);
      for (const [name, property] of Object.entries(schema.properties as Record<string, TSchema>)) {
        parameters.push({ name, in: where, required: where === "path" || required.has(name), schema: property });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, [description, schema]] of Object.entries(op.responses)) {
      responses[status] = schema === undefined ? { description } : { description, content: { [op.contentType ?? "application/json"]: { schema } } };
    }
    if (op.tag !== "admin") {
      for (const [status, description] of Object.entries(ERROR_STATUSES)) {
        responses[status] ??= { description, content: { "application/json": { schema: S.ErrorEnvelope } } };
      }
    }
    (paths[path] ??= {})[op.method] = {
      operationId: `${op.method}${path.replace(/[{}]/g, "").replace(/[/._-]+(\w)/g, (_, ch: string) => ch.toUpperCase())}`,
      summary: op.summary,
      tags: [op.tag],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(op.body !== undefined ? { requestBody: { required: true, content: { "application/json": { schema: op.body } } } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "minikafka broker",
      version: "1",
      description: "Kafka-style broker over HTTP/1.1 + JSON. Errors: `{ error: { code, message, retriable } }`.",
    },
    paths,
  };
}
