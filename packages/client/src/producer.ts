import { createDefaultPartitioner, isPartitionerError, type Partitioner } from "@minikafka/partitioner";
import { isRoutingFailure, type BrokerRouter } from "./broker-router.js";
import { base64Encode, utf8Encode, utf8EncodeInto } from "./bytes.js";
import { systemClock, type ClientClock } from "./clock.js";
import { connectionFailure } from "./connection-failure.js";
import { ClientError, isClientError } from "./errors.js";
import { segment, type Requester, type RetryPolicy } from "./http.js";
import { nonNegativeInteger, positiveInteger } from "./options.js";
import { ProducerSession, type ProducerFields } from "./producer-session.js";
import { backoffMs, sleep } from "./sleep.js";
import { TopicMetadata } from "./topic-metadata.js";
import type { ProducerMessage, ProducerRecord, RecordMetadata } from "./types.js";
import type { WireEncoding, WireProduceBody, WireProduceRecord, WireProduceResult } from "./wire.js";

/** Options of {@link Client.producer}. */
export interface ProducerOptions {
  /**
   * How long a message may wait for others to share its request, in ms (default 0: messages sent in the
   * same tick share a request, and messages sent while a request is in flight go together in the next).
   */
  lingerMs?: number | undefined;
  /** Most messages in one produce request (default 10 000; the broker accepts up to 100 000). */
  maxBatchRecords?: number | undefined;
  /**
   * About the most JSON bytes in one produce request (default 1 MiB; the broker refuses bodies over its
   * `maxBodyBytes`, 8 MiB by default). A batch the broker still refuses as too large (413: more records
   * than its `maxRecordsPerRequest`, a body over `maxBodyBytes`, a record over its key/value/header
   * limits) is split in halves and sent again, in order, until only a record the broker refuses by itself
   * is left; that record's send fails with the broker's code.
   */
  maxBatchBytes?: number | undefined;
  /**
   * Back-pressure: about how many bytes of messages may be queued or in flight (default 32 MiB). Beyond
   * it, `send()` waits for room instead of buffering without bound. A single `send()` larger than this is
   * admitted once the buffer is empty.
   */
  maxBufferedBytes?: number | undefined;
  /**
   * Chooses each message's partition (default: `createDefaultPartitioner()` from
   * `@minikafka/partitioner`: explicit partition > murmur2 of the key, as Kafka's Java client and KafkaJS
   * > sticky for keyless messages). The key bytes it is given are valid only during the call.
   */
  partitioner?: Partitioner | undefined;
  /** Partition counts are fetched again after this many ms, so grown topics are used (default 300 000). */
  metadataMaxAgeMs?: number | undefined;
  /**
   * Idempotent producing (default `true`, as Kafka's producer since 3.0): the producer gets a producer id
   * from the broker on its first send and numbers its messages per partition, so a request whose answer
   * was lost (timeout, broken connection, broker restart) is sent again, with the client's `retry`
   * settings, and stored once: exactly once per partition, in order, for as long as the producer lives.
   * `false`: no producer id, and such a request is not resent (the send fails; resending it yourself may
   * store it twice). See the README's delivery guarantees.
   */
  idempotent?: boolean | undefined;
}

const DEFAULTS = {
  lingerMs: 0,
  maxBatchRecords: 10_000,
  maxBatchBytes: 1024 * 1024,
  maxBufferedBytes: 32 * 1024 * 1024,
  metadataMaxAgeMs: 300_000,
};
const MAX_BATCH_RECORDS = 100_000; // the broker's limit per request
const RECORD_OVERHEAD_BYTES = 48; // JSON punctuation, field names, partition and timestamp digits

/** One `send()` call, settled when all its messages are stored (or one fails). */
interface PendingSend {
  readonly results: RecordMetadata[];
  remaining: number;
  settled: boolean;
  resolve(results: RecordMetadata[]): void;
  reject(error: unknown): void;
}

interface QueuedMessage {
  readonly message: ProducerMessage;
  readonly send: PendingSend;
  readonly index: number;
  readonly bytes: number;
  readonly binary: boolean;
  /** Where the partitioner put it, and its key as it goes on the wire: set when its batch is sent. */
  partition: number;
  key: string | null | undefined;
}

