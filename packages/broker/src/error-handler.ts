import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorEnvelope } from "@minikafka/protocol";
import { ERRORS, type ErrorRow } from "@minikafka/protocol/errors";
import type { BrokerLogger } from "./core/broker-core.js";
import { BrokerError, miniKafkaErrorCode } from "./errors.js";
import type { BrokerMetrics } from "./metrics.js";

/**
 * Error code → HTTP status, for every minikafka error class (`BrokerError`, `LogStoreError`,
 * `PartitionerError`, `CoordinatorError`): errors are recognised by their `Symbol.for("minikafka.error")`
 * marker and mapped by `code` alone. Derived from the protocol's one error table; a code not in it (from
 * a newer copy of a leaf) answers 500.
 */
export const ERROR_STATUS: Readonly<Record<string, ContentfulStatusCode>> = Object.freeze(
  Object.fromEntries(
    Object.entries(ERRORS as Record<string, ErrorRow>).flatMap(([code, row]) =>
      row.status >= 400 ? [[code, row.status as ContentfulStatusCode]] : [],
    ),
  ),
);

export type { BrokerLogger };

const HTTP_CODES: Readonly<Record<number, string>> = { 400: "INVALID_REQUEST", 404: "NOT_FOUND", 413: "REQUEST_TOO_LARGE" };

/**
 * Turns anything thrown into a status and envelope; logs what the client is not told. With `metrics`, a
 * `CORRUPT_RECORD` is counted per topic and partition and logged once per partition and segment file
 * (every later fetch of the same damaged batch meets it again).
 */
export function toErrorResponse(
  error: unknown,
  logger: BrokerLogger,
  metrics?: BrokerMetrics,
): { status: ContentfulStatusCode; body: ErrorEnvelope } {
  const code = miniKafkaErrorCode(error);
  if (code !== undefined) {
    const { message, retriable } = error as { message: string; retriable?: unknown };
    const status = (Object.hasOwn(ERROR_STATUS, code) ? ERROR_STATUS[code] : undefined) ?? 500;
    const firstOfItsKind = code !== "CORRUPT_RECORD" || metrics === undefined || metrics.countCorruptRecord(String(message));
    if (status >= 500 && firstOfItsKind) logger.error(`minikafka broker: ${code}: ${message}`, error);
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

/** Hono `onError` handler answering with the envelope (see {@link toErrorResponse} for `metrics`). */
export function createErrorHandler(logger: BrokerLogger, metrics?: BrokerMetrics): ErrorHandler {
  return (error: unknown, c: Context) => {
    const { status, body } = toErrorResponse(error, logger, metrics);
    // RFC 6750: a 401 names the scheme the broker accepts.
    if (status === 401) c.header("www-authenticate", 'Bearer realm="minikafka"');
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
