/**
 * Error codes thrown by the group coordinator. Kafka's names wherever Kafka has the concept.
 *
 * - `INVALID_GROUP_ID`: the group id is empty, longer than 249 characters, or has control characters.
 * - `GROUP_ID_NOT_FOUND`: no group with this id is known to this coordinator (rejoin).
 * - `NON_EMPTY_GROUP`: the group still has members, so it cannot be deleted.
 * - `UNKNOWN_MEMBER_ID`: the member is not in the group: it left, expired or was fenced (rejoin).
 * - `FENCED_MEMBER_EPOCH`: the heartbeat's epoch is neither the member's current epoch nor its previous one
 *   (with a consistent owned set), or a commit's epoch is ahead of the member's. The member has been removed
 *   from the group and must drop all its partitions and rejoin.
 * - `STALE_MEMBER_EPOCH`: an offset commit carries an older epoch than the member's current one. Retriable:
 *   heartbeat to learn the current epoch, then commit again.
 * - `FENCED_INSTANCE_ID`: the member id was replaced by a newer member with the same `instanceId`.
 * - `UNASSIGNED_PARTITION`: an offset commit names a partition the member does not own.
 * - `UNKNOWN_TOPIC_OR_PARTITION`: the topic does not exist or the partition is out of range.
 * - `INVALID_SESSION_TIMEOUT`: a join asked for a session timeout outside the coordinator's
 *   `minSessionTimeoutMs`..`maxSessionTimeoutMs`.
 * - `INVALID_REQUEST`: malformed arguments (wrong types, negative offsets, duplicates...).
 * - `INVALID_CONFIG`: invalid `GroupCoordinator` options.
 * - `COORDINATOR_NOT_AVAILABLE`: the coordinator is closed.
 * - `UNKNOWN_SERVER_ERROR`: an injected dependency misbehaved (an assignor threw or returned an invalid
 *   assignment, `partitionCount` returned a non-count, the id generator repeated itself).
 */
export type CoordinatorErrorCode =
  | "INVALID_GROUP_ID"
  | "GROUP_ID_NOT_FOUND"
  | "NON_EMPTY_GROUP"
  | "UNKNOWN_MEMBER_ID"
  | "FENCED_MEMBER_EPOCH"
  | "STALE_MEMBER_EPOCH"
  | "FENCED_INSTANCE_ID"
  | "UNASSIGNED_PARTITION"
  | "UNKNOWN_TOPIC_OR_PARTITION"
  | "INVALID_SESSION_TIMEOUT"
  | "INVALID_REQUEST"
  | "INVALID_CONFIG"
  | "COORDINATOR_NOT_AVAILABLE"
  | "UNKNOWN_SERVER_ERROR";

const RETRIABLE: ReadonlySet<CoordinatorErrorCode> = new Set<CoordinatorErrorCode>(["STALE_MEMBER_EPOCH", "COORDINATOR_NOT_AVAILABLE"]);

/** The marker shared by every minikafka error class, so that errors are recognised across duplicated installs. */
const MARKER: unique symbol = Symbol.for("minikafka.error");

/**
 * The one error class of `@minikafka/group-coordinator`. Recognise it with {@link isCoordinatorError}
 * (which works across duplicated installs, where `instanceof` does not), then switch on {@link code}.
 */
export class CoordinatorError extends Error {
  override readonly name = "CoordinatorError";
  /** What went wrong, from a fixed set (see {@link CoordinatorErrorCode}). */
  readonly code: CoordinatorErrorCode;
  /** True when the same request may succeed if retried later (after a heartbeat, for `STALE_MEMBER_EPOCH`). */
  readonly retriable: boolean;
  /** Marker read by {@link isCoordinatorError}; the value names the class. */
  readonly [MARKER] = "CoordinatorError";

  /**
   * @param code - the error code.
   * @param message - lower-case, with the values involved.
   * @param options - `cause`: the underlying error, if any.
   */
  constructor(code: CoordinatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.retriable = RETRIABLE.has(code);
  }
}

/**
 * True if `e` is a {@link CoordinatorError}, from this copy of the package or any other. Checks the
 * `Symbol.for("minikafka.error")` marker rather than `instanceof`.
 */
export function isCoordinatorError(e: unknown): e is CoordinatorError {
  return typeof e === "object" && e !== null && (e as { [MARKER]?: unknown })[MARKER] === "CoordinatorError";
}