interface TopicQueue {
  readonly topic: string;
  messages: QueuedMessage[];
  bytes: number;
  timer: unknown;
  scheduled: boolean;
  inFlight: boolean;
}

/**
 * Sends messages to topics, batched: messages sent within `lingerMs` of each other go to the broker in one
 * request per topic, each message on the partition the partitioner picks (with partition counts from the
 * broker, cached). At most one request per topic is in flight, so messages of a partition are stored in
 * the order they were sent (per-key order). Create it with {@link Client.producer}.
 *
 * Delivery: `send()` resolves once the broker has stored every message durably and answered with their
 * partitions and offsets. Idempotent (the default): every request carries the producer id, epoch and each
 * partition's sequence, and is retried with the same numbers after a timeout, a lost connection or a
 * retriable answer; the broker answers a retry of a stored batch with the original offsets. So each
 * message is stored once, in send order per partition, even across broker restarts. A send fails when the
 * retries run out; later sends then use a new epoch (fresh sequences), which keeps a late copy of the
 * failed request from being stored after them. `INVALID_PRODUCER_EPOCH` (another producer took over the
 * id with a newer epoch) stops the producer: every queued and later send fails with it.
 *
 * With `idempotent: false`, only answers in which the broker says it changed nothing (`retriable: true`,
 * status 503/429) are retried; a timeout or a lost connection fails the send, because the messages may or
 * may not have been stored, and sending them again is at-least-once.
 */
export class Producer {
  readonly #http: Requester;
  readonly #router: BrokerRouter;
  readonly #retry: RetryPolicy;
  /**
   * How long a batch may wait for a partition's new leader: as long as the `retry` backoff would have waited
   * over all its retries (with the defaults 300 + 600 + 1 200 + 2 400 + 4 800 ms, about 9 s).
   */
  readonly #rerouteBudgetMs: number;
  readonly #metadata: TopicMetadata;
  readonly #partitioner: Partitioner;
  readonly #clock: ClientClock;
  readonly #lingerMs: number;
  readonly #maxBatchRecords: number;
  readonly #maxBatchBytes: number;
  readonly #maxBufferedBytes: number;
  readonly #queues = new Map<string, TopicQueue>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #capacityWaiters: Array<{ bytes: number; admit(): void }> = [];
  #bufferedBytes = 0;
  /** Scratch space for string keys' UTF-8 bytes (hashing them allocates nothing). */
  #keyScratch = new Uint8Array(256);
  #closed = false;
  #disconnecting: Promise<void> | undefined;
  /** Producer id, epoch and sequences; `undefined` with `idempotent: false`. */
  readonly #session: ProducerSession | undefined;

