import { Admin } from "./admin.js";
import { BrokerRouter } from "./broker-router.js";
import { systemClock, type ClientClock } from "./clock.js";
import { Consumer, type ConsumerOptions } from "./consumer.js";
import { ClientError } from "./errors.js";
import { Http, type RetryPolicy } from "./http.js";
import { nonNegativeInteger, positiveInteger } from "./options.js";
import { Producer, type ProducerOptions } from "./producer.js";
import type { MessageData, MessageFormat, RetryOptions } from "./types.js";

/** A `fetch`-shaped function (the global `fetch`, or a wrapper around it). */
export type FetchFunction = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

/** Options of {@link createClient}. */
export interface ClientOptions {
  /**
   * The broker's base URL, e.g. `"http://127.0.0.1:8000"` (a path prefix is kept, for a broker behind a
   * proxy), or several brokers of a cluster, e.g. `["http://127.0.0.1:8001", "http://127.0.0.1:8002"]`.
   * These are bootstrap brokers, as in Kafka: the client reads the cluster's metadata (`GET /v1/metadata`)
   * from the first that answers, once, before its first send, and from then on sends each partition's
   * records and fetches to the partition's leader (its advertised URL), each consumer group's calls to the
   * group's coordinator, and everything else to that first broker. A single-node broker (no brokers in its
   * metadata) gets every request, as before.
   */
  brokers: string | readonly string[];
  /**
   * A bearer token for a broker with `auth`: sent as `Authorization: Bearer <token>` on every request (in
   * browsers too; a page on another origin needs its origin in the broker's `cors.origins`).
   */
  token?: string | undefined;
  /** A name for this client in logs and error messages (default `"minikafka-client"`). */
  clientId?: string | undefined;
  /** How long one request may take, in ms (default 30 000; long polls get their wait on top). */
  timeoutMs?: number | undefined;
  /** Retries of retriable failures, with exponential backoff. */
  retry?: RetryOptions | undefined;
  /**
   * In a cluster: how old the cached cluster metadata (brokers, partition leaders) may get, in ms (default
   * 300 000, Kafka's `metadata.max.age.ms`). The first request that finds it older reads it again, in the
   * background; there is no timer, so an idle client sends nothing. Failures that say the metadata is wrong
   * (`NOT_LEADER_OR_FOLLOWER`, `UNKNOWN_TOPIC_OR_PARTITION`, a connection error, a timeout) read it at once.
   */
  metadataMaxAgeMs?: number | undefined;
  /** The `fetch` to use (default: the global one), e.g. to add headers or to test failures. */
  fetch?: FetchFunction | undefined;
  /**
   * Time and timers for the client's own waits (default: `Date.now()` and the global timers): linger,
   * heartbeat intervals, backoffs between consumer attempts, the consumer's local session timeout, the
   * pacing of long polls, metadata age. Any object with `now()`, `setTimeout(fn, ms)` and
   * `clearTimeout(handle)` fits, e.g. `ManualClock` from `@minikafka/group-coordinator`, which fires timers
   * only when advanced: tests then step time instead of sleeping. Request timeouts and the retries of a
   * single request run inside ky, on the runtime's timers.
   */
  clock?: ClientClock | undefined;
}

