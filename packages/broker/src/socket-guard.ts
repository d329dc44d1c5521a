// What a client may do to the broker's sockets: how large a request's head may be, how long its headers
// and the whole request may take to arrive, how long a connection may sit idle. Node's HTTP server
// enforces most of it; this module sets it up, answers its refusals with the one error envelope, and keeps
// the idle timeout away from answers the broker itself is waiting on (long polls, SSE streams).
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Socket } from "node:net";
import { ERRORS, type ErrorCode, type ErrorRow } from "@minikafka/protocol/errors";
import { BrokerError } from "./errors.js";

/** Socket and parser limits of the Node server (see `StartBrokerOptions`). Internal. */
export interface SocketLimits {
  /** Bytes of the request line and headers together (Node's `maxHeaderSize`). */
  readonly maxRequestHeaderBytes: number;
  /** The headers must have arrived this long after the request's first byte (Node's `headersTimeout`). */
  readonly headersTimeoutMs: number;
  /** The whole request, body included, must have arrived within this (Node's `requestTimeout`). */
  readonly requestTimeoutMs: number;
  /** A keep-alive connection with no request in progress is closed after this (Node's `keepAliveTimeout`). */
  readonly keepAliveTimeoutMs: number;
  /** A connection on which nothing moves for this long is closed, unless the broker is waiting to answer; 0 = never. */
  readonly idleTimeoutMs: number;
}

/** The defaults: 16 KiB of headers (Node's), 20 s for them, 120 s for a whole request, 5 s keep-alive, 60 s idle. */
export const DEFAULT_SOCKET_LIMITS: SocketLimits = Object.freeze({
  maxRequestHeaderBytes: 16 * 1024,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
});

/**
 * The limits given, or their defaults, checked.
 * @throws BrokerError `INVALID_REQUEST` naming the option for a value that is not a positive integer
 *   (`idleTimeoutMs` may be 0), or a `headersTimeoutMs` above `requestTimeoutMs`.
 */
export function socketLimits(options: Partial<Record<keyof SocketLimits, number | undefined>>): SocketLimits {
  const limits = { ...DEFAULT_SOCKET_LIMITS };
  for (const key of Object.keys(limits) as Array<keyof SocketLimits>) {
    const value = options[key];
    if (value === undefined) continue;
    const min = key === "idleTimeoutMs" ? 0 : key === "maxRequestHeaderBytes" ? 1024 : 1;
    if (!Number.isSafeInteger(value) || value < min)
      throw new BrokerError("INVALID_REQUEST", `${key} must be an integer of at least ${min}, got ${String(value)}`);
    (limits as Record<string, number>)[key] = value;
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new BrokerError(
      "INVALID_REQUEST",
      `headersTimeoutMs (${limits.headersTimeoutMs}) must not be above requestTimeoutMs (${limits.requestTimeoutMs}): the headers are part of the request`,
    );
  }
  return limits;
}

/** The `http.createServer` / `https.createServer` options that enforce `limits` (TLS handshakes get the headers' time). */
export function serverOptions(limits: SocketLimits, tls: { cert: Buffer; key: Buffer } | undefined): ServerOptions & Record<string, unknown> {
  return {
    maxHeaderSize: limits.maxRequestHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // Node looks for expired headers and requests this often (default 30 s, which would let a stalled
    // client hold its socket up to 30 s past a shorter timeout).
    connectionsCheckingInterval: Math.max(25, Math.min(30_000, Math.floor(limits.headersTimeoutMs / 4))),
    ...(tls === undefined ? {} : { ...tls, handshakeTimeout: limits.headersTimeoutMs }),
  };
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large" };

/** A whole HTTP/1.1 answer carrying the error envelope, written straight to a socket Node's parser gave up on. */
function rawAnswer(code: ErrorCode, message: string): string {
  const row = ERRORS[code] as ErrorRow;
  const body = JSON.stringify({ error: { code, message, retriable: row.retriable === true } });
  return (
    `HTTP/1.1 ${row.status} ${STATUS_TEXT[row.status] ?? ""}\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}

/**
 * Applies the parts of `limits` Node does not take as server options, once the server exists: the idle
 * timeout, and the answers to what Node's parser refuses (431 `REQUEST_HEADERS_TOO_LARGE`, 408
 * `REQUEST_TIMEOUT`, 400 `INVALID_REQUEST`), in the error envelope, closing the connection.
 *
 * The idle timeout is the socket's inactivity timeout, but a connection whose answer the broker is still
 * working on with nothing left unsent (a long poll or an SSE stream waiting for records, a slow append) is
 * not idle: the wait is the broker's, and its own bounds apply (`maxWaitMs`, the SSE connection length).
 * A connection whose answer is stuck in its send buffer (a client that stopped reading) is closed, and so
 * is one with no request in progress (between requests the keep-alive timeout is shorter anyway).
 */
export function guardSockets(server: Server, limits: SocketLimits): void {
  const answering = new WeakMap<Socket, ServerResponse>();
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    answering.set(socket, res);
    res.once("close", () => {
      if (answering.get(socket) === res) answering.delete(socket);
    });
  });
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.setTimeout(limits.idleTimeoutMs);
  // With a listener, Node leaves timed-out sockets to it (and so also the keep-alive timeout's).
  server.on("timeout", (socket: Socket) => {
    const res = answering.get(socket);
    if (res !== undefined && !res.writableFinished && socket.writableLength === 0) return;
    socket.destroy();
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    const res = answering.get(socket as Socket);
    // Nothing can be said on a connection that is gone, or whose answer has begun.
    if (error.code === "ECONNRESET" || !socket.writable || res?.headersSent === true) {
      socket.destroy();
      return;
    }
    let answer: string;
    if (error.code === "HPE_HEADER_OVERFLOW") {
      answer = rawAnswer(
        "REQUEST_HEADERS_TOO_LARGE",
        `the request line and headers exceed the broker's limit of ${limits.maxRequestHeaderBytes} bytes (maxRequestHeaderBytes)`,
      );
    } else if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      answer = rawAnswer(
        "REQUEST_TIMEOUT",
        `the request did not arrive in time: its headers within ${limits.headersTimeoutMs} ms, all of it within ${limits.requestTimeoutMs} ms`,
      );
    } else {
      answer = rawAnswer("INVALID_REQUEST", `malformed HTTP request (${error.code ?? "parse error"})`);
    }
    socket.end(answer, () => socket.destroy());
  });
}