  /** @internal Use {@link Client.producer}. */
  constructor(router: BrokerRouter, retry: RetryPolicy, options: ProducerOptions = {}, clock: ClientClock = systemClock) {
    const http = router.home;
    this.#http = http;
    this.#router = router;
    this.#retry = retry;
    let budget = 0;
    for (let attempt = 1; attempt <= retry.retries; attempt++)
      budget += Math.min(retry.maxRetryTimeMs, retry.initialRetryTimeMs * 2 ** Math.min(30, attempt - 1));
    this.#rerouteBudgetMs = budget;
    this.#clock = clock;
    this.#lingerMs = nonNegativeInteger("lingerMs", options.lingerMs, DEFAULTS.lingerMs);
    this.#maxBatchRecords = positiveInteger("maxBatchRecords", options.maxBatchRecords, DEFAULTS.maxBatchRecords);
    if (this.#maxBatchRecords > MAX_BATCH_RECORDS)
      throw new ClientError("INVALID_CONFIG", `maxBatchRecords ${this.#maxBatchRecords} exceeds the broker's limit of ${MAX_BATCH_RECORDS}`);
    this.#maxBatchBytes = positiveInteger("maxBatchBytes", options.maxBatchBytes, DEFAULTS.maxBatchBytes);
    this.#maxBufferedBytes = positiveInteger("maxBufferedBytes", options.maxBufferedBytes, DEFAULTS.maxBufferedBytes);
    const maxAge = positiveInteger("metadataMaxAgeMs", options.metadataMaxAgeMs, DEFAULTS.metadataMaxAgeMs);
    if (options.partitioner !== undefined && typeof options.partitioner !== "function")
      throw new ClientError("INVALID_CONFIG", "partitioner must be a function");
    this.#partitioner = options.partitioner ?? createDefaultPartitioner();
    this.#metadata = new TopicMetadata(http, maxAge, clock);
    this.#session = options.idempotent === false ? undefined : new ProducerSession(http);
  }

  /**
   * Optional (KafkaJS habit): checks that the broker is up and ready. Sending works without it.
   * @throws ClientError when the broker cannot be reached or is not ready.
   */
  async connect(): Promise<void> {
    this.#assertOpen();
    await this.#http.request("GET", "readyz", { retry: "idempotent" });
  }

  /**
   * Queues `messages` for `topic` and resolves with where each was stored, in order, once all are durable.
   * Waits first when the buffer is full (`maxBufferedBytes`).
   *
   * ```ts
   * const [{ partition, offset }] = await producer.send({ topic: "orders", messages: [{ key: "o-1", value: "{}" }] });
   * ```
   * @throws ClientError `INVALID_RECORD` for a malformed message, `UNKNOWN_TOPIC_OR_PARTITION` when the
   *   topic does not exist or an explicit partition is out of range, `CLIENT_DISCONNECTED` after
   *   `disconnect()`, `INVALID_PRODUCER_EPOCH` once the producer is fenced, `OUT_OF_ORDER_SEQUENCE_NUMBER`
   *   when the broker lost messages it had acknowledged, `MESSAGE_TOO_LARGE` / `REQUEST_TOO_LARGE` for a
   *   message the broker refuses even alone (the other sends of its batch go on), or the broker's error. A
   *   send whose messages went out in several requests (more than `maxBatchRecords`, or a batch split after
   *   a 413) may fail after some of them were stored; none of its messages after the failure is sent.
   */
  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    try {
      this.#assertOpen();
      return this.#enqueue(record);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sends every queued message now (without waiting for `lingerMs`) and resolves once every `send()` made
   * before this call has settled. Failures are reported by those `send()` promises, not here.
   */
  async flush(): Promise<void> {
    const waiting = [...this.#pending];
    for (const queue of this.#queues.values()) this.#dispatch(queue, true);
    await Promise.allSettled(waiting);
  }

  /** Refuses further sends, flushes what is queued, and resolves when it is all settled. Idempotent. */
  disconnect(): Promise<void> {
    this.#closed = true;
    this.#disconnecting ??= this.flush();
    return this.#disconnecting;
  }

  /** Same as {@link Producer.disconnect}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  /** The UTF-8 bytes of a key, in scratch space: valid until the next call. */
  #keyBytes(key: string): Uint8Array {
    if (key.length * 3 > this.#keyScratch.length) this.#keyScratch = new Uint8Array(Math.max(key.length * 3, this.#keyScratch.length * 2));
    return this.#keyScratch.subarray(0, utf8EncodeInto(key, this.#keyScratch));
  }

  #assertOpen(): void {
    const fenced = this.#session?.fenced;
    if (fenced !== undefined) throw fenced;
    if (this.#closed) throw new ClientError("CLIENT_DISCONNECTED", "the producer is disconnected");
  }

  #enqueue(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (typeof record !== "object" || record === null) throw new ClientError("INVALID_REQUEST", "send() takes { topic, messages }");
    const { topic, messages } = record;
    if (typeof topic !== "string" || topic.length === 0) throw new ClientError("INVALID_REQUEST", "topic must be a non-empty string");
    if (!Array.isArray(messages)) throw new ClientError("INVALID_REQUEST", `messages for topic ${topic} must be an array`);
    if (messages.length === 0) return Promise.resolve([]);
    const queued: QueuedMessage[] = new Array(messages.length);
    let total = 0;
    let resolve!: (results: RecordMetadata[]) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<RecordMetadata[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const send: PendingSend = {
      results: new Array(messages.length),
      remaining: messages.length,
      settled: false,
      resolve: (results) => {
        send.settled = true;
        resolve(results);
      },
      reject: (error) => {
        if (send.settled) return;
        send.settled = true;
        reject(error);
      },
    };
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      const size = measure(message, i, topic);
      const bytes = Math.abs(size);
      queued[i] = { message, send, index: i, bytes, binary: size < 0, partition: -1, key: undefined };
      total += bytes;
    }
    const tracked = promise.finally(() => this.#pending.delete(tracked));
    tracked.catch(() => {}); // only the caller's promise reports the failure
    this.#pending.add(tracked);
    const queue = this.#queueOf(topic);
    if (this.#capacityWaiters.length === 0 && this.#fits(total)) {
      this.#admit(queue, queued, total);
    } else {
      this.#capacityWaiters.push({ bytes: total, admit: () => this.#admit(queue, queued, total) });
    }
    return promise;
  }

  #fits(bytes: number): boolean {
    return this.#bufferedBytes === 0 || this.#bufferedBytes + bytes <= this.#maxBufferedBytes;
  }

  #admit(queue: TopicQueue, messages: QueuedMessage[], bytes: number): void {
    this.#bufferedBytes += bytes;
    for (const m of messages) queue.messages.push(m);
    queue.bytes += bytes;
    this.#dispatch(queue, false);
  }

  #release(bytes: number): void {
    this.#bufferedBytes -= bytes;
    while (this.#capacityWaiters.length > 0 && this.#fits(this.#capacityWaiters[0]!.bytes)) this.#capacityWaiters.shift()!.admit();
  }

  #queueOf(topic: string): TopicQueue {
    let queue = this.#queues.get(topic);
    if (queue === undefined) {
      queue = { topic, messages: [], bytes: 0, timer: undefined, scheduled: false, inFlight: false };
      this.#queues.set(topic, queue);
    }
    return queue;
  }

  /** Sends the queue's next batch now if it is due (full, lingered, or `now`), or schedules it. */
  #dispatch(queue: TopicQueue, now: boolean): void {
    if (queue.messages.length === 0 || queue.inFlight) return;
    const full = queue.messages.length >= this.#maxBatchRecords || queue.bytes >= this.#maxBatchBytes;
    if (now || full) {
      if (queue.timer !== undefined) this.#clock.clearTimeout(queue.timer);
      queue.timer = undefined;
      queue.scheduled = false;
      this.#sendNext(queue);
      return;
    }
    if (queue.scheduled) return;
    queue.scheduled = true;
    const fire = () => {
      queue.timer = undefined;
      if (!queue.scheduled) return;
      queue.scheduled = false;
      this.#sendNext(queue);
    };
    // lingerMs 0: everything sent in this tick shares the request.
    if (this.#lingerMs === 0) queueMicrotask(fire);
    else queue.timer = this.#clock.setTimeout(fire, this.#lingerMs);
  }

  #sendNext(queue: TopicQueue): void {
    if (queue.messages.length === 0 || queue.inFlight) return;
    let count = 0;
    let bytes = 0;
    while (count < queue.messages.length && count < this.#maxBatchRecords) {
      const next = queue.messages[count]!.bytes;
      if (count > 0 && bytes + next > this.#maxBatchBytes) break;
      bytes += next;
      count++;
    }
    const batch = queue.messages.splice(0, count);
    queue.bytes -= bytes;
    queue.inFlight = true;
    void this.#sendBatch(queue.topic, batch)
      .catch((error: unknown) => {
        for (const m of batch) m.send.reject(error);
      })
      .finally(() => {
        queue.inFlight = false;
        this.#release(bytes);
        // Whatever queued up meanwhile has waited a whole request already: send it now.
        this.#dispatch(queue, true);
      });
  }

  /** Partitions and sends one batch; settles the sends it completes. */
  async #sendBatch(topic: string, batch: QueuedMessage[], refreshed = false): Promise<void> {
    // Once per client (then `undefined`): where the partitions' leaders are, or that the broker is one node.
    const router = this.#router;
    const loading = router.ready();
    if (loading !== undefined) await loading;
    // A topic created since the metadata was read: read it again rather than meet a 421 first.
    const lookUp = router.lookUp(topic);
    if (lookUp !== undefined) await lookUp;
    const partitionCount = await this.#metadata.partitionCount(topic);
    // Keys as they go on the wire (base64 when the batch carries bytes), made while their bytes are at hand.
    const binary = batch.some((m) => m.binary);
    let outOfRange: unknown;
    for (const m of batch) {
      const { message, send } = m;
      if (send.settled) continue;
      const key =
        message.key === undefined || message.key === null ? null : typeof message.key === "string" ? this.#keyBytes(message.key) : message.key;
      m.key = key === null ? (message.key as null | undefined) : binary ? base64Encode(key) : (message.key as string);
      m.partition = -1;
      try {
        m.partition = this.#partitioner({ topic, key, partitionCount, partition: message.partition });
      } catch (error) {
        if (isPartitionerError(error) && error.code === "UNKNOWN_TOPIC_OR_PARTITION") outOfRange = error;
        else
          send.reject(
            new ClientError(
              "INVALID_RECORD",
              `cannot partition message ${m.index} for topic ${topic}: ${String((error as Error)?.message ?? error)}`,
              {
                cause: error,
              },
            ),
          );
      }
    }
    if (outOfRange !== undefined) {
      // The count may be stale (the topic grew): ask once more before failing those sends.
      if (!refreshed) {
        this.#metadata.invalidate(topic);
        return this.#sendBatch(topic, batch, true);
      }
      for (const m of batch)
        if (m.partition === -1) m.send.reject(new ClientError("UNKNOWN_TOPIC_OR_PARTITION", (outOfRange as Error).message, { cause: outOfRange }));
    }
    // Messages of sends that failed (above, or earlier) are left out.
    const live = batch.some((m) => m.send.settled) ? batch.filter((m) => !m.send.settled) : batch;
    if (live.length > 0) await this.#produceByLeader(topic, live, binary, refreshed);
  }

