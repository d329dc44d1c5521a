/**
 * Error codes of `@minikafka/cluster`. Kafka's names wherever Kafka has the concept.
 *
 * - `INVALID_CONFIG`: invalid options (node id, endpoints, lease TTL, advertised URL).
 * - `INVALID_REPLICATION_FACTOR`: the replication factor is below 1 or above the number of live brokers.
 * - `INVALID_PARTITIONS`: the partition count is not a positive integer.
 * - `TOPIC_ALREADY_EXISTS`: a topic of that name is already in the cluster metadata.
 * - `UNKNOWN_TOPIC_OR_PARTITION`: no such topic or partition in the cluster metadata.
 * - `NOT_CONTROLLER`: this broker is not (or no longer) the controller.
 * - `CLUSTER_UNAVAILABLE`: etcd could not be reached, or this broker's lease is lost; retriable.
 */
export type ClusterErrorCode =
  | "INVALID_CONFIG"
  | "INVALID_REPLICATION_FACTOR"
  | "INVALID_PARTITIONS"
  | "TOPIC_ALREADY_EXISTS"
  | "UNKNOWN_TOPIC_OR_PARTITION"
  | "NOT_CONTROLLER"
  | "CLUSTER_UNAVAILABLE";

/** The marker shared by every minikafka error class, so that errors are recognised across duplicated installs. */
const MARKER: unique symbol = Symbol.for("minikafka.error");

/**
 * The one error class of `@minikafka/cluster`. Recognise it with {@link isClusterError} (which works across
 * duplicated installs, where `instanceof` does not), then switch on {@link ClusterError.code}.
 */
export class ClusterError extends Error {
  override readonly name = "ClusterError";
  /** What went wrong, from a fixed set (see {@link ClusterErrorCode}). */
  readonly code: ClusterErrorCode;
  /** True when the same call may succeed later (`CLUSTER_UNAVAILABLE`, `NOT_CONTROLLER`). */
  readonly retriable: boolean;
  /** Marker read by {@link isClusterError}; the value names the class. */
  readonly [MARKER] = "ClusterError";

  /**
   * @param code - the error code.
   * @param message - lower-case, with the values involved.
   * @param options - `cause`: the underlying error, if any.
   */
  constructor(code: ClusterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.retriable = code === "CLUSTER_UNAVAILABLE" || code === "NOT_CONTROLLER";
  }
}

/** True when `error` is a {@link ClusterError} (from any copy of this package), optionally with `code`. */
export function isClusterError(error: unknown, code?: ClusterErrorCode): error is ClusterError {
  if (typeof error !== "object" || error === null || (error as Record<symbol, unknown>)[MARKER] !== "ClusterError") return false;
  return code === undefined || (error as ClusterError).code === code;
}
