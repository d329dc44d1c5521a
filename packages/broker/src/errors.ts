import type { ClusterErrorCode } from "@minikafka/cluster";
import type { CoordinatorErrorCode } from "@minikafka/group-coordinator";
import type { LogStoreErrorCode } from "@minikafka/log-store";
import type { PartitionerErrorCode } from "@minikafka/partitioner";
import { ERRORS, type ErrorRow } from "@minikafka/protocol/errors";

const MARKER: unique symbol = Symbol.for("minikafka.error");

/**
 * The fixed set of {@link BrokerError} codes: problems the broker itself detects at the HTTP boundary.
 * Kafka's names where Kafka has the concept (the same names the leaf packages use).
 *
 * - `INVALID_REQUEST`: malformed JSON, wrong types, missing or unknown fields, bad query or path values.
 * - `INVALID_TOPIC_NAME`: a topic name outside `[a-zA-Z0-9._-]{1,249}`, `.`/`..`, or reserved (`__*`, `.lock`).
 * - `INVALID_PARTITIONS`: a partition count below 1 or absurdly large.
 * - `INVALID_RECORD`: an empty record list, a malformed record, bad base64.
 * - `INVALID_GROUP_ID`: an empty or too long group id, or one with control characters.
 * - `UNKNOWN_TOPIC_OR_PARTITION`: a seed-compatible consumer call for a topic that does not exist.
 * - `UNKNOWN_MEMBER_ID`: a seed-compatible ack from a consumer the broker does not know.
 * - `OFFSET_OUT_OF_RANGE`: a member fetch `positions` entry past the partition's high watermark.
 * - `REQUEST_TOO_LARGE`: the request body exceeds the broker's `maxBodyBytes`.
 * - `RECORD_LIST_TOO_LARGE`: a produce request carries more than `maxRecordsPerRequest` records.
 * - `MESSAGE_TOO_LARGE`: a record's key, value or header is over its limit, or it has too many headers.
 * - `UNSUPPORTED_MEDIA_TYPE`: a JSON route's request body is not declared `Content-Type: application/json`.
 * - `ORIGIN_NOT_ALLOWED`: a web page on an origin not in the broker's `cors.origins` (or a cross-site request)
 *   tried to call it; refused before anything ran.
 * - `AUTHENTICATION_FAILED`: `auth` is configured and the request has no valid `Authorization: Bearer <token>`.
 * - `TOPIC_AUTHORIZATION_FAILED`, `GROUP_AUTHORIZATION_FAILED`, `CLUSTER_AUTHORIZATION_FAILED`: the principal
 *   is authenticated but no ACL allows the operation on that resource (or one denies it).
 * - `THROTTLING_QUOTA_EXCEEDED`: the principal is over its produce or fetch byte-rate quota, or holds as many
 *   long polls as it may (retriable, after the answer's `Retry-After`).
 * - `NOT_FOUND`: no route for this method and path.
 * - `BROKER_NOT_AVAILABLE`: the broker is shutting down (retriable: try again once it is back).
 * - `INTERNAL_ERROR`: an unexpected failure (details are logged, not sent).
 * - Durable Streams (`/v1/stream/*`): `STREAM_ALREADY_EXISTS` (another configuration at the path, or a
 *   soft-deleted stream), `STREAM_CLOSED`, `STREAM_SEQUENCE_CONFLICT` (`Stream-Seq` regression),
 *   `CONTENT_TYPE_MISMATCH`, `STREAM_GONE` (soft-deleted, 410), and the producer codes
 *   `INVALID_PRODUCER_EPOCH` (fenced, 403) and `OUT_OF_ORDER_SEQUENCE_NUMBER` (a gap, 409).
 * - `INVALID_REPLICATION_FACTOR`: more than one copy asked of a single-node broker, or a minimum ISR above
 *   the replication factor.
 * - Cluster mode: `NOT_LEADER_OR_FOLLOWER` (this broker does not lead the partition, or holds no replica of
 *   it for a read; 421, retriable after a metadata refresh), `NOT_ENOUGH_REPLICAS` (the ISR is below the
 *   topic's minimum; nothing appended), `NOT_ENOUGH_REPLICAS_AFTER_APPEND` (appended on the leader but not
 *   committed: the ISR shrank below the minimum, or did not confirm in time), `NOT_COORDINATOR` (another
 *   broker coordinates the group; 421, retriable after asking `GET /v1/groups/:group/coordinator`) and
 *   `COORDINATOR_NOT_AVAILABLE` (the group's coordinator is loading its offsets, or has none yet; 503).
 */