  /**
   * Sends a batch as one request per partition leader, in parallel (one request on a single node, or when one
   * broker leads all its partitions); each message's result lands at its place in its send. With `fixed`
   * (a batch sent again after a routing failure), each request carries its partitions' share of those
   * numbers. Fails with the first failure, after failing the sends of every request that failed.
   */
  async #produceByLeader(
    topic: string,
    batch: QueuedMessage[],
    binary: boolean,
    refreshed: boolean,
    fixed?: ProducerFields,
    reroute: Reroute = FIRST_ROUTE,
  ): Promise<void> {
    const router = this.#router;
    if (!router.clustered) return this.#produce(topic, batch, binary, refreshed, fixed, false, reroute);
    const byLeader = new Map<number, QueuedMessage[]>();
    for (const m of batch) {
      const leader = router.leaderId(topic, m.partition);
      const part = byLeader.get(leader);
      if (part === undefined) byLeader.set(leader, [m]);
      else part.push(m);
    }
    if (byLeader.size === 1) return this.#produce(topic, batch, binary, refreshed, fixed, false, reroute);
    const parts = [...byLeader.values()];
    const outcomes = await Promise.allSettled(
      parts.map((part) => this.#produce(topic, part, binary, refreshed, fixed === undefined ? undefined : share(fixed, part), false, reroute)),
    );
    let failure: { error: unknown } | undefined;
    for (let i = 0; i < parts.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome.status === "fulfilled") continue;
      failure ??= { error: outcome.reason };
      for (const m of parts[i]!) m.send.reject(outcome.reason);
    }
    if (failure !== undefined) throw failure.error;
  }

  /**
   * Sends one request. Idempotent: with fresh sequences, or with `fixed` ones (the same batch again, split
   * by partition); `reset` is set once the batch was sent again after `UNKNOWN_PRODUCER_ID`.
   */
  async #produce(
    topic: string,
    batch: QueuedMessage[],
    binary: boolean,
    refreshed: boolean,
    fixed?: ProducerFields,
    reset = false,
    reroute: Reroute = FIRST_ROUTE,
  ): Promise<void> {
    const session = this.#session;
    let fields = fixed;
    if (session !== undefined && fields === undefined) {
      await session.ready();
      if (session.fenced !== undefined) throw session.fenced;
      const counts = new Map<number, number>();
      for (const { partition } of batch) counts.set(partition, (counts.get(partition) ?? 0) + 1);
      fields = session.take(topic, counts);
    }
    const body = encodeBatch(batch, binary);
    if (fields !== undefined) Object.assign(body, fields);
    let result: WireProduceResult;
    // In a cluster, to the leader of the batch's partitions (#produceByLeader grouped them so).
    const clustered = this.#router.clustered;
    const target = clustered ? this.#router.leader(topic, batch[0]!.partition) : this.#http;
    try {
      result = await target.request<WireProduceResult>("POST", `v1/topics/${segment(topic)}/records`, {
        json: body,
        // The same sequences on every attempt: the broker stores a batch once however often it arrives. In a
        // cluster, a lost connection or a timeout is retried below, after new metadata, to the leader it names.
        retry: fields === undefined ? "broker-retriable" : clustered ? "answers" : "idempotent",
      });
    } catch (error) {
      // The leader moved, died or is cut off: read the metadata again and send the batch, with the same
      // producer numbers (the broker deduplicates them, whichever replica leads now), to the leaders it names.
      // Without producer numbers only a request that never reached the broker (connection refused) is safe.
      if (clustered && isRoutingFailure(error)) {
        const retries = this.#retry.retries;
        if (
          reroute.waitedMs < this.#rerouteBudgetMs &&
          reroute.hops < 4 * (retries + 1) &&
          (fields !== undefined || connectionFailure(error) === "refused")
        ) {
          const waitedMs = await this.#awaitNewLeader(topic, batch[0]!.partition, reroute.waitedMs);
          // Only resends without a pause count as hops: the budget bounds the others.
          const hops = waitedMs === reroute.waitedMs ? reroute.hops + 1 : reroute.hops;
          return this.#produceByLeader(topic, batch, binary, refreshed, fields, { waitedMs, hops });
        }
        this.#router.afterFailure(error);
      }
      // 413 (RECORD_LIST_TOO_LARGE, REQUEST_TOO_LARGE, MESSAGE_TOO_LARGE, or a proxy's body limit): refused
      // before anything was stored, so the numbers are unused, and the parts take them again.
      if (isClientError(error) && error.status === 413 && fixed === undefined) {
        if (session !== undefined && fields !== undefined) session.unuse(topic, fields);
        return this.#produceTooLarge(topic, batch, binary, refreshed, error);
      }
      if (session !== undefined && fields !== undefined && isClientError(error)) {
        if (error.code === "INVALID_PRODUCER_EPOCH") {
          // The current epoch fenced: the producer stops (this check fails every later batch and send).
          session.fence(fields, error);
          throw session.fenced ?? error;
        }
        const producerError = error.code === "UNKNOWN_PRODUCER_ID" || error.code === "OUT_OF_ORDER_SEQUENCE_NUMBER";
        // One partition refused; the others may be stored. Each partition's batch alone, with the same
        // numbers: stored ones answer as duplicates (their offsets), the refused one fails by itself.
        if (producerError && fields.sequences.length > 1) return this.#producePerPartition(topic, batch, binary, refreshed, fields);
        session.abandon(fields);
        // The partition has no state for the producer (expired after being idle, or the topic was
        // re-created): this batch is not stored there, so it goes again as the first of the new epoch.
        if (error.code === "UNKNOWN_PRODUCER_ID" && !reset) return this.#produce(topic, batch, binary, refreshed, undefined, true);
      }
      // Both are refused before anything is appended, so sending again cannot duplicate.
      if (isClientError(error, "UNKNOWN_TOPIC_OR_PARTITION") && !refreshed) {
        this.#metadata.invalidate(topic);
        // In a cluster the leaders may be stale too (the topic deleted and created again): read them again first.
        if (clustered) await this.#router.refresh().catch(() => {});
        return this.#sendBatch(topic, batch, true);
      }
      throw error;
    }
    const offsets = result.offsets;
    if (!Array.isArray(offsets) || offsets.length !== batch.length) {
      throw new ClientError(
        "UNKNOWN_SERVER_ERROR",
        `the broker answered ${Array.isArray(offsets) ? offsets.length : "no"} offsets for ${batch.length} records`,
      );
    }
    for (let i = 0; i < batch.length; i++) {
      const { send, index } = batch[i]!;
      if (send.settled) continue;
      send.results[index] = offsets[i]!;
      if (--send.remaining === 0) send.resolve(send.results);
    }
  }

  /**
   * After a routing failure on `partition`'s leader: reads the metadata again and returns the time this
   * batch has waited so far. A new live leader named: at once. The same leader (its lease not yet expired,
   * or elected but not yet in its role): after one pause. No live leader (offline until the controller
   * elects one): reads the metadata every pause until there is one. Pauses are `retry.initialRetryTimeMs`
   * (a leader change is awaited at a steady pace, as Kafka's producer does, not with a growing backoff
   * that would overshoot it), bounded in all by the reroute budget (what `retry` would wait over all its
   * retries); once it is spent the batch is resent anyway, and then fails with the broker's answer.
   */
  async #awaitNewLeader(topic: string, partition: number, waitedMs: number): Promise<number> {
    const router = this.#router;
    const refused = router.leaderId(topic, partition);
    for (;;) {
      await router.refresh().catch(() => {}); // unanswered: the old view
      const now = router.leaderId(topic, partition);
      if ((now !== refused && now !== -1) || waitedMs >= this.#rerouteBudgetMs) return waitedMs;
      const pause = Math.min(backoffMs(1, this.#retry.initialRetryTimeMs, this.#retry.maxRetryTimeMs), this.#rerouteBudgetMs - waitedMs);
      await sleep(this.#clock, pause);
      waitedMs += pause;
      if (now !== -1) return waitedMs; // the same leader: try it again
    }
  }

  /**
   * A request the broker refused as too large (413 `RECORD_LIST_TOO_LARGE`, `REQUEST_TOO_LARGE` or
   * `MESSAGE_TOO_LARGE`; nothing stored): several records are split in halves, sent one after the other
   * (the first half first, so per-partition order holds), each with fresh sequences of the same epoch; a
   * half refused again is split again. A single record refused fails its own send with the broker's code
   * (naming the message) and the other sends go on; the rest of that send's messages are not sent.
   */
  async #produceTooLarge(topic: string, batch: QueuedMessage[], binary: boolean, refreshed: boolean, error: ClientError): Promise<void> {
    if (batch.length === 1) {
      const { send, index } = batch[0]!;
      send.reject(
        new ClientError(error.code, `message ${index} for topic ${topic} refused: ${error.message}`, { status: error.status, cause: error }),
      );
      return;
    }
    const half = batch.length >> 1;
    for (const part of [batch.slice(0, half), batch.slice(half)]) {
      // Leave out the messages of sends that failed meanwhile (a record of theirs was refused).
      const live = part.filter((m) => !m.send.settled);
      if (live.length > 0) await this.#produce(topic, live, binary, refreshed);
    }
  }

  /** The batch of a request again, one request per partition with the same producer fields; fails with the first error. */
  async #producePerPartition(topic: string, batch: QueuedMessage[], binary: boolean, refreshed: boolean, fields: ProducerFields): Promise<void> {
    let failure: { error: unknown } | undefined;
    for (const { partition, sequence } of fields.sequences) {
      const picked = batch.filter((m) => m.partition === partition);
      try {
        await this.#produce(topic, picked, binary, refreshed, { ...fields, sequences: [{ partition, sequence }] });
      } catch (error) {
        failure ??= { error };
        for (const m of picked) m.send.reject(error);
      }
    }
    if (failure !== undefined) throw failure.error;
  }
}

