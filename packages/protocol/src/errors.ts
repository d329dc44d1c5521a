// The one error table of minikafka, as plain data. This module imports nothing (no typebox), so that the
// client can import it at run time (`@minikafka/protocol/errors`) and still bundle small for browsers.

/**
 * Every error code a minikafka component can report, on either side of the wire. Kafka's names where
 * Kafka has the concept. Each has exactly one row in {@link ERRORS}: a code added here without a row (or a
 * row without a code) fails type checking.
 */
export type ErrorCode =
  // The request itself is wrong.
  | "INVALID_REQUEST"
  | "INVALID_TOPIC_NAME"
  | "INVALID_PARTITIONS"
  | "INVALID_RECORD"
  | "INVALID_GROUP_ID"
  | "INVALID_SESSION_TIMEOUT"
  // It names something that does not exist.
  | "NOT_FOUND"
  | "UNKNOWN_TOPIC_OR_PARTITION"
  | "GROUP_ID_NOT_FOUND"
  | "UNKNOWN_MEMBER_ID"
  // It conflicts with the current state.
  | "TOPIC_ALREADY_EXISTS"
  | "FENCED_MEMBER_EPOCH"
  | "STALE_MEMBER_EPOCH"
  | "FENCED_INSTANCE_ID"
  | "UNASSIGNED_PARTITION"
  | "NON_EMPTY_GROUP"
  | "TOPIC_LIMIT_REACHED"
  | "REQUEST_TOO_LARGE"
  | "RECORD_LIST_TOO_LARGE"
  | "MESSAGE_TOO_LARGE"
  | "REQUEST_HEADERS_TOO_LARGE"
  | "REQUEST_TIMEOUT"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "ORIGIN_NOT_ALLOWED"
  // Who is asking, and whether they may.
  | "AUTHENTICATION_FAILED"
  | "TOPIC_AUTHORIZATION_FAILED"
  | "STREAM_AUTHORIZATION_FAILED"
  | "GROUP_AUTHORIZATION_FAILED"
  | "CLUSTER_AUTHORIZATION_FAILED"
  | "THROTTLING_QUOTA_EXCEEDED"
  | "OFFSET_OUT_OF_RANGE"
  | "OUT_OF_ORDER_SEQUENCE_NUMBER"
  | "INVALID_PRODUCER_EPOCH"
  | "UNKNOWN_PRODUCER_ID"
  | "FENCED_LEADER_EPOCH"
  | "INVALID_REPLICATION_FACTOR"
  | "STREAM_ALREADY_EXISTS"
  | "STREAM_CLOSED"
  | "STREAM_SEQUENCE_CONFLICT"
  | "CONTENT_TYPE_MISMATCH"
  | "STREAM_GONE"
  // The broker is at fault, or a leaf refused the broker's own configuration.
  | "INTERNAL_ERROR"
  | "UNKNOWN_SERVER_ERROR"
  | "CORRUPT_RECORD"
  | "INVALID_CONFIG"
  // Temporarily unable to serve.
  | "KAFKA_STORAGE_ERROR"
  | "DISK_FULL"
  | "TOO_MANY_OPEN_FILES"
  | "STORE_CLOSED"
  | "DATA_DIR_LOCKED"
  | "COORDINATOR_NOT_AVAILABLE"
  | "BROKER_NOT_AVAILABLE"
  // Cluster mode: ask another broker, or wait for the cluster.
  | "NOT_LEADER_OR_FOLLOWER"
  | "NOT_COORDINATOR"
  | "NOT_ENOUGH_REPLICAS"
  | "NOT_ENOUGH_REPLICAS_AFTER_APPEND"
  | "NOT_CONTROLLER"
  | "CLUSTER_UNAVAILABLE"
  // Raised by the client on its side of the wire (no answer came, or none was asked for).
  | "NETWORK_EXCEPTION"
  | "REQUEST_TIMED_OUT"
  | "CLIENT_DISCONNECTED";

/**
 * What one error code means. Fields left out take their default (shown in each description), which keeps
 * the table (and the client's bundle) small.
 */
export interface ErrorRow {
  /**
   * The HTTP status the broker answers with. `0` for codes only the client raises: no answer was received
   * (network failure, timeout), or the client refused before sending.
   */
  readonly status: number;
  /** Kafka's numeric error code for the same condition; absent where Kafka has no such code. */
  readonly kafka?: number;
  /** The same request may succeed later (default `false`). */
  readonly retriable?: true;
  /**
   * A write (produce spanning partitions) answered with this code may have been applied in part: some
   * partitions appended before one failed. Such a write must not be retried blindly (default `false`).
   */
  readonly partialWrite?: true;
  /**
   * What the code says about a consumer-group member (default: nothing).
   * - `"lost"`: the coordinator no longer knows the member or its epoch; it must rejoin under a new member id.
   * - `"fenced"`: another member took its static instance id. A client stops (someone else is it now); the
   *   seed-compatible adapter, whose instance id *is* the consumer, rejoins.
   */
  readonly member?: "lost" | "fenced";
}