export type BrokerErrorCode =
  | "INVALID_REQUEST"
  | "INVALID_TOPIC_NAME"
  | "INVALID_PARTITIONS"
  | "INVALID_RECORD"
  | "INVALID_GROUP_ID"
  | "UNKNOWN_TOPIC_OR_PARTITION"
  | "UNKNOWN_MEMBER_ID"
  | "OFFSET_OUT_OF_RANGE"
  | "REQUEST_TOO_LARGE"
  | "RECORD_LIST_TOO_LARGE"
  | "MESSAGE_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "ORIGIN_NOT_ALLOWED"
  | "AUTHENTICATION_FAILED"
  | "TOPIC_AUTHORIZATION_FAILED"
  | "STREAM_AUTHORIZATION_FAILED"
  | "GROUP_AUTHORIZATION_FAILED"
  | "CLUSTER_AUTHORIZATION_FAILED"
  | "THROTTLING_QUOTA_EXCEEDED"
  | "NOT_FOUND"
  | "BROKER_NOT_AVAILABLE"
  | "INTERNAL_ERROR"
  | "STREAM_ALREADY_EXISTS"
  | "STREAM_CLOSED"
  | "STREAM_SEQUENCE_CONFLICT"
  | "CONTENT_TYPE_MISMATCH"
  | "STREAM_GONE"
  | "INVALID_PRODUCER_EPOCH"
  | "OUT_OF_ORDER_SEQUENCE_NUMBER"
  | "INVALID_REPLICATION_FACTOR"
  | "NOT_LEADER_OR_FOLLOWER"
  | "NOT_ENOUGH_REPLICAS"
  | "NOT_ENOUGH_REPLICAS_AFTER_APPEND"
  | "NOT_COORDINATOR"
  | "COORDINATOR_NOT_AVAILABLE";

/**
 * The codes any minikafka component below the transports can raise. Each must have a row in the
 * protocol's error table: a leaf (or broker) code without one fails type checking here.
 */
export type ServerErrorCode = BrokerErrorCode | LogStoreErrorCode | PartitionerErrorCode | CoordinatorErrorCode | ClusterErrorCode;
export const SERVER_ERROR_ROWS: { readonly [C in ServerErrorCode]: ErrorRow } = ERRORS;

/**
 * The one error class of `@minikafka/broker`, for problems found at the HTTP boundary. Errors of the leaf
 * packages (`LogStoreError`, `PartitionerError`, `CoordinatorError`) pass through unchanged; all of them are
 * turned into the same JSON envelope by one code → status table. Recognise it with {@link isBrokerError},
 * which works across duplicated installs (where `instanceof` fails).
 */
export class BrokerError extends Error {
  override readonly name = "BrokerError";
  /** What went wrong, from a fixed set (see {@link BrokerErrorCode}). */
  readonly code: BrokerErrorCode;
  /** Whether the same request may succeed later. */
  readonly retriable: boolean;
  /** Marker shared by all minikafka errors; the value names the class. */
  readonly [MARKER] = "BrokerError";

  /**
   * @param code - what went wrong
   * @param message - lower-case, carrying the values involved
   * @param options - standard `ErrorOptions` (`cause`)
   */
  constructor(code: BrokerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.retriable = (ERRORS[code] as ErrorRow).retriable === true;
  }
}

/** True when `error` is a {@link BrokerError} from any copy of this package (checks the marker, not the prototype). */
export function isBrokerError(error: unknown): error is BrokerError {
  return typeof error === "object" && error !== null && (error as { [MARKER]?: unknown })[MARKER] === "BrokerError";
}

/**
 * The `code` of any minikafka error (`BrokerError`, `LogStoreError`, `PartitionerError`,
 * `CoordinatorError`, from any copy of those packages), recognised by the shared marker; `undefined` for
 * anything else. Internal: the one way the broker inspects errors.
 */
export function miniKafkaErrorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || typeof (error as { [MARKER]?: unknown })[MARKER] !== "string") return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}