/**
 * How far a batch has been rerouted after routing failures (cluster mode): the time it waited for a new
 * leader (at most the producer's reroute budget) and its `hops` (resends to a new leader without a pause, at
 * most `4 · (retries + 1)`, so that leaders changing back and forth cannot keep a batch going forever).
 */
interface Reroute {
  readonly waitedMs: number;
  readonly hops: number;
}
const FIRST_ROUTE: Reroute = { waitedMs: 0, hops: 0 };

/** The producer fields of `fields` for the partitions of `part` only (a request split by leader). */
function share(fields: ProducerFields, part: readonly QueuedMessage[]): ProducerFields {
  const partitions = new Set<number>();
  for (const m of part) partitions.add(m.partition);
  return { ...fields, sequences: fields.sequences.filter((s) => partitions.has(s.partition)) };
}

/**
 * The request body for a batch: UTF-8 text when every field is a string, else base64 throughout
 * (the messages' wire keys are already in the batch's encoding).
 */
function encodeBatch(batch: QueuedMessage[], binary: boolean): WireProduceBody {
  const records: WireProduceRecord[] = new Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const { message, partition, key } = batch[i]!;
    const record: WireProduceRecord = { value: binary ? toBase64(message.value) : (message.value as string | null), partition };
    if (key !== undefined) record.key = key;
    if (message.headers !== undefined) {
      const headers: Record<string, string | null> = {};
      for (const name in message.headers) {
        const value = message.headers[name]!;
        headers[name] = binary ? toBase64(value) : (value as string | null);
      }
      record.headers = headers;
    }
    if (message.timestamp !== undefined) record.timestamp = message.timestamp;
    records[i] = record;
  }
  const encoding: WireEncoding = binary ? "base64" : "utf8";
  return binary ? { records, encoding } : { records };
}