/** What {@link createClient} returns: a factory of producers, consumers and admin clients sharing one HTTP setup. */
export interface Client {
  /** The `clientId` option. */
  readonly clientId: string;
  /** A new producer (see {@link Producer}). @throws ClientError `INVALID_CONFIG` for a bad option. */
  producer(options?: ProducerOptions): Producer;
  /**
   * A new consumer in a group (see {@link Consumer}). Messages carry `Uint8Array`s, or strings with
   * `messageFormat: "text"`.
   * @throws ClientError `INVALID_CONFIG` for a bad option.
   */
  consumer<F extends MessageFormat = "bytes">(options: ConsumerOptions<F>): Consumer<MessageData<F>>;
  /** A new admin client (see {@link Admin}). */
  admin(): Admin;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_METADATA_MAX_AGE_MS = 300_000;
const DEFAULT_RETRY: RetryPolicy = { retries: 5, initialRetryTimeMs: 300, maxRetryTimeMs: 30_000 };

/**
 * Creates a client of a minikafka broker, shaped after KafkaJS's `new Kafka({ brokers })`. It works
 * wherever `fetch` exists (Node 20+, browsers, Deno, Bun); all requests go through one configured ky
 * instance (base URL, timeout, retries of retriable failures with backoff, typed errors).
 *
 * ```ts
 * const kafka = createClient({ brokers: "http://127.0.0.1:8000" });
 * const producer = kafka.producer();
 * await producer.send({ topic: "orders", messages: [{ key: "order-42", value: "created" }] });
 * ```
 * @throws ClientError `INVALID_CONFIG` for a bad URL or option.
 */
export function createClient(options: ClientOptions): Client {
  const brokers = typeof options?.brokers === "string" ? [options.brokers] : options?.brokers;
  if (!Array.isArray(brokers) || brokers.length === 0) {
    throw new ClientError("INVALID_CONFIG", "brokers must be a broker URL or a non-empty array of broker URLs");
  }
  const bootstrap: string[] = [];
  for (const broker of brokers) {
    let url: URL;
    try {
      if (typeof broker !== "string") throw new TypeError("not a string");
      url = new URL(broker);
    } catch (error) {
      throw new ClientError("INVALID_CONFIG", `brokers: ${JSON.stringify(broker)} is not a URL`, { cause: error });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new ClientError("INVALID_CONFIG", `brokers: ${url.href} is not an http(s) URL`);
    const base = url.href.replace(/\/+$/, "");
    if (!bootstrap.includes(base)) bootstrap.push(base);
  }
  if (options.fetch !== undefined && typeof options.fetch !== "function") throw new ClientError("INVALID_CONFIG", "fetch must be a function");
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== "function" || typeof clock.setTimeout !== "function" || typeof clock.clearTimeout !== "function") {
    throw new ClientError("INVALID_CONFIG", "clock must have now(), setTimeout(fn, ms) and clearTimeout(handle)");
  }
  const clientId = options.clientId ?? "minikafka-client";
  const { token } = options;
  if (token !== undefined && (typeof token !== "string" || !/^[A-Za-z0-9\-._~+/]+=*$/.test(token))) {
    throw new ClientError("INVALID_CONFIG", "token is no bearer token");
  }
  const retry: RetryPolicy = {
    retries: nonNegativeInteger("retry.retries", options.retry?.retries, DEFAULT_RETRY.retries),
    initialRetryTimeMs: positiveInteger("retry.initialRetryTimeMs", options.retry?.initialRetryTimeMs, DEFAULT_RETRY.initialRetryTimeMs),
    maxRetryTimeMs: positiveInteger("retry.maxRetryTimeMs", options.retry?.maxRetryTimeMs, DEFAULT_RETRY.maxRetryTimeMs),
  };
  const timeoutMs = positiveInteger("timeoutMs", options.timeoutMs, DEFAULT_TIMEOUT_MS);
  const metadataMaxAgeMs = positiveInteger("metadataMaxAgeMs", options.metadataMaxAgeMs, DEFAULT_METADATA_MAX_AGE_MS);
  const makeHttp = (baseUrl: string) => new Http({ baseUrl, timeoutMs, retry, fetch: options.fetch, token });
  const router = new BrokerRouter(bootstrap, makeHttp, retry, clock, metadataMaxAgeMs);
  return {
    clientId,
    producer: (producerOptions) => new Producer(router, retry, producerOptions, clock),
    consumer: <F extends MessageFormat = "bytes">(consumerOptions: ConsumerOptions<F>) =>
      new Consumer<MessageData<F>>(router, retry, consumerOptions, clock),
    admin: () => new Admin(router),
  };
}
