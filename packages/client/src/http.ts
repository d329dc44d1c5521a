import ky, { HTTPError, TimeoutError, type KyInstance, type RetryOptions as KyRetryOptions, type ShouldRetryState } from "ky";
import { ClientError, isPartialWriteCode } from "./errors.js";
import { abortWhen } from "./sleep.js";
import type { WireErrorEnvelope } from "./wire.js";

/**
 * When a failed request may be sent again:
 *
 * - `"idempotent"`: the broker's retriable 429/503 answers, network errors, timeouts and 429/502/503/504
 *   answers without the broker's envelope (a proxy's). Sending it twice has the effect of sending it once
 *   (reads, commits, leaves).
 * - `"broker-retriable"`: only the broker's own retriable 429/503 answers, given before it changed
 *   anything (shutting down, store closed, coordinator unavailable). For writes that must not be repeated
 *   blindly (produce, join, create): after a timeout or a lost connection the broker may already have
 *   applied them. `KAFKA_STORAGE_ERROR` is not retried here although the broker marks it retriable: a
 *   produce spanning partitions may have been appended to the others before one of them failed.
 * - `"answers"`: the broker's retriable 429/503 answers (partial writes included) and 429/502/503/504 answers
 *   without an envelope, but not network errors or timeouts: for an idempotent produce in a cluster, whose
 *   caller sends it again itself, to the partition's leader as fresh metadata names it.
 * - `"never"`: the caller retries itself (heartbeats rebuild their body before each attempt).
 */
export type RetryMode = "idempotent" | "broker-retriable" | "answers" | "never";

/** What sends requests to a broker: an {@link Http}, or the client's home-broker facade. Internal. */
export interface Requester {
  /**
   * Sends one request and parses the JSON answer (`undefined` for 204).
   * @throws ClientError for every failure but an abort through `options.signal`.
   */
  request<T>(method: "GET" | "POST" | "DELETE", path: string, options: CallOptions): Promise<T>;
}

/** Options of one request. */
export interface CallOptions {
  /** JSON body. */
  json?: unknown;
  /** Query parameters; `undefined` values are left out. */
  searchParams?: Record<string, string | number | undefined>;
  /** Aborts the request (and its retries); the promise then rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Added to the client's timeout (the wait of a long poll). */
  extraTimeoutMs?: number | undefined;
  retry: RetryMode;
}

/** Resolved retry settings. */
export interface RetryPolicy {
  retries: number;
  initialRetryTimeMs: number;
  maxRetryTimeMs: number;
}

/** Options of {@link Http}. */
export interface HttpOptions {
  /** Broker base URL, e.g. `http://127.0.0.1:8000`. */
  baseUrl: string;
  timeoutMs: number;
  retry: RetryPolicy;
  fetch?: ((input: Request | string | URL, init?: RequestInit) => Promise<Response>) | undefined;
  /** Sent as `Authorization: Bearer <token>` on every request. */
  token?: string | undefined;
}

/** Statuses that may be retried at all: too many requests, bad gateway, unavailable, gateway timeout. */
const RETRY_STATUSES = [429, 502, 503, 504];
/** Of those, the ones the broker itself uses for retriable errors. */
const BROKER_RETRY_STATUSES = [429, 503];
const JSON_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/json" };

/**
 * The one configured ky instance of a client: base URL, timeout, retries with exponential backoff and
 * jitter for retriable failures only (per {@link RetryMode}), and every failure turned into a
 * {@link ClientError} (the broker's envelope code, message and `retriable` flag, or a client code).
 * Internal.
 */
export class Http implements Requester {
  readonly #ky: KyInstance;
  readonly #fetch: HttpOptions["fetch"];
  readonly #timeoutMs: number;
  readonly #retry: Record<RetryMode, KyRetryOptions>;
  // The envelope of each failed answer, read once by the beforeError hook (a body can be read only once).
  readonly #envelopes = new WeakMap<HTTPError, WireErrorEnvelope["error"] | null>();

