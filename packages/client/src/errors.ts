import { errorRow, type ErrorCode } from "@minikafka/protocol/errors";

const MARKER: unique symbol = Symbol.for("minikafka.error");

/**
 * Codes of {@link ClientError}: the protocol's {@link ErrorCode} (its one error table lists what each
 * means). The broker's codes come through unchanged (Kafka's names where Kafka has the concept); the client
 * adds its own for what happens on its side of the wire:
 *
 * - Broker: `INVALID_REQUEST`, `INVALID_TOPIC_NAME`, `INVALID_PARTITIONS`, `INVALID_RECORD`,
 *   `INVALID_GROUP_ID`, `NOT_FOUND`, `UNKNOWN_TOPIC_OR_PARTITION`, `GROUP_ID_NOT_FOUND`, `UNKNOWN_MEMBER_ID`,
 *   `TOPIC_ALREADY_EXISTS`, `FENCED_MEMBER_EPOCH`, `STALE_MEMBER_EPOCH`, `FENCED_INSTANCE_ID`,
 *   `UNASSIGNED_PARTITION`, `NON_EMPTY_GROUP`, `TOPIC_LIMIT_REACHED`, `REQUEST_TOO_LARGE`, `OFFSET_OUT_OF_RANGE`, `INTERNAL_ERROR`,
 *   `UNKNOWN_SERVER_ERROR`, `CORRUPT_RECORD`, `INVALID_CONFIG`, `KAFKA_STORAGE_ERROR`, `DISK_FULL`,
 *   `TOO_MANY_OPEN_FILES`, `STORE_CLOSED`, `DATA_DIR_LOCKED`, `COORDINATOR_NOT_AVAILABLE`, `BROKER_NOT_AVAILABLE`. A code this version does not
 *   know yet is passed through as a plain string.
 * - Client: `NETWORK_EXCEPTION` (the request could not be sent or its answer not received; retriable),
 *   `REQUEST_TIMED_OUT` (no answer within `timeoutMs`; retriable), `INVALID_CONFIG` (a bad option),
 *   `INVALID_RECORD` (a message the producer cannot send), `INVALID_REQUEST` (a bad argument),
 *   `NON_EMPTY_GROUP` (an admin offset change for a group that has members), `CLIENT_DISCONNECTED` (the
 *   producer, consumer or admin was disconnected), `UNKNOWN_SERVER_ERROR` (an error answer without the
 *   broker's JSON envelope, e.g. from a proxy).
 */
export type ClientErrorCode =
  | ErrorCode
  // A code from a newer broker: still a string, without losing completion for the known ones.
  | (string & {});

/** True for codes after which a group member is gone: the consumer rejoins. Internal (from the error table). */
export const isLostCode = (code: string): boolean => errorRow(code)?.member === "lost";

/** True for retriable codes that a write may answer after part of it was applied. Internal (from the error table). */
export const isPartialWriteCode = (code: string): boolean => errorRow(code)?.partialWrite === true;

/** Options of the {@link ClientError} constructor. */
export interface ClientErrorOptions extends ErrorOptions {
  /** Whether the same request may succeed later (default: `false`). */
  retriable?: boolean | undefined;
  /** The HTTP status of the broker's answer, when there was one. */
  status?: number | undefined;
}

/**
 * The one error class of `@minikafka/client`. Errors the broker reports keep its `code`, `message` and
 * `retriable` flag from the JSON envelope (`{ "error": { code, message, retriable } }`) and add the HTTP
 * `status`; failures on the client's side of the wire (network, timeout, bad arguments) get client codes.
 * Recognise it with {@link isClientError}, which works across duplicated installs (where `instanceof` fails).
 */
export class ClientError extends Error {
  override readonly name = "ClientError";
  /** What went wrong: see {@link ClientErrorCode}. */
  readonly code: ClientErrorCode;
  /** Whether the same request may succeed later. */
  readonly retriable: boolean;
  /** The HTTP status of the broker's answer, or `undefined` when none was received. */
  readonly status: number | undefined;
  /** Marker shared by all minikafka errors; the value names the class. */
  readonly [MARKER] = "ClientError";

  /**
   * @param code - what went wrong
   * @param message - lower-case, carrying the values involved
   * @param options - `retriable`, `status` and the standard `cause`
   */
  constructor(code: ClientErrorCode, message: string, options: ClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable === true;
    this.status = options.status;
  }
}

/**
 * True when `error` is a {@link ClientError} from any copy of this package: checks the
 * `Symbol.for("minikafka.error")` marker, not the prototype chain.
 *
 * @param error - anything caught
 * @param code - when given, also require this code
 */
export function isClientError(error: unknown, code?: ClientErrorCode): error is ClientError {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { [MARKER]?: unknown })[MARKER] === "ClientError" &&
    (code === undefined || (error as { code?: unknown }).code === code)
  );
}
