/**
 * Why a partitioner refused a call. Names follow Kafka's error codes where Kafka has the concept:
 *
 * - `UNKNOWN_TOPIC_OR_PARTITION`: an explicit partition is not an integer in `[0, partitionCount)`.
 * - `INVALID_PARTITIONS`: `partitionCount` is not a positive integer.
 * - `INVALID_RECORD`: the record cannot be partitioned as given (a key that is neither bytes nor a
 *   string, or no key for a strategy that needs one).
 * - `INVALID_CONFIG`: a factory was given a bad option (for example `batchSize: 0`).
 */
export type PartitionerErrorCode = "UNKNOWN_TOPIC_OR_PARTITION" | "INVALID_PARTITIONS" | "INVALID_RECORD" | "INVALID_CONFIG";

/**
 * Shared by every minikafka package: `e[Symbol.for("minikafka.error")]` names the error class, so errors are
 * recognised even when two copies of a package are installed and `instanceof` fails.
 */
const MINIKAFKA_ERROR: unique symbol = Symbol.for("minikafka.error");

/**
 * The one error type thrown by `@minikafka/partitioner`. Never retriable: every cause is a bad argument,
 * and the same call fails the same way again.
 *
 * Recognise it with {@link isPartitionerError} rather than `instanceof`, which fails across duplicated installs.
 */
export class PartitionerError extends Error {
  override readonly name = "PartitionerError";
  /** Which rule the call broke; see {@link PartitionerErrorCode}. */
  readonly code: PartitionerErrorCode;
  /** Always `false`: retrying the same call cannot succeed. */
  readonly retriable: boolean = false;
  /** Marker read by {@link isPartitionerError} (and by other minikafka packages). */
  readonly [MINIKAFKA_ERROR] = "PartitionerError";

  /**
   * @param code - which rule the call broke
   * @param message - lower-case, carrying the values involved ("partition 7 is outside [0, 6)")
   * @param options - standard `ErrorOptions` (`cause`)
   */
  constructor(code: PartitionerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Tells whether `e` is a {@link PartitionerError}, from any copy of this package: it checks the
 * `Symbol.for("minikafka.error")` marker, not the prototype chain.
 *
 * @param e - anything caught
 * @returns `true` when `e` carries the marker `"PartitionerError"`
 */
export function isPartitionerError(e: unknown): e is PartitionerError {
  return typeof e === "object" && e !== null && (e as { [MINIKAFKA_ERROR]?: unknown })[MINIKAFKA_ERROR] === "PartitionerError";
}