/**
 * The one error table (as KafkaJS's `protocol/error.js`): every {@link ErrorCode} with its HTTP status,
 * Kafka's numeric code, and whether it is retriable, may follow a partial write, or ends a group membership.
 * Every other table (the broker's code → status map, the client's retry and rejoin sets) is derived from it.
 */
export const ERRORS = {
  INVALID_REQUEST: { status: 400, kafka: 42 },
  INVALID_TOPIC_NAME: { status: 400, kafka: 17 },
  INVALID_PARTITIONS: { status: 400, kafka: 37 },
  INVALID_RECORD: { status: 400, kafka: 87 },
  INVALID_GROUP_ID: { status: 400, kafka: 24 },
  INVALID_SESSION_TIMEOUT: { status: 400, kafka: 26 },
  NOT_FOUND: { status: 404 },
  UNKNOWN_TOPIC_OR_PARTITION: { status: 404, kafka: 3 },
  GROUP_ID_NOT_FOUND: { status: 404, kafka: 69, member: "lost" },
  UNKNOWN_MEMBER_ID: { status: 404, kafka: 25, member: "lost" },
  TOPIC_ALREADY_EXISTS: { status: 409, kafka: 36 },
  FENCED_MEMBER_EPOCH: { status: 409, kafka: 110, member: "lost" },
  STALE_MEMBER_EPOCH: { status: 409, kafka: 113, retriable: true },
  FENCED_INSTANCE_ID: { status: 409, kafka: 82, member: "fenced" },
  UNASSIGNED_PARTITION: { status: 409 },
  NON_EMPTY_GROUP: { status: 409, kafka: 68 },
  // The broker's maxTopics / maxTotalPartitions: a conflict with what exists (deleting topics makes room).
  TOPIC_LIMIT_REACHED: { status: 409 },
  REQUEST_TOO_LARGE: { status: 413 },
  // More records in one produce request than the broker's maxRecordsPerRequest (send fewer at a time).
  RECORD_LIST_TOO_LARGE: { status: 413, kafka: 18 },
  // A record's key, value or header over the broker's limit, or too many headers (Kafka: message.max.bytes).
  MESSAGE_TOO_LARGE: { status: 413, kafka: 10 },
  // The request line and headers exceed the broker's maxRequestHeaderBytes; the connection is closed.
  REQUEST_HEADERS_TOO_LARGE: { status: 431 },
  // The headers (or the whole request) did not arrive within the broker's timeout (a stalled or slowloris
  // client); the connection is closed. Not the client's own REQUEST_TIMED_OUT (no answer came).
  REQUEST_TIMEOUT: { status: 408 },
  UNSUPPORTED_MEDIA_TYPE: { status: 415 },
  ORIGIN_NOT_ALLOWED: { status: 403 },
  // No valid `Authorization: Bearer <token>` (answered with `WWW-Authenticate: Bearer`); Kafka's SASL code.
  AUTHENTICATION_FAILED: { status: 401, kafka: 58 },
  // Authenticated, but no ACL allows the operation (or one denies it).
  TOPIC_AUTHORIZATION_FAILED: { status: 403, kafka: 29 },
  /** Durable Streams: the principal may not do this to the stream (ACL resource `stream`). */
  STREAM_AUTHORIZATION_FAILED: { status: 403 },
  GROUP_AUTHORIZATION_FAILED: { status: 403, kafka: 30 },
  CLUSTER_AUTHORIZATION_FAILED: { status: 403, kafka: 31 },
  // Over the principal's byte-rate quota: answered with `Retry-After`, nothing changed; send again then.
  THROTTLING_QUOTA_EXCEEDED: { status: 429, kafka: 89, retriable: true },
  OFFSET_OUT_OF_RANGE: { status: 416, kafka: 1 },
  // Idempotent producers. None is retriable: resending the same batch gets the same answer (Kafka's client
  // treats all three as non-retriable for the batch; it resets its sequences or bumps its epoch instead).
  // A gap conflicts with the partition's producer state: 409, as Durable Streams answers a sequence gap.
  OUT_OF_ORDER_SEQUENCE_NUMBER: { status: 409, kafka: 45 },
  // Fenced by a newer epoch: understood but refused to this producer for good, 403 as Durable Streams does.
  INVALID_PRODUCER_EPOCH: { status: 403, kafka: 47 },
  // The partition has no state the request presupposes (expired or never seen): a conflict with that state,
  // not a missing resource (the topic and partition exist), so 409 rather than 404.
  UNKNOWN_PRODUCER_ID: { status: 409, kafka: 59 },
  // Replication: an append stamped with an older leader epoch than the partition's latest (a deposed leader,
  // or a follower that did not truncate first). Not retriable as is: the sender must learn the new leader.
  FENCED_LEADER_EPOCH: { status: 409, kafka: 74 },
  // A replication factor below 1, above the live brokers, above 1 on a single node, or a minimum ISR above it.
  INVALID_REPLICATION_FACTOR: { status: 400, kafka: 38 },
  /** Durable Streams: a stream exists at the path with another configuration (or is soft-deleted). */
  STREAM_ALREADY_EXISTS: { status: 409 },
  /** Durable Streams: the stream is closed; no append is accepted any more. */
  STREAM_CLOSED: { status: 409 },
  /** Durable Streams: a `Stream-Seq` at or below the stream's last one. */
  STREAM_SEQUENCE_CONFLICT: { status: 409 },
  /** Durable Streams: an append's (or fork's) content type differs from the stream's. */
  CONTENT_TYPE_MISMATCH: { status: 409 },
  /** Durable Streams: the stream was deleted but forks still read its data (soft-deleted). */
  STREAM_GONE: { status: 410 },
  INTERNAL_ERROR: { status: 500 },
  UNKNOWN_SERVER_ERROR: { status: 500, kafka: -1 },
  CORRUPT_RECORD: { status: 500, kafka: 2 },
  INVALID_CONFIG: { status: 500, kafka: 40 },
  KAFKA_STORAGE_ERROR: { status: 503, kafka: 56, retriable: true, partialWrite: true },
  DISK_FULL: { status: 503, retriable: true, partialWrite: true },
  // Out of file descriptors (EMFILE): the failed call changed nothing, but a produce over several partitions
  // may have appended to the ones before.
  TOO_MANY_OPEN_FILES: { status: 503, retriable: true, partialWrite: true },
  STORE_CLOSED: { status: 503 },
  DATA_DIR_LOCKED: { status: 503 },
  COORDINATOR_NOT_AVAILABLE: { status: 503, kafka: 15, retriable: true },
  BROKER_NOT_AVAILABLE: { status: 503, kafka: 8, retriable: true },
  // Cluster mode: this broker does not lead the partition (or no longer: a new leader was elected while a
  // produce waited for its replicas, which may still commit it). Refresh the metadata, send to the leader.
  // 421 Misdirected Request: the right request at the wrong server.
  NOT_LEADER_OR_FOLLOWER: { status: 421, kafka: 6, retriable: true, partialWrite: true },
  // Cluster mode: another broker coordinates this consumer group (the leader of its offsets partition): ask
  // GET /v1/groups/:group/coordinator, then send the group's calls there.
  NOT_COORDINATOR: { status: 421, kafka: 16, retriable: true },
  // Fewer in-sync replicas than the topic's minInsyncReplicas: nothing appended to that partition.
  NOT_ENOUGH_REPLICAS: { status: 503, kafka: 19, retriable: true, partialWrite: true },
  // Appended on the leader, but the in-sync replicas fell below the minimum (or did not confirm in time)
  // before it was committed: it may still be committed later; retry with an idempotent producer.
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: { status: 503, kafka: 20, retriable: true, partialWrite: true },
  // A controller-only operation reached a broker that is not (or no longer) the controller.
  NOT_CONTROLLER: { status: 503, kafka: 41, retriable: true },
  // etcd cannot be reached (or this broker's lease is lost): cluster metadata cannot be read or changed now.
  CLUSTER_UNAVAILABLE: { status: 503, retriable: true },
  NETWORK_EXCEPTION: { status: 0, kafka: 13, retriable: true },
  REQUEST_TIMED_OUT: { status: 0, kafka: 7, retriable: true },
  CLIENT_DISCONNECTED: { status: 0 },
} as const satisfies Record<ErrorCode, ErrorRow>;

/** The row of `code`, or `undefined` for a string that is no known code (an error from a newer version). */
export function errorRow(code: string): ErrorRow | undefined {
  return Object.hasOwn(ERRORS, code) ? (ERRORS as Record<string, ErrorRow>)[code] : undefined;
}

/** The codes whose row satisfies `test`, e.g. `errorCodesWhere((r) => r.member === "lost")`. */
export function errorCodesWhere(test: (row: ErrorRow) => boolean): ReadonlySet<ErrorCode> {
  const out = new Set<ErrorCode>();
  for (const code in ERRORS) if (test(ERRORS[code as ErrorCode])) out.add(code as ErrorCode);
  return out;
}
