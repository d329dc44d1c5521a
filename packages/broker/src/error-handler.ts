import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { BrokerError, miniKafkaErrorCode } from "./errors.js";

/**
 * The one table from error code to HTTP status, for every minikafka error class (`BrokerError`,
 * `LogStoreError`, `PartitionerError`, `CoordinatorError`): errors are recognised by their
 * `Symbol.for("minikafka.error")` marker and mapped by `code` alone. A code missing here answers 500.
 */
export const ERROR_STATUS: Readonly<Record<string, ContentfulStatusCode>> = Object.freeze({
  // The request itself is wrong.
  INVALID_REQUEST: 400,
  INVALID_TOPIC_NAME: 400,
  INVALID_PARTITIONS: 400,
  INVALID_RECORD: 400,
  INVALID_GROUP_ID: 400,
  // It names something that does not exist.
  NOT_FOUND: 404,
  UNKNOWN_TOPIC_OR_PARTITION: 404,
  GROUP_ID_NOT_FOUND: 404,
  UNKNOWN_MEMBER_ID: 404,
  // It conflicts with the current state.
  TOPIC_ALREADY_EXISTS: 409,
  FENCED_MEMBER_EPOCH: 409,
  STALE_MEMBER_EPOCH: 409,
  FENCED_INSTANCE_ID: 409,
  UNASSIGNED_PARTITION: 409,
  REQUEST_TOO_LARGE: 413,
  OFFSET_OUT_OF_RANGE: 416,
  // The broker is at fault.
  INTERNAL_ERROR: 500,
  UNKNOWN_SERVER_ERROR: 500,
  CORRUPT_RECORD: 500,
  // A leaf refused the broker's own configuration.
  INVALID_CONFIG: 500,
  // Temporarily unable to serve.
  KAFKA_STORAGE_ERROR: 503,
  STORE_CLOSED: 503,
  DATA_DIR_LOCKED: 503,
  COORDINATOR_NOT_AVAILABLE: 503,
  BROKER_NOT_AVAILABLE: 503,
});

/** The JSON error envelope every route answers with. */
export interface ErrorEnvelope {
  error: { code: string; message: string; retriable: boolean };
}

/** Where unexpected errors are reported. `console` fits. */
export interface BrokerLogger {
  error(message: string, ...details: unknown[]): void;
}

const HTTP_CODES: Readonly<Record<number, string>> = { 400: "INVALID_REQUEST", 404: "NOT_FOUND", 413: "REQUEST_TOO_LARGE" };

/** Turns anything thrown into a status and envelope; logs what the client is not told. */
export function toErrorResponse(error: unknown, logger: BrokerLogger): { status: ContentfulStatusCode; body: ErrorEnvelope } {
  const code = miniKafkaErrorCode(error);
  if (code !== undefined) {
    const { message, retriable } = error as { message: string; retriable?: unknown };
    const status = ERROR_STATUS[code] ?? 500;
    if (status >= 500) logger.error(`minikafka broker: ${code}: ${message}`, error);
    return { status, body: { error: { code, message: String(message), retriable: retriable === true } } };
  }
  // Hono's own exceptions (we avoid raising them, but a middleware might).
  if (error instanceof HTTPException && error.status < 500) {
    const code = HTTP_CODES[error.status] ?? "INVALID_REQUEST";
    return {
      status: error.status as ContentfulStatusCode,
      body: { error: { code, message: error.message.toLowerCase() || code, retriable: false } },
    };
  }
  logger.error("minikafka broker: unexpected error", error);
  return { status: 500, body: { error: { code: "INTERNAL_ERROR", message: "internal error", retriable: false } } };
}

/** Hono `onError` handler answering with the envelope. */
export function createErrorHandler(logger: BrokerLogger): ErrorHandler {
  return (error: unknown, c: Context) => {
    const { status, body } = toErrorResponse(error, logger);
    return c.json(body, status);
  };
}

/** Hono `notFound` handler: `404 NOT_FOUND` in the envelope. */
export const notFoundHandler: NotFoundHandler = (c) => {
  const { status, body } = toErrorResponse(
    new BrokerError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path.length > 200 ? `${c.req.path.slice(0, 200)}…` : c.req.path}`),
    { error() {} },
  );
  return c.json(body, status);
};