function toBase64(value: string | Uint8Array | null): string | null {
  if (value === null) return null;
  return base64Encode(typeof value === "string" ? utf8Encode(value) : value);
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** The estimated JSON size of a key, value or header value, or -1 when it is not one. */
function fieldSize(value: unknown): number {
  if (value === null || value === undefined) return 4;
  if (typeof value === "string") return value.length;
  if (isBytes(value)) return Math.ceil(value.byteLength / 3) * 4;
  return -1;
}

/** `INVALID_RECORD` for message `index` of a send to `topic`: `before` + "message 3 for topic t" + `after`. */
function invalidRecord(index: number, topic: string, before: string, after: string): ClientError {
  return new ClientError("INVALID_RECORD", `${before}message ${index} for topic ${topic}${after}`);
}

/**
 * Validates a message and estimates its JSON size (negative when the message carries bytes, so that the
 * request goes base64). Allocates nothing for a valid message: this runs once per message sent.
 */
function measure(message: ProducerMessage, index: number, topic: string): number {
  if (typeof message !== "object" || message === null) throw invalidRecord(index, topic, "", " must be an object");
  if (message.value === undefined) throw invalidRecord(index, topic, "", " has no value (use null for a tombstone)");
  const value = fieldSize(message.value);
  if (value < 0) throw invalidRecord(index, topic, "the value of ", " must be a string, a Uint8Array or null");
  const key = fieldSize(message.key);
  if (key < 0) throw invalidRecord(index, topic, "the key of ", " must be a string, a Uint8Array or null");
  let bytes = RECORD_OVERHEAD_BYTES + value + key;
  let binary = isBytes(message.value) || isBytes(message.key);
  if (message.headers !== undefined) {
    if (typeof message.headers !== "object" || message.headers === null) throw invalidRecord(index, topic, "the headers of ", " must be an object");
    for (const name in message.headers) {
      const header = message.headers[name];
      const size = fieldSize(header);
      if (size < 0) throw invalidRecord(index, topic, `header ${JSON.stringify(name)} of `, " must be a string, a Uint8Array or null");
      bytes += name.length + size + 6;
      binary ||= isBytes(header);
    }
  }
  if (message.partition !== undefined && (!Number.isInteger(message.partition) || message.partition < 0)) {
    throw invalidRecord(index, topic, "the partition of ", ` must be a non-negative integer, got ${String(message.partition)}`);
  }
  if (message.timestamp !== undefined && (!Number.isSafeInteger(message.timestamp) || message.timestamp < 0)) {
    throw invalidRecord(index, topic, "the timestamp of ", ` must be a non-negative integer (ms since the epoch), got ${String(message.timestamp)}`);
  }
  return binary ? -bytes : bytes;
}