  constructor(options: HttpOptions) {
    const { retries, initialRetryTimeMs, maxRetryTimeMs } = options.retry;
    this.#timeoutMs = options.timeoutMs;
    this.#fetch = options.fetch;
    this.#ky = ky.create({
      prefixUrl: options.baseUrl,
      timeout: options.timeoutMs,
      ...(options.token === undefined ? {} : { headers: { authorization: `Bearer ${options.token}` } }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      retry: {
        limit: retries,
        // Every method is allowed here; `shouldRetry` (per mode) decides.
        methods: ["get", "post", "put", "delete", "head"],
        statusCodes: RETRY_STATUSES,
        afterStatusCodes: BROKER_RETRY_STATUSES,
        maxRetryAfter: maxRetryTimeMs,
        backoffLimit: maxRetryTimeMs,
        delay: (attempt) => initialRetryTimeMs * 2 ** (attempt - 1),
        // ±20%: clients that failed together do not all come back at the same instant.
        jitter: (delay) => delay * (0.8 + Math.random() * 0.4),
      },
      hooks: {
        beforeError: [
          async (error) => {
            this.#envelopes.set(error, await readEnvelope(error.response));
            return error;
          },
        ],
      },
    });
    this.#retry = {
      idempotent: { shouldRetry: (state) => this.#shouldRetry(state, true) },
      "broker-retriable": { shouldRetry: (state) => this.#shouldRetry(state, false) },
      answers: { shouldRetry: (state) => this.#shouldRetry(state, true, false) },
      never: { limit: 0 },
    };
  }

  /**
   * Sends one request and parses the JSON answer (`undefined` for 204).
   * @throws ClientError for every failure but an abort through `options.signal` (which rejects with the
   *   signal's reason).
   */
  async request<T>(method: "GET" | "POST" | "DELETE", path: string, options: CallOptions): Promise<T> {
    const timeout = this.#timeoutMs + (options.extraTimeoutMs ?? 0);
    const { signal } = options;
    // The caller's signal is often long-lived (a consumer's wake-up or stop signal); ky combines it with its
    // own through AbortSignal.any, which on Node 20 leaves an entry on the long-lived signal per request.
    // A signal of this request's own, linked to it, leaves nothing behind.
    const link = signal === undefined ? undefined : new AbortController();
    const unlink = signal === undefined ? undefined : abortWhen(link!, signal);
    try {
      // Query parameters go into the path: with `searchParams`, ky builds the Request twice.
      const response = await this.#ky(path + queryString(options.searchParams), {
        method,
        signal: link?.signal,
        timeout,
        retry: this.#retry[options.retry],
        ...(options.json === undefined ? {} : { headers: JSON_HEADERS, fetch: this.#sending(JSON.stringify(options.json)) }),
      });
      if (response.status === 204) return undefined as T;
      return (await response.json()) as T;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw this.#toClientError(error, method, path, timeout);
    } finally {
      unlink?.();
    }
  }

  /**
   * The `fetch` for ky to call with a body-less Request, attaching `body` (a string: sent again as it is
   * on a retry). Given the body itself, ky would make it a stream, tee it for retries, and `fetch`, handed a
   * Request with a stream body, would pipe it through one more TransformStream: on Node 20 that costs
   * about as much CPU as the rest of the request. A custom `fetch` still gets a Request.
   */
  #sending(body: string): (input: Request | string | URL) => Promise<Response> {
    const custom = this.#fetch;
    return (input) => {
      const request = input instanceof Request ? input : new Request(input); // ky passes its Request
      const init: RequestInit = { method: request.method, headers: request.headers, body, signal: request.signal };
      return custom === undefined ? fetch(request.url, init) : custom(new Request(request.url, init));
    };
  }

  #shouldRetry({ error }: ShouldRetryState, idempotent: boolean, network = idempotent): boolean {
    if (error instanceof HTTPError) {
      const status = error.response.status;
      const envelope = this.#envelopes.get(error);
      if (envelope) return envelope.retriable && BROKER_RETRY_STATUSES.includes(status) && (idempotent || !isPartialWriteCode(envelope.code));
      return idempotent && RETRY_STATUSES.includes(status);
    }
    // A timeout or a network error: the request may or may not have reached the broker.
    return network && (error instanceof TimeoutError || error instanceof TypeError);
  }

  #toClientError(error: unknown, method: string, path: string, timeoutMs: number): ClientError {
    const where = `${method} /${path}`;
    if (error instanceof HTTPError) {
      const status = error.response.status;
      const envelope = this.#envelopes.get(error);
      if (envelope) return new ClientError(envelope.code, envelope.message, { retriable: envelope.retriable, status, cause: error });
      return new ClientError("UNKNOWN_SERVER_ERROR", `http ${status} without an error envelope from ${where}`, {
        retriable: RETRY_STATUSES.includes(status),
        status,
        cause: error,
      });
    }
    if (error instanceof TimeoutError) {
      return new ClientError("REQUEST_TIMED_OUT", `no answer to ${where} within ${timeoutMs} ms`, { retriable: true, cause: error });
    }
    if (error instanceof TypeError) {
      return new ClientError("NETWORK_EXCEPTION", `${where} failed: ${error.message.toLowerCase()}`, { retriable: true, cause: error });
    }
    if (error instanceof SyntaxError) {
      return new ClientError("UNKNOWN_SERVER_ERROR", `invalid json in the answer to ${where}`, { cause: error });
    }
    return new ClientError("NETWORK_EXCEPTION", `${where} failed: ${String(error).toLowerCase()}`, { retriable: true, cause: error });
  }
}

async function readEnvelope(response: Response): Promise<WireErrorEnvelope["error"] | null> {
  try {
    const body = (await response.json()) as Partial<WireErrorEnvelope>;
    const e = body?.error;
    if (e && typeof e.code === "string" && typeof e.message === "string")
      return { code: e.code, message: e.message, retriable: e.retriable === true };
  } catch {
    // Not JSON: a proxy's page, a truncated body.
  }
  return null;
}

/** `?name=value&…` for the defined parameters, or `""`. */
function queryString(params: Record<string, string | number | undefined> | undefined): string {
  if (params === undefined) return "";
  const query = new URLSearchParams();
  for (const name in params) {
    const value = params[name];
    if (value !== undefined) query.append(name, String(value));
  }
  const text = query.toString();
  return text === "" ? "" : `?${text}`;
}

/** `encodeURIComponent` for a path segment (topic names, group and member ids). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
