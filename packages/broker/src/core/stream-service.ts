// Durable Streams (PROTOCOL.md in shared/specs/durable-streams) on log-store, transport-free.
//
// Each stream is a single-partition topic of its own store (the broker keeps streams in a LogStore of
// their own, under <dataDir>/__streams, so they never appear among the /v1 topics). Its topic name is
// derived from a hash of the path plus a generation (paths never become file names); the path itself is
// in the topic's first record. Every protocol step is one batch of one record, so it is atomic:
//
//   offset 0   meta    headers { ds: "meta" }, value = JSON { path, contentType, ttl/expiry, fork, … }
//   data       value = the appended bytes (JSON mode: the messages' source texts joined by ",")
//              headers: "ds.close" (the stream closes with this append), "ds.seq" (the last Stream-Seq),
//              "ds.p" = JSON [producerId, epoch, seq, pid] (an idempotent producer's append)
//   close      value = null, headers { ds: "close" } (+ "ds.p" when a producer closed it)
//   delete     value = null, headers { ds: "delete" } (soft delete: forks still read the data)
//
// Stream offsets are partition offsets (plus a fork's base, so a fork shares its source's offset space),
// minted as fixed-width decimal tokens (stream-format.ts): opaque, unique, lexicographically sorted. Control records take
// partition offsets but are never returned, and the tail (`Stream-Next-Offset`) is one past the last data
// record, so closing does not move it.
//
// Idempotent producers: the protocol's string ids, epochs and per-request sequences are checked here (its
// rules differ from Kafka's: any sequence at or below the last is a duplicate), and each accepted append
// also carries Kafka producer fields in the batch header — one log-store producer id per (id, epoch) on
// this stream, epoch 0, sequence = Producer-Seq mod 2^31 — so log-store deduplicates a retry of one of the
// last 5 batches against the original, in flight or durable. The string id, epoch and sequence are in the
// same record's header, inside the batch CRC: producer state is committed with the data, and rebuilt from
// the log at open.
import { createHash } from "node:crypto";
import type { LogStore, RecordInput, StoredRecord } from "@minikafka/log-store";
import { BrokerError } from "../errors.js";
import type { BrokerLogger } from "./broker-core.js";
import { LiveTails, type LiveReader, type LiveTailSource } from "./live-tail.js";
import { ReadBufferPool, type ReadLease } from "./read-buffers.js";
import { StreamError } from "./stream-errors.js";
import {
  cursorInterval,
  isJsonType,
  isTextType,
  isValidContentType,
  jsonGroupMessages,
  mediaType,
  offsetToken,
  parseCursor,
  parseOffset,
  responseCursor,
  splitJsonMessages,
  sseEvent,
} from "./stream-format.js";

/** What the stream service needs of its store: `LogStore` fits (a store of its own, see the file comment). */
export type StreamLogStore = Pick<LogStore, "createTopic" | "deleteTopic" | "listTopics" | "describeTopic" | "append" | "read" | "waitForData">;

/** Options of {@link StreamService.open}. */
export interface StreamServiceOptions {
  /** The store holding the streams (one topic each); not closed by the service. */
  store: StreamLogStore;
  /** Time in ms (TTL, expiry, cursors); default `Date.now`. */
  clock?: { now(): number } | undefined;
  /** How long a long-poll read waits for data before answering 204, in ms (default 30 000). */
  longPollTimeoutMs?: number | undefined;
  /** An SSE connection is ended by the server after about this long, in ms (default 60 000; PROTOCOL.md §10.2). */
  sseMaxMs?: number | undefined;
  /**
   * Largest catch-up or long-poll answer, in bytes of data (default {@link DEFAULT_MAX_READ_BYTES}, 8 MiB),
   * and at most 10,000 messages; at least one message is returned. SSE rounds are at most {@link SSE_ROUND_BYTES}.
   */
  maxReadBytes?: number | undefined;
  /** Expired streams are deleted by a sweep this often, in ms (default 60 000; they are refused at once anyway). */
  sweepIntervalMs?: number | undefined;
  /**
   * Streams whose state or last access changed are checkpointed this often, in ms (default 1 000): open
   * then replays only what each stream appended since its checkpoint, and TTLs count from the persisted
   * last access. After a crash, up to this much of the newest accesses may be unknown; TTLs are then
   * counted from the checkpoint time plus this interval, so no stream expires early.
   */
  checkpointIntervalMs?: number | undefined;
  /** Aborted when the broker shuts down: live reads end at once. */
  shutdown?: AbortSignal | undefined;
  logger?: BrokerLogger | undefined;
}

/** A stream's metadata, as HEAD answers it. */
export interface StreamInfo {
  contentType: string;
  /** The tail offset token. */
  nextOffset: string;
  closed: boolean;
  ttlSeconds?: number | undefined;
  expiresAt?: string | undefined;
  /** Entity tag of the whole stream (`"<id>:-1:<tail>[:c]"`). */
  etag: string;
}

/** A `PUT`. */
export interface CreateStreamOptions {
  /** The request's `Content-Type`; `undefined` when absent or not a media type (default octet-stream, or the source's for a fork). */
  contentType?: string | undefined;
  ttlSeconds?: number | undefined;
  /** RFC 3339, as sent. */
  expiresAt?: string | undefined;
  /** Create the stream closed (`Stream-Closed: true`). */
  closed: boolean;
  /** Initial content (may be empty). */
  body: Uint8Array;
  /** `Stream-Forked-From`: the source stream's path. */
  forkedFrom?: string | undefined;
  /** `Stream-Fork-Offset` as sent (default: the source's tail). */
  forkOffset?: string | undefined;
  /** `Stream-Fork-Sub-Offset` (bytes, or JSON messages, past the fork offset). */
  forkSubOffset?: number | undefined;
}

/** An idempotent producer's `Producer-Id` / `Producer-Epoch` / `Producer-Seq`. */
export interface StreamProducer {
  id: string;
  epoch: number;
  seq: number;
}

/** A `POST`. */
export interface AppendStreamOptions {
  contentType?: string | undefined;
  body: Uint8Array;
  /** `Stream-Closed: true`: close after appending (or just close, with an empty body). */
  close: boolean;
  /** `Stream-Seq`. */
  streamSeq?: string | undefined;
  producer?: StreamProducer | undefined;
}

/** What an append did. */
export interface AppendStreamResult {
  nextOffset: string;
  closed: boolean;
  /** A producer's retry of an append already stored: nothing was appended. */
  duplicate: boolean;
  /** Data was appended (not a duplicate, not a close-only request). */
  appended: boolean;
  /** With a producer: its epoch and highest accepted sequence. */
  producer?: { epoch: number; seq: number } | undefined;
}

/** A catch-up or long-poll `GET`. */
export interface StreamReadOptions {
  /** The `offset` parameter as sent (default: the start). */
  offset?: string | undefined;
  live?: "long-poll" | undefined;
  cursor?: string | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Read into the service's reused buffers: the answer's parts are then views into them until the
   * caller calls the result's {@link StreamReadResult.release} (once they are sent, or will never be).
   * Without it, the parts are the caller's to keep.
   */
  reuseBuffers?: boolean | undefined;
}

/** What a read answers. */
export interface StreamReadResult {
  /** 200 with data (or an empty catch-up answer), 204 when a long poll timed out or met the end of a closed stream. */
  status: 200 | 204;
  contentType: string;
  /**
   * The answer's bytes in order, as they were read (large records are not copied; small ones are joined
   * into parts of 64 KiB or more): send them one after the other. Empty for an empty answer.
   */
  parts: readonly Uint8Array[];
  /** The answer's bytes (`parts` joined, on first use). */
  readonly body: Uint8Array;
  nextOffset: string;
  upToDate: boolean;
  closed: boolean;
  /** Live answers: the `Stream-Cursor`. */
  cursor?: string | undefined;
  /** Absent for `offset=now`. */
  etag?: string | undefined;
  /** `offset=now` and 204s must not be cached; data answers may. */
  cacheable: boolean;
  /**
   * With `reuseBuffers`: gives the buffers the parts are views into back to the service, which reuses
   * them for other reads; nothing may use `parts` or `body` afterwards. A no-op otherwise. Idempotent.
   */
  release(): void;
}

/** How a stream's SSE reader gets its bytes: readers with equal profiles share each round's bytes. */
export interface StreamSseProfile {
  /** The client's `cursor` parameter as a number (`NaN` when none): control events never go below it. */
  readonly cursor: number;
}

/** An SSE read, validated and with its first round read: {@link StreamService.openSse}. */
export interface StreamSse {
  /** Data events are base64 (anything but `text/*` and JSON): answer `Stream-SSE-Data-Encoding: base64`. */
  readonly base64: boolean;
  /** The reader's profile (give it to the {@link LiveReader} that `serve` feeds). */
  readonly profile: StreamSseProfile;
  /**
   * Sends the first round to `reader`, then its catch-up and the stream's shared tail, until the stream
   * closes or goes, the broker shuts down, or `reader` ends. Call once.
   */
  serve(reader: LiveReader<StreamSseProfile>): void;
}

/** Data records read from a stream: see `#readData`. */
interface ReadData {
  groups: Uint8Array[];
  next: number;
  closes: boolean;
  /** The reused buffers `groups` are views into, if it was read into them. */
  lease?: ReadLease | undefined;
}

interface ProducerState {
  epoch: number;
  lastSeq: number;
  /** log-store producer id of this (id, epoch) on this stream. */
  pid: number;
}

interface StreamMeta {
  v: 1;
  path: string;
  contentType: string;
  ttlSeconds?: number | undefined;
  expiresAt?: string | undefined;
  createdAt: number;
  fork?: { path: string; topic: string; offset: number; subOffset: number } | undefined;
}

/** A stream's state as of partition offset `at` (its durable log end then), in the checkpoint log. */
interface CheckpointEntry {
  t: string;
  at: number;
  meta: StreamMeta;
  tail: number;
  closed: boolean;
  closedBy?: StreamProducer | undefined;
  seq?: string | undefined;
  p: Array<[string, number, number, number]>;
  np: number;
  sd: boolean;
  /** Last access (ms), for the TTL. */
  la: number;
}

interface StreamState {
  readonly topic: string;
  readonly meta: StreamMeta;
  readonly json: boolean;
  readonly expiresAtMs: number | undefined;
  /** Stream offset = partition offset + base (0 for a root; fork offset - 1 for a fork). */
  readonly base: number;
  source: StreamState | undefined;
  /** Durable: one past the last durable data record (stream offset). */
  tail: number;
  /** Durable: a close record (or closing append) is durable. */
  closed: boolean;
  /** Decided: a close has been issued (appends check this, before it is durable). */
  closing: boolean;
  closedBy: StreamProducer | undefined;
  lastStreamSeq: string | undefined;
  readonly producers: Map<string, ProducerState>;
  nextPid: number;
  softDeleted: boolean;
  /** Gone for clients (expired or hard-deleted); its data may still be read by forks. */
  removed: boolean;
  refCount: number;
  lastAccess: number;
  /** Appends issued and not yet settled (a checkpoint waits for none). */
  inflight: number;
  /** Settles when every append issued so far has settled. */
  settled: Promise<unknown>;
  /** An append failed: the decided state may be ahead of the log; reload before the next append. */
  broken: boolean;
  /** The next answer of a catch-up reader, being read (`#readAhead`). */
  readAhead: { from: number; read: Promise<ReadData | undefined>; timer: ReturnType<typeof setTimeout> } | undefined;
}

const KIND = "ds";
const CLOSE = "ds.close";
const SEQ = "ds.seq";
const PRODUCER = "ds.p";
const TOPIC_PREFIX = "s-";
/** Kafka sequences wrap at 2^31; one record per batch keeps consecutive Producer-Seq values consecutive there. */
const SEQUENCE_SPAN = 2 ** 31;
/** log-store keeps the last 5 batches of a producer; older duplicates are answered here. */
const RETAINED_BATCHES = 5;
/** Producers never expire on streams (persistent-store rule of PROTOCOL.md §5.2.1): ~100 years. */
const PRODUCER_RETENTION_MS = 100 * 365 * 24 * 3600 * 1000;
const SCAN_BYTES = 4 * 1024 * 1024;
/**
 * Catch-up and long-poll answers carry at most this many bytes of data by default (plus one message, when
 * a single one is larger): fewer round trips for a reader far behind (Kafka's fetch.max.bytes is 50 MiB).
 */
export const DEFAULT_MAX_READ_BYTES = 8 * 1024 * 1024;
/**
 * An SSE round carries at most this many bytes of data (base64 adds a third): well within the bytes an
 * SSE client may leave untaken before it is dropped (1 MiB), so a reader catching up is never dropped
 * for the size of a round.
 */
export const SSE_ROUND_BYTES = 256 * 1024;
/** The checkpoint log: topic `c-<generation>` of the streams' store (stream topics start with `s-`). */
const CHECKPOINT_PREFIX = "c-";
const checkpointTopicName = (generation: number) => `${CHECKPOINT_PREFIX}${String(generation).padStart(12, "0")}`;
/** The checkpoint log is rewritten (compacted) past this many records plus two per stream. */
const COMPACT_AFTER = 10_000;
const utf8 = new TextDecoder();
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
const OPEN_BRACKET = encoder.encode("[");
const COMMA = encoder.encode(",");
const CLOSE_BRACKET = encoder.encode("]");
/** Pieces of an answer at least this long are sent as they were read; shorter runs are joined up to it. */
const PART_BYTES = 64 * 1024;
/**
 * An answer carries at most this many messages (appends): the records of an answer are objects until it is
 * sent, and tens of thousands of small ones cost more in garbage collection than fewer round trips save
 * (1M one-message appends: ~800 vs ~1,000 ms of broker CPU for the catch-up with and without this bound).
 */
const READ_RECORDS = 10_000;
/**
 * Only answers of at most this many messages are read ahead: one of many small records, held until asked
 * for, cost more in garbage collection than the overlap saved (1M one-message appends: ~800 vs ~1,090 ms of
 * broker CPU, and longer, without and with read-ahead); one of large records is mostly bytes.
 */
const READ_AHEAD_MAX_RECORDS = 1_000;
/** Catch-up answers read ahead at once (`#readAhead`), in the whole service. */
const MAX_READ_AHEADS = 4;
/** A read-ahead not asked for within this long is dropped, in ms. */
const READ_AHEAD_MS = 2_000;
/**
 * Size of the reused read buffers: a file read of a catch-up answer is at most {@link SCAN_BYTES} plus
 * log-store's index interval (the indexed batch before the offset asked for; 4 KiB by default).
 */
const READ_BUFFER_BYTES = SCAN_BYTES + 64 * 1024;

/**
 * The Durable Streams protocol over a log store: create, append (idempotent producers, `Stream-Seq`,
 * close), HEAD, catch-up / long-poll / SSE reads, delete with soft delete under forks, TTL and expiry.
 * Transport-free: the HTTP routes (`routes/streams.ts`) decode headers into these calls and encode the
 * answers; refusals are {@link StreamError}s.
 */
export class StreamService {
  readonly #store: StreamLogStore;
  readonly #clock: { now(): number };
  readonly #longPollMs: number;
  readonly #sseMaxMs: number;
  readonly #maxReadBytes: number;
  readonly #shutdown: AbortSignal;
  readonly #logger: BrokerLogger;
  /** The stream each path names now (soft-deleted ones included: they block the path). */
  readonly #byPath = new Map<string, StreamState>();
  /** Every stream with data, by topic (expired ones kept for their forks included). */
  readonly #byTopic = new Map<string, StreamState>();
  /** Creates and deletes of one path run one at a time. */
  readonly #pathLocks = new Map<string, Promise<unknown>>();
  #generation = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  /** Streams whose state or last access changed since their last checkpoint. */
  readonly #dirty = new Set<StreamState>();
  /** The newest checkpoint entry written of each stream topic (what a compaction rewrites). */
  readonly #entries = new Map<string, CheckpointEntry>();
  readonly #checkpointMs: number;
  #checkpointTopic: string | undefined;
  #checkpointGeneration = 0;
  /** Records in the current checkpoint log (compacted into a new generation past a bound). */
  #checkpointRecords = 0;
  #checkpointer: ReturnType<typeof setInterval> | undefined;
  #checkpointing: Promise<void> = Promise.resolve();
  #closed = false;
  /** Read-aheads held now (at most {@link MAX_READ_AHEADS}). */
  #readAheads = 0;
  /** The shared tails of streams with SSE readers (one per stream). */
  readonly #sseTails: LiveTails<StreamSseProfile>;
  /** Buffers reused by catch-up and long-poll answers read with `reuseBuffers` (and read-aheads). */
  readonly #readBuffers = new ReadBufferPool({
    bufferBytes: READ_BUFFER_BYTES,
    minReadBytes: 256 * 1024,
    maxIdle: 8,
    idleMs: 10_000,
  });

  private constructor(options: StreamServiceOptions) {
    this.#store = options.store;
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#longPollMs = options.longPollTimeoutMs ?? 30_000;
    this.#sseMaxMs = options.sseMaxMs ?? 60_000;
    this.#maxReadBytes = options.maxReadBytes ?? DEFAULT_MAX_READ_BYTES;
    this.#shutdown = options.shutdown ?? new AbortController().signal;
    this.#logger = options.logger ?? console;
    const sweep = options.sweepIntervalMs ?? 60_000;
    this.#sweeper = setInterval(() => void this.sweepExpired(), sweep);
    this.#sweeper.unref?.();
    this.#checkpointMs = options.checkpointIntervalMs ?? 1_000;
    this.#sseTails = new LiveTails({
      shutdown: this.#shutdown,
      keepAliveMs: this.#longPollMs,
      onError: (error) => this.#logger.error("minikafka broker: a stream's SSE read failed", error),
    });
  }

  /**
   * Loads every stream of `options.store` (metadata, tail, closure, `Stream-Seq` and producer state, by a
   * scan of each stream's records) and serves them. Streams whose creation a crash interrupted (a topic
   * without its metadata record) are deleted.
   * @throws LogStoreError from reading the store (`CORRUPT_RECORD`, …)
   */
  static async open(options: StreamServiceOptions): Promise<StreamService> {
    const service = new StreamService(options);
    try {
      await service.#loadAll();
    } catch (error) {
      await service.close();
      throw error;
    }
    service.#checkpointer = setInterval(() => {
      service.#readBuffers.trim();
      void service.checkpoint();
    }, service.#checkpointMs);
    service.#checkpointer.unref?.();
    return service;
  }

  /**
   * Ends every SSE reader, stops the expiry sweep and the checkpoint timer, and writes a last (clean) checkpoint of every
   * changed stream, so the next open replays nothing and knows every last access. Call it before closing
   * the store, which is the caller's. A failed final checkpoint is logged: the next open replays more.
   */
  async close(): Promise<void> {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    if (this.#checkpointer !== undefined) clearInterval(this.#checkpointer);
    this.#sweeper = this.#checkpointer = undefined;
    this.#sseTails.stopAll();
    if (this.#closed) return;
    this.#closed = true;
    if (this.#checkpointTopic === undefined) return; // never loaded: nothing to checkpoint
    await this.#checkpointing;
    await this.#writeCheckpoint(true).catch((error: unknown) => this.#logger.error("minikafka broker: the final stream checkpoint failed", error));
  }

  /**
   * Writes the state of every stream that changed (data, closure, producers, last access) since its last
   * checkpoint and has no append in flight, as one batch of the checkpoint log. Runs on a timer
   * (`checkpointIntervalMs`); exposed for tests.
   */
  checkpoint(): Promise<void> {
    if (this.#closed || this.#checkpointTopic === undefined) return this.#checkpointing;
    this.#checkpointing = this.#checkpointing
      .then(() => this.#writeCheckpoint(false))
      .catch((error: unknown) => this.#logger.error("minikafka broker: a stream checkpoint failed", error));
    return this.#checkpointing;
  }

  async #writeCheckpoint(clean: boolean): Promise<void> {
    const now = this.#clock.now();
    const entries: CheckpointEntry[] = [];
    for (const s of [...this.#dirty]) {
      if (s.removed) {
        this.#dirty.delete(s);
        this.#entries.delete(s.topic);
        continue;
      }
      const p = this.#store.describeTopic(s.topic).partitions[0]!;
      // Only a quiet stream's state is exactly what its durable log says: otherwise, next round.
      if (s.inflight > 0 || s.broken || p.highWatermark !== p.logEndOffset) continue;
      this.#dirty.delete(s);
      entries.push(this.#entry(s, p.highWatermark));
    }
    if (entries.length === 0 && !clean) return;
    if (this.#checkpointRecords + entries.length > COMPACT_AFTER + 2 * this.#byTopic.size) {
      for (const e of entries) this.#entries.set(e.t, e);
      await this.#compactCheckpoints(now, clean);
      return;
    }
    const records: RecordInput[] = entries.map((e) => ({ value: JSON.stringify(e) }));
    records.push({ value: JSON.stringify({ w: now, clean }), headers: { [KIND]: "mark" } });
    await this.#store.append(this.#checkpointTopic!, 0, records);
    this.#checkpointRecords += records.length;
    for (const e of entries) this.#entries.set(e.t, e);
  }

  /** A new generation of the checkpoint log holding the newest entry of every stream, in one batch; then the old one goes. */
  async #compactCheckpoints(now: number, clean: boolean): Promise<void> {
    const old = this.#checkpointTopic!;
    const next = checkpointTopicName(++this.#checkpointGeneration);
    await this.#store.createTopic(next, { partitions: 1 });
    const live = [...this.#entries.values()].filter((e) => this.#byTopic.has(e.t));
    const records: RecordInput[] = live.map((e) => ({ value: JSON.stringify(e) }));
    records.push({ value: JSON.stringify({ w: now, clean }), headers: { [KIND]: "mark" } });
    await this.#store.append(next, 0, records);
    this.#checkpointTopic = next;
    this.#checkpointRecords = records.length;
    await this.#store.deleteTopic(old);
  }

  #entry(s: StreamState, at: number): CheckpointEntry {
    return {
      t: s.topic,
      at,
      meta: s.meta,
      tail: s.tail,
      closed: s.closed,
      closedBy: s.closedBy,
      seq: s.lastStreamSeq,
      p: [...s.producers].map(([id, p]) => [id, p.epoch, p.lastSeq, p.pid]),
      np: s.nextPid,
      sd: s.softDeleted,
      la: s.lastAccess,
    };
  }

  #touch(s: StreamState): void {
    s.lastAccess = this.#clock.now();
    this.#dirty.add(s);
  }

  /** Number of streams clients can see (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const s of this.#byPath.values()) if (!s.removed && !this.#expired(s)) n++;
    return n;
  }

  // ---------------------------------------------------------------------------------------------- create

  /**
   * `PUT`: creates the stream (201), or confirms an identical one (200).
   * @throws StreamError `STREAM_ALREADY_EXISTS` (other configuration, or soft-deleted), `NOT_FOUND` (fork
   *   source), `CONTENT_TYPE_MISMATCH` (fork), `INVALID_REQUEST` (fork offset beyond the source's tail,
   *   malformed, sub-offset past the next message; TTL with Expires-At; invalid JSON)
   */
  create(path: string, options: CreateStreamOptions): Promise<{ created: boolean; info: StreamInfo }> {
    return this.#withPathLock(path, () => this.#create(path, options));
  }

  async #create(path: string, options: CreateStreamOptions): Promise<{ created: boolean; info: StreamInfo }> {
    if (options.ttlSeconds !== undefined && options.expiresAt !== undefined) {
      throw new StreamError("INVALID_REQUEST", "stream-ttl and stream-expires-at cannot both be given");
    }
    let expiresAtMs: number | undefined;
    if (options.expiresAt !== undefined) {
      expiresAtMs = Date.parse(options.expiresAt);
      if (Number.isNaN(expiresAtMs))
        throw new StreamError("INVALID_REQUEST", `stream-expires-at ${JSON.stringify(options.expiresAt)} is not an rfc 3339 time`);
    }
    const existing = this.#byPath.get(path);
    if (existing !== undefined && !existing.removed && this.#expired(existing)) this.#expire(existing);
    const current = this.#byPath.get(path);
    if (current !== undefined && !current.removed) {
      if (current.softDeleted)
        throw new StreamError("STREAM_ALREADY_EXISTS", `stream ${path} was deleted but forks still use it: the path cannot be reused yet`);
      if (!this.#sameConfig(current, options)) throw new StreamError("STREAM_ALREADY_EXISTS", `stream ${path} exists with another configuration`);
      return { created: false, info: this.#info(current) };
    }

    let source: StreamState | undefined;
    let forkOffset = 0;
    let prefix: Uint8Array | undefined;
    let contentType = isValidContentType(options.contentType) ? options.contentType.trim() : undefined;
    let ttlSeconds = options.ttlSeconds;
    let expiresAt = options.expiresAt;
    if (options.forkedFrom !== undefined) {
      source = this.#byPath.get(options.forkedFrom);
      if (source === undefined || source.removed || this.#expired(source))
        throw new StreamError("NOT_FOUND", `fork source ${options.forkedFrom} does not exist`);
      if (source.softDeleted) throw new StreamError("STREAM_ALREADY_EXISTS", `fork source ${options.forkedFrom} was deleted`);
      if (contentType !== undefined && mediaType(contentType) !== mediaType(source.meta.contentType)) {
        throw new StreamError("CONTENT_TYPE_MISMATCH", `content type ${contentType} differs from the source's ${source.meta.contentType}`);
      }
      contentType ??= source.meta.contentType;
      if (options.forkOffset === undefined) forkOffset = source.tail;
      else {
        const parsed = parseOffset(options.forkOffset);
        if (typeof parsed !== "number")
          throw new StreamError("INVALID_REQUEST", `stream-fork-offset must be an offset token, got ${options.forkOffset}`);
        forkOffset = parsed;
      }
      if (forkOffset > source.tail)
        throw new StreamError("INVALID_REQUEST", `fork offset ${offsetToken(forkOffset)} is beyond the source's tail ${offsetToken(source.tail)}`);
      if ((options.forkSubOffset ?? 0) > 0) prefix = await this.#subOffsetPrefix(source, forkOffset, options.forkSubOffset!);
      if (ttlSeconds === undefined && expiresAt === undefined) {
        ttlSeconds = source.meta.ttlSeconds;
        expiresAt = source.meta.expiresAt;
        expiresAtMs = source.expiresAtMs;
      }
    }
    contentType ??= "application/octet-stream";
    const json = isJsonType(contentType);
    let initial: string | Uint8Array | undefined;
    if (options.body.length > 0) {
      initial = json ? splitJsonMessages(utf8.decode(options.body), true).text : options.body;
      if (initial.length === 0) initial = undefined;
    }

    const now = this.#clock.now();
    const meta: StreamMeta = {
      v: 1,
      path,
      contentType,
      ttlSeconds,
      expiresAt,
      createdAt: now,
      fork: source && { path: options.forkedFrom!, topic: source.topic, offset: forkOffset, subOffset: options.forkSubOffset ?? 0 },
    };
    const topic = this.#newTopicName(path);
    await this.#store.createTopic(topic, { partitions: 1, config: { producerIdExpirationMs: PRODUCER_RETENTION_MS } });
    const records: RecordInput[] = [{ value: JSON.stringify(meta), headers: { [KIND]: "meta" } }];
    const data = [prefix, initial].filter((d): d is string | Uint8Array => d !== undefined);
    data.forEach((value, i) => records.push({ value, headers: options.closed && i === data.length - 1 ? { [CLOSE]: "1" } : undefined }));
    if (options.closed && data.length === 0) records.push({ value: null, headers: { [KIND]: "close" } });
    try {
      // One batch: the stream exists with its initial content (and closed) or, after a crash, not at all.
      await this.#store.append(topic, 0, records);
    } catch (error) {
      await this.#store.deleteTopic(topic).catch(() => undefined);
      throw error;
    }
    const state = this.#newState(topic, meta, expiresAtMs);
    state.source = source;
    state.tail = forkOffset > 0 ? forkOffset + data.length : 1 + data.length;
    state.closed = state.closing = options.closed;
    if (source !== undefined) source.refCount++;
    this.#byTopic.set(topic, state);
    this.#byPath.set(path, state);
    this.#dirty.add(state);
    return { created: true, info: this.#info(state) };
  }

  #sameConfig(s: StreamState, o: CreateStreamOptions): boolean {
    const m = s.meta;
    if (o.forkedFrom !== undefined || m.fork !== undefined) {
      if (o.forkedFrom !== m.fork?.path) return false;
      if (o.forkOffset !== undefined && o.forkOffset !== offsetToken(m.fork!.offset)) return false;
      if ((o.forkSubOffset ?? 0) !== m.fork!.subOffset) return false;
      if (isValidContentType(o.contentType) && mediaType(o.contentType) !== mediaType(m.contentType)) return false;
      if ((o.ttlSeconds !== undefined || o.expiresAt !== undefined) && (o.ttlSeconds !== m.ttlSeconds || o.expiresAt !== m.expiresAt)) return false;
    } else {
      const requested = isValidContentType(o.contentType) ? o.contentType : "application/octet-stream";
      if (mediaType(requested) !== mediaType(m.contentType)) return false;
      if (o.ttlSeconds !== m.ttlSeconds || o.expiresAt !== m.expiresAt) return false;
    }
    return o.closed === s.closing;
  }

  /** The first bytes (or JSON messages) of the source's data record at `offset` a sub-offset fork inherits. */
  async #subOffsetPrefix(source: StreamState, offset: number, sub: number): Promise<Uint8Array> {
    const { groups } = await this.#readData(source, offset, 1, offset + 1);
    const group = groups[0];
    if (group === undefined) throw new StreamError("INVALID_REQUEST", `stream-fork-sub-offset ${sub}: there is no data at the fork offset`);
    if (source.json) {
      const messages = jsonGroupMessages(utf8.decode(group));
      if (sub > messages.length)
        throw new StreamError("INVALID_REQUEST", `stream-fork-sub-offset ${sub} is past the ${messages.length} messages of the next append`);
      return encoder.encode(messages.slice(0, sub).join(","));
    }
    if (sub > group.length)
      throw new StreamError("INVALID_REQUEST", `stream-fork-sub-offset ${sub} is past the ${group.length} bytes of the next append`);
    return group.slice(0, sub);
  }

  // ---------------------------------------------------------------------------------------------- append

  /**
   * `POST`: appends (and/or closes). Checks, in the protocol's order: closed, content type, producer,
   * `Stream-Seq`; decided synchronously, so concurrent appends are ordered as called.
   * @throws StreamError `NOT_FOUND`, `STREAM_GONE`, `STREAM_CLOSED` (with the final offset),
   *   `CONTENT_TYPE_MISMATCH`, `INVALID_REQUEST` (empty body, missing content type, invalid JSON, empty
   *   array, new epoch not at seq 0), `INVALID_PRODUCER_EPOCH` (stale epoch, with the current one),
   *   `OUT_OF_ORDER_SEQUENCE_NUMBER` (a gap, with the expected seq), `STREAM_SEQUENCE_CONFLICT`
   */
  async append(path: string, options: AppendStreamOptions): Promise<AppendStreamResult> {
    let s = this.#live(path);
    if (s.broken) {
      await this.#reload(s);
      s = this.#live(path);
    }
    const { body, close, producer } = options;
    if (body.length === 0 && !close) throw new StreamError("INVALID_REQUEST", "an append needs a body (or stream-closed: true)");
    if (s.closing) {
      if (producer !== undefined && s.closedBy !== undefined && sameProducerStep(producer, s.closedBy)) {
        await s.settled;
        return {
          nextOffset: offsetToken(s.tail),
          closed: true,
          duplicate: true,
          appended: false,
          producer: { epoch: producer.epoch, seq: producer.seq },
        };
      }
      if (body.length === 0 && producer === undefined) {
        await s.settled;
        return { nextOffset: offsetToken(s.tail), closed: true, duplicate: false, appended: false };
      }
      await s.settled;
      throw new StreamError("STREAM_CLOSED", `stream ${path} is closed`, { closed: true, nextOffset: offsetToken(s.tail) });
    }
    let value: string | Uint8Array | null = null;
    if (body.length > 0) {
      if (!isValidContentType(options.contentType)) throw new StreamError("INVALID_REQUEST", "an append with a body needs a content-type");
      if (mediaType(options.contentType) !== mediaType(s.meta.contentType)) {
        throw new StreamError("CONTENT_TYPE_MISMATCH", `content type ${options.contentType} differs from the stream's ${s.meta.contentType}`);
      }
      value = s.json ? splitJsonMessages(utf8.decode(body), false).text : body;
    }
    // Producer checks (PROTOCOL.md §5.2.1), before Stream-Seq: a retry is a duplicate whatever its Stream-Seq.
    let pid: number | undefined;
    if (producer !== undefined) {
      const known = s.producers.get(producer.id);
      if (known !== undefined && producer.epoch < known.epoch) {
        throw new StreamError("INVALID_PRODUCER_EPOCH", `producer ${producer.id} epoch ${producer.epoch} is fenced by epoch ${known.epoch}`, {
          producerEpoch: known.epoch,
        });
      }
      if (known !== undefined && producer.epoch === known.epoch) {
        if (producer.seq <= known.lastSeq) return this.#duplicate(s, producer, known, value, close);
        if (producer.seq !== known.lastSeq + 1) {
          throw new StreamError("OUT_OF_ORDER_SEQUENCE_NUMBER", `producer ${producer.id} sent seq ${producer.seq}, expected ${known.lastSeq + 1}`, {
            expectedSeq: known.lastSeq + 1,
            receivedSeq: producer.seq,
          });
        }
        pid = known.pid;
      } else if (producer.seq !== 0) {
        if (known !== undefined)
          throw new StreamError(
            "INVALID_REQUEST",
            `a new epoch (${producer.epoch}) of producer ${producer.id} must start at seq 0, got ${producer.seq}`,
          );
        throw new StreamError("OUT_OF_ORDER_SEQUENCE_NUMBER", `producer ${producer.id} is new here: its first seq must be 0, got ${producer.seq}`, {
          expectedSeq: 0,
          receivedSeq: producer.seq,
        });
      }
    }
    if (options.streamSeq !== undefined && s.lastStreamSeq !== undefined && compareBytes(options.streamSeq, s.lastStreamSeq) <= 0) {
      throw new StreamError(
        "STREAM_SEQUENCE_CONFLICT",
        `stream-seq ${JSON.stringify(options.streamSeq)} is not above the last one, ${JSON.stringify(s.lastStreamSeq)}`,
      );
    }

    // Decided: record the new state now (before any await), so the next append is checked against it.
    const headers: Record<string, string> = {};
    if (producer !== undefined) {
      if (pid === undefined) {
        pid = s.nextPid++;
      }
      s.producers.set(producer.id, { epoch: producer.epoch, lastSeq: producer.seq, pid });
      headers[PRODUCER] = JSON.stringify([producer.id, producer.epoch, producer.seq, pid]);
    }
    if (options.streamSeq !== undefined) s.lastStreamSeq = options.streamSeq;
    if (s.lastStreamSeq !== undefined && value !== null) headers[SEQ] = s.lastStreamSeq;
    if (close) {
      s.closing = true;
      s.closedBy = producer;
      if (value === null) headers[KIND] = "close";
      else headers[CLOSE] = "1";
    }
    this.#touch(s);
    const record: RecordInput = { value, headers };
    s.inflight++;
    const appended = this.#store.append(
      s.topic,
      0,
      [record],
      pid === undefined ? undefined : { producer: { producerId: pid, producerEpoch: 0, sequence: producer!.seq % SEQUENCE_SPAN } },
    );
    s.settled = appended.catch(() => undefined);
    let result;
    try {
      result = await appended;
      if (value !== null) s.tail = Math.max(s.tail, result.baseOffset + s.base + 1);
      if (close) s.closed = true;
    } catch (error) {
      s.broken = true;
      throw error;
    } finally {
      s.inflight--;
    }
    return {
      nextOffset: offsetToken(s.tail),
      closed: s.closing,
      duplicate: false,
      appended: value !== null,
      producer: producer && { epoch: producer.epoch, seq: producer.seq },
    };
  }

  /** A producer's retry of `seq` ≤ its last: never appended twice, answered once the original is durable. */
  async #duplicate(
    s: StreamState,
    p: StreamProducer,
    known: ProducerState,
    value: string | Uint8Array | null,
    close: boolean,
  ): Promise<AppendStreamResult> {
    if (known.lastSeq - p.seq < RETAINED_BATCHES) {
      // log-store recognises it (same producer fields, one record) and waits for the original, or fails with it.
      const result = await this.#store.append(s.topic, 0, [{ value, headers: close && value === null ? { [KIND]: "close" } : {} }], {
        producer: { producerId: known.pid, producerEpoch: 0, sequence: p.seq % SEQUENCE_SPAN },
      });
      if (result.duplicate !== true) this.#logger.error(`minikafka broker: stream ${s.meta.path}: a producer retry was not recognised by the log`);
    } else {
      await s.settled;
    }
    return { nextOffset: offsetToken(s.tail), closed: s.closing, duplicate: true, appended: false, producer: { epoch: p.epoch, seq: known.lastSeq } };
  }

  // ------------------------------------------------------------------------------------- head / delete

  /**
   * `HEAD`: the stream's metadata (does not reset its TTL).
   * @throws StreamError `NOT_FOUND`, `STREAM_GONE`
   */
  head(path: string): StreamInfo {
    return this.#info(this.#live(path));
  }

  /**
   * `DELETE`: removes the stream and its data, or — while forks read it — soft-deletes it (410 from then
   * on; the data goes with its last fork).
   * @throws StreamError `NOT_FOUND`, `STREAM_GONE`
   */
  delete(path: string): Promise<void> {
    return this.#withPathLock(path, async () => {
      const s = this.#live(path);
      if (s.refCount > 0) {
        s.softDeleted = true;
        s.inflight++;
        this.#dirty.add(s);
        try {
          await this.#store.append(s.topic, 0, [{ value: null, headers: { [KIND]: "delete" } }]);
        } finally {
          s.inflight--;
        }
        return;
      }
      await this.#remove(s);
    });
  }

  /** Deletes a stream's data (now or, while forks read it, once the last is gone), cascading up fork chains. */
  async #remove(s: StreamState): Promise<void> {
    s.removed = true;
    this.#dropReadAhead(s, true);
    if (this.#byPath.get(s.meta.path) === s) this.#byPath.delete(s.meta.path);
    if (s.refCount > 0) return;
    if (!this.#byTopic.delete(s.topic)) return;
    try {
      await this.#store.deleteTopic(s.topic);
    } catch (error) {
      this.#logger.error(`minikafka broker: cannot delete the data of stream ${s.meta.path}`, error);
    }
    const source = s.source;
    if (source !== undefined) {
      source.refCount--;
      if (source.refCount === 0 && (source.softDeleted || source.removed)) await this.#remove(source);
    }
  }

  /** Deletes the streams whose TTL or expiry time has passed. Returns how many. */
  async sweepExpired(): Promise<number> {
    let n = 0;
    for (const s of [...this.#byPath.values()]) {
      if (!s.removed && this.#expired(s)) {
        n++;
        await this.#withPathLock(s.meta.path, async () => {
          if (!s.removed && this.#expired(s)) await this.#remove(s);
        }).catch((error: unknown) => this.#logger.error(`minikafka broker: cannot delete expired stream ${s.meta.path}`, error));
      }
    }
    return n;
  }

  // ----------------------------------------------------------------------------------------------- read

  /**
   * `GET` catch-up or long-poll read from `offset`. A long poll at the tail waits up to the long-poll
   * timeout for data (no disk polling: log-store wakes waiters), and answers at once at the end of a closed
   * stream.
   * @throws StreamError `NOT_FOUND`, `STREAM_GONE`, `INVALID_REQUEST` (malformed offset; long poll without one)
   */
  async read(path: string, options: StreamReadOptions): Promise<StreamReadResult> {
    const s = this.#live(path);
    this.#touch(s);
    const live = options.live === "long-poll";
    if (live && options.offset === undefined) throw new StreamError("INVALID_REQUEST", "a long-poll read needs an offset");
    const parsed = parseOffset(options.offset ?? "-1");
    const contentType = s.meta.contentType;
    if (parsed === "now" && !live) {
      return readResult({
        status: 200,
        contentType,
        parts: s.json ? [encoder.encode("[]")] : [],
        nextOffset: offsetToken(s.tail),
        upToDate: true,
        closed: s.closed,
        cacheable: false,
      });
    }
    const from = parsed === "now" ? s.tail : parsed === "start" ? 1 : parsed;
    const deadline = this.#clock.now() + this.#longPollMs;
    for (;;) {
      const lease = options.reuseBuffers === true ? this.#readBuffers.lease() : undefined;
      const r = (await this.#takeReadAhead(s, from)) ?? (await this.#readData(s, from, this.#maxReadBytes, Infinity, lease));
      const upToDate = r.next >= s.tail;
      const closed = s.closed && upToDate;
      if (r.groups.length > 0 || !live) {
        // A reader behind the tail reads on: its next answer is read while this one is sent.
        if (!upToDate && r.groups.length <= READ_AHEAD_MAX_RECORDS) this.#readAhead(s, r.next);
        // A read-ahead's buffers are its own lease's: released with this answer when the caller reuses
        // buffers; a caller that keeps its parts keeps them (they are simply not reused).
        const release = options.reuseBuffers === true && r.lease !== undefined ? () => r.lease!.release() : noRelease;
        return readResult({
          status: 200,
          contentType,
          parts: this.#format(s, r.groups),
          nextOffset: offsetToken(r.next),
          upToDate,
          closed,
          cursor: live ? responseCursor(options.cursor, this.#clock.now()) : undefined,
          etag: `"${s.topic}:${options.offset ?? "-1"}:${offsetToken(r.next)}${closed ? ":c" : ""}"`,
          cacheable: true,
          release,
        });
      }
      r.lease?.release(); // nothing was read into its buffers that anyone keeps
      const remaining = deadline - this.#clock.now();
      if (closed || remaining <= 0 || !(await this.#wait(s, r.next, remaining, options.signal))) {
        return readResult({
          status: 204,
          contentType,
          parts: [],
          nextOffset: offsetToken(r.next),
          upToDate: true,
          closed: s.closed && r.next >= s.tail,
          cursor: responseCursor(options.cursor, this.#clock.now()),
          cacheable: false,
        });
      }
      this.#live(path);
      this.#touch(s);
    }
  }

  /**
   * The stream's content type and whether SSE must base64-encode its data (anything but `text/*` and JSON).
   * @throws StreamError `NOT_FOUND`, `STREAM_GONE`
   */
  sseEncoding(path: string): { contentType: string; base64: boolean } {
    const s = this.#live(path);
    return { contentType: s.meta.contentType, base64: !isTextType(s.meta.contentType) };
  }

  /**
   * `GET …&live=sse`: validates the read and reads its first round (so a bad offset is still an error
   * answer), and returns how to serve it. Events are framed text: a `data` event when there is data, then
   * a `control` event with `streamNextOffset`, `streamCursor`, `upToDate` (or `streamClosed`); after the
   * catch-up, readers at the tail share one {@link LiveTails} tail per stream (one read and one encoding per
   * round for all of them). The reader ends after the closing control event of a closed stream, on
   * shutdown, when the stream goes, or when it ends itself (client gone, too slow, its time is up).
   * @throws StreamError `NOT_FOUND`, `STREAM_GONE`, `INVALID_REQUEST` (no or malformed offset)
   */
  async openSse(path: string, options: { offset?: string | undefined; cursor?: string | undefined }): Promise<StreamSse> {
    const s = this.#live(path);
    if (options.offset === undefined) throw new StreamError("INVALID_REQUEST", "an sse read needs an offset");
    const parsed = parseOffset(options.offset);
    const from = parsed === "now" ? s.tail : parsed === "start" ? 1 : parsed;
    const source = this.#sseSource(s);
    const first = await source.read(from);
    if (first === undefined) throw new StreamError("NOT_FOUND", `stream ${path} does not exist`);
    const profile: StreamSseProfile = { cursor: parseCursor(options.cursor) };
    return {
      base64: !isTextType(s.meta.contentType),
      profile,
      serve: (reader) => {
        if (!reader.send(first.bytes(reader.profile))) return;
        if (first.final) reader.end();
        else void this.#sseTails.serve(s.topic, source, reader, first.next);
      },
    };
  }

  /** How long an SSE answer lasts, in ms (`sseMaxMs`). */
  get sseMaxMs(): number {
    return this.#sseMaxMs;
  }

  /** SSE readers following a stream's shared tail now (for tests and metrics). */
  get sseReaders(): number {
    return this.#sseTails.readers;
  }

  /**
   * `GET …&live=sse` as a generator of framed text (each round's events, as {@link StreamService.openSse}
   * serves them), until the stream closes, `options.signal` aborts or the answer's time is up. For
   * callers without a transport; the HTTP route serves {@link StreamService.openSse} into a bounded
   * channel instead.
   * @throws StreamError `NOT_FOUND`, `STREAM_GONE`, `INVALID_REQUEST` before the first event
   */
  async *sse(
    path: string,
    options: { offset?: string | undefined; cursor?: string | undefined; signal?: AbortSignal | undefined },
  ): AsyncGenerator<string> {
    const sse = await this.openSse(path, options);
    const queue: Uint8Array[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const reader: LiveReader<StreamSseProfile> = {
      profile: sse.profile,
      get ended() {
        return ended;
      },
      send(bytes) {
        if (ended) return false;
        queue.push(bytes);
        wake?.();
        return true;
      },
      end() {
        ended = true;
        wake?.();
      },
      onEnded: undefined,
    };
    const stop = () => {
      if (ended) return;
      ended = true;
      reader.onEnded?.();
      wake?.();
    };
    const timer = setTimeout(stop, this.#sseMaxMs);
    timer.unref?.();
    options.signal?.addEventListener("abort", stop, { once: true });
    if (options.signal?.aborted) stop();
    try {
      sse.serve(reader);
      for (;;) {
        while (queue.length > 0) yield utf8.decode(queue.shift());
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", stop);
      stop();
    }
  }

  /** The SSE source of stream `s`: reads of its data, each round encoded once per reader cursor. */
  #sseSource(s: StreamState): LiveTailSource<StreamSseProfile> {
    const base64 = !isTextType(s.meta.contentType);
    return {
      read: async (from, cap) => {
        if (s.removed || s.softDeleted) return undefined;
        this.#touch(s);
        const r = await this.#readData(s, from, Math.min(this.#maxReadBytes, SSE_ROUND_BYTES), cap);
        if (s.removed || s.softDeleted) return undefined;
        const next = r.next;
        const upToDate = next >= s.tail;
        const closed = (s.closed || r.closes) && upToDate;
        const now = this.#clock.now();
        let data: Buffer | undefined;
        if (r.groups.length > 0) {
          const payload = base64 ? Buffer.concat(r.groups).toString("base64") : utf8.decode(joined(this.#format(s, r.groups)));
          data = Buffer.from(sseEvent("data", payload));
        }
        const frames = new Map<number, Uint8Array>();
        const frame = (cursor: string | undefined): Uint8Array => {
          const control: Record<string, string | boolean> = { streamNextOffset: offsetToken(next) };
          if (closed) control.streamClosed = true;
          else {
            control.streamCursor = responseCursor(cursor, now);
            if (upToDate) control.upToDate = true;
          }
          const event = Buffer.from(sseEvent("control", JSON.stringify(control)));
          return data === undefined ? event : Buffer.concat([data, event]);
        };
        const current = cursorInterval(now);
        return {
          next,
          empty: r.groups.length === 0,
          final: closed,
          bytes: (profile) => {
            // Readers whose cursor is behind the current interval all get the interval: one frame for all.
            const key = profile.cursor >= current ? profile.cursor : -1;
            let bytes = frames.get(key);
            if (bytes === undefined) frames.set(key, (bytes = frame(key < 0 ? undefined : String(key))));
            return bytes;
          },
        };
      },
      wait: async (from, timeoutMs, signal) => {
        if (signal.aborted) return false;
        try {
          return await this.#store.waitForData(s.topic, 0, Math.max(from - s.base, 1), { timeoutMs, signal });
        } catch {
          // Aborted, or the stream was deleted meanwhile: the tail reads again and sees.
          return !signal.aborted;
        }
      },
    };
  }

  // ------------------------------------------------------------------------------------------ internals

  /** The stream at `path` for a client operation. @throws StreamError `NOT_FOUND`, `STREAM_GONE` */
  #live(path: string): StreamState {
    const s = this.#byPath.get(path);
    if (s === undefined || s.removed) throw new StreamError("NOT_FOUND", `stream ${path} does not exist`);
    if (s.softDeleted) throw new StreamError("STREAM_GONE", `stream ${path} was deleted`);
    if (this.#expired(s)) {
      this.#expire(s);
      throw new StreamError("NOT_FOUND", `stream ${path} does not exist (expired)`);
    }
    return s;
  }

  #expired(s: StreamState): boolean {
    const now = this.#clock.now();
    if (s.expiresAtMs !== undefined && now >= s.expiresAtMs) return true;
    return s.meta.ttlSeconds !== undefined && now >= s.lastAccess + s.meta.ttlSeconds * 1000;
  }

  /** Hides an expired stream at once; its data is deleted in the background (or with its last fork). */
  #expire(s: StreamState): void {
    s.removed = true;
    if (this.#byPath.get(s.meta.path) === s) this.#byPath.delete(s.meta.path);
    void this.#remove(s);
  }

  #info(s: StreamState): StreamInfo {
    const tail = offsetToken(s.tail);
    return {
      contentType: s.meta.contentType,
      nextOffset: tail,
      closed: s.closed,
      ttlSeconds: s.meta.ttlSeconds,
      expiresAt: s.meta.expiresAt,
      etag: `"${s.topic}:-1:${tail}${s.closed ? ":c" : ""}"`,
    };
  }

  /** An answer's parts: the data groups (JSON mode: as one array), small pieces joined (see {@link joinParts}). */
  #format(s: StreamState, groups: readonly Uint8Array[]): Uint8Array[] {
    if (!s.json) return joinParts(groups);
    const pieces: Uint8Array[] = [OPEN_BRACKET];
    groups.forEach((g, i) => {
      if (i > 0) pieces.push(COMMA);
      pieces.push(g);
    });
    pieces.push(CLOSE_BRACKET);
    return joinParts(pieces);
  }

  /**
   * Starts reading the answer after one just given to a catch-up reader (from stream offset `from`), so
   * that it is read while that one is sent and the reader's next request finds it ready. One per stream,
   * at most {@link MAX_READ_AHEADS} in the service (each at most `maxReadBytes`), dropped if not asked for
   * within {@link READ_AHEAD_MS}. Data below the tail never changes, so it is served as read; whether it
   * is up to date (and closed) is decided when it is asked for.
   */
  #readAhead(s: StreamState, from: number): void {
    if (s.readAhead !== undefined || this.#readAheads >= MAX_READ_AHEADS || this.#closed) return;
    this.#readAheads++;
    const lease = this.#readBuffers.lease();
    const read = this.#readData(s, from, this.#maxReadBytes, Infinity, lease).catch(() => {
      lease.release();
      return undefined; // the reader's own read meets the error
    });
    const timer = setTimeout(() => this.#dropReadAhead(s, true), READ_AHEAD_MS);
    timer.unref?.();
    s.readAhead = { from, read, timer };
  }

  /** The read-ahead of `s` at `from`, if there is one (and it did not fail); it is used up. */
  async #takeReadAhead(s: StreamState, from: number): Promise<ReadData | undefined> {
    const ahead = s.readAhead;
    if (ahead === undefined) return undefined;
    const taken = ahead.from === from;
    this.#dropReadAhead(s, !taken);
    return taken ? await ahead.read : undefined;
  }

  /** Forgets the read-ahead of `s`; with `discard`, its buffers go back to the pool once its read is done. */
  #dropReadAhead(s: StreamState, discard: boolean): void {
    const ahead = s.readAhead;
    if (ahead === undefined) return;
    clearTimeout(ahead.timer);
    s.readAhead = undefined;
    this.#readAheads--;
    if (discard) void ahead.read.then((r) => r?.lease?.release());
  }

  /**
   * Data records of `s` from stream offset `from` (below `cap`), at most about `maxBytes`: a fork reads its
   * source below the fork offset, then its own log. `next` is one past the last data record returned (or
   * `from`, clamped to the tail, when none).
   */
  async #readData(s: StreamState, from: number, maxBytes: number, cap = Infinity, lease?: ReadLease): Promise<ReadData> {
    const groups: Uint8Array[] = [];
    let next = from;
    let closes = false;
    let budget = maxBytes;
    const fork = s.meta.fork;
    if (fork !== undefined && next < fork.offset) {
      if (s.source === undefined) throw new BrokerError("INTERNAL_ERROR", `the fork source of stream ${s.meta.path} is missing`);
      const inherited = await this.#readData(s.source, next, budget, Math.min(cap, fork.offset), lease);
      for (const g of inherited.groups) {
        groups.push(g);
        budget -= g.length;
      }
      next = inherited.next;
      if (next < fork.offset) return { groups, next, closes, lease };
    }
    let local = Math.max(next - s.base, 1);
    while (budget > 0 && groups.length < READ_RECORDS && next < cap) {
      const result = await this.#store.read(s.topic, 0, local, {
        maxBytes: Math.min(budget, SCAN_BYTES),
        maxRecords: Math.min(10_000, READ_RECORDS - groups.length),
        readBuffer: lease?.take,
      });
      if (result.records.length === 0) break;
      for (const r of result.records) {
        const offset = r.offset + s.base;
        if (offset >= cap) return { groups, next, closes, lease };
        if (r.value === null || r.headers[KIND] !== undefined) {
          if (r.headers[KIND] !== undefined && utf8.decode(r.headers[KIND]) === "close") closes = true;
          continue;
        }
        if (groups.length > 0 && r.value.length > budget) return { groups, next, closes, lease };
        if (r.headers[CLOSE] !== undefined) closes = true;
        groups.push(r.value);
        budget -= r.value.length;
        next = offset + 1;
      }
      local = result.nextOffset;
    }
    if (groups.length === 0 && next > s.tail && fork === undefined) next = s.tail;
    return { groups, next, closes, lease };
  }

  /** Waits until the stream's own log has a record past stream offset `from`, or the time passes; `true` if woken. */
  async #wait(s: StreamState, from: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<boolean> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener("abort", abort, { once: true });
    this.#shutdown.addEventListener("abort", abort, { once: true });
    try {
      if (signal?.aborted || this.#shutdown.aborted) return false;
      return await this.#store.waitForData(s.topic, 0, Math.max(from - s.base, 1), { timeoutMs, signal: controller.signal });
    } catch {
      // Aborted, or the stream was deleted meanwhile: the caller looks again.
      return !(signal?.aborted || this.#shutdown.aborted);
    } finally {
      signal?.removeEventListener("abort", abort);
      this.#shutdown.removeEventListener("abort", abort);
    }
  }

  #withPathLock<T>(path: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#pathLocks.get(path) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.catch(() => undefined);
    this.#pathLocks.set(path, settled);
    void settled.then(() => {
      if (this.#pathLocks.get(path) === settled) this.#pathLocks.delete(path);
    });
    return run;
  }

  #newTopicName(path: string): string {
    const hash = createHash("sha256").update(path).digest("hex").slice(0, 32);
    for (;;) {
      const name = `${TOPIC_PREFIX}${hash}-${this.#clock.now().toString(36)}${(this.#generation++).toString(36)}`;
      if (!this.#byTopic.has(name)) return name;
    }
  }

  #newState(topic: string, meta: StreamMeta, expiresAtMs: number | undefined): StreamState {
    const base = meta.fork === undefined ? 0 : meta.fork.offset - 1;
    return {
      topic,
      meta,
      json: isJsonType(meta.contentType),
      expiresAtMs,
      base,
      source: undefined,
      tail: base + 1,
      closed: false,
      closing: false,
      closedBy: undefined,
      lastStreamSeq: undefined,
      producers: new Map(),
      nextPid: 0,
      softDeleted: false,
      removed: false,
      refCount: 0,
      lastAccess: this.#clock.now(),
      inflight: 0,
      settled: Promise.resolve(),
      broken: false,
      readAhead: undefined,
    };
  }

  async #loadAll(): Promise<void> {
    const { entries, lastWrite, clean } = await this.#loadCheckpoints();
    // After a crash, accesses of the last checkpoint interval may be unknown: count TTLs from the latest
    // moment they could have happened (never early; at most one interval late).
    const accessFloor = clean || lastWrite === undefined ? -Infinity : Math.min(this.#clock.now(), lastWrite + this.#checkpointMs);
    for (const topic of this.#store.listTopics()) {
      if (!topic.startsWith(TOPIC_PREFIX)) continue;
      const entry = entries.get(topic);
      const end = this.#store.describeTopic(topic).partitions[0]!.highWatermark;
      let state: StreamState | undefined;
      if (entry !== undefined && end >= entry.at) {
        // The checkpoint's prefix of the log is intact: replay only what came after it.
        state = this.#restore(entry, accessFloor);
        if (end > entry.at) {
          await this.#load(topic, state, entry.at);
          this.#dirty.add(state);
        }
        this.#entries.set(topic, entry);
      } else {
        state = await this.#load(topic);
        if (state !== undefined) this.#dirty.add(state);
      }
      if (state === undefined) {
        await this.#store.deleteTopic(topic); // a create that a crash interrupted: never acknowledged
        continue;
      }
      this.#byTopic.set(topic, state);
      const other = this.#byPath.get(state.meta.path);
      if (other === undefined || other.meta.createdAt <= state.meta.createdAt) this.#byPath.set(state.meta.path, state);
    }
    for (const s of this.#byTopic.values()) {
      if (s.meta.fork === undefined) continue;
      s.source = this.#byTopic.get(s.meta.fork.topic);
      if (s.source !== undefined) s.source.refCount++;
      else this.#logger.error(`minikafka broker: the fork source of stream ${s.meta.path} is missing`);
    }
    for (const s of [...this.#byTopic.values()]) {
      const current = this.#byPath.get(s.meta.path) === s;
      if (!current) s.removed = true;
      if ((s.softDeleted || s.removed) && s.refCount === 0) await this.#remove(s);
    }
  }

  /**
   * Reads the checkpoint log (the newest generation holding a batch; empty or older ones, left by a crash
   * during a compaction, are deleted): the newest entry of each stream topic, when the last batch was
   * written, and whether it was the clean one of a close. Creates the log when there is none.
   */
  async #loadCheckpoints(): Promise<{ entries: Map<string, CheckpointEntry>; lastWrite: number | undefined; clean: boolean }> {
    const entries = new Map<string, CheckpointEntry>();
    let lastWrite: number | undefined;
    let clean = false;
    const generations = this.#store
      .listTopics()
      .filter((t) => t.startsWith(CHECKPOINT_PREFIX))
      .sort()
      .reverse();
    let chosen: string | undefined;
    for (const topic of generations) {
      if (chosen === undefined && this.#store.describeTopic(topic).partitions[0]!.highWatermark > 0) chosen = topic;
      else await this.#store.deleteTopic(topic);
    }
    if (chosen === undefined) {
      this.#checkpointGeneration = generations.length === 0 ? 0 : Number(generations[0]!.slice(CHECKPOINT_PREFIX.length)) + 1;
      chosen = checkpointTopicName(this.#checkpointGeneration);
      await this.#store.createTopic(chosen, { partitions: 1 });
    } else this.#checkpointGeneration = Number(chosen.slice(CHECKPOINT_PREFIX.length));
    let offset = 0;
    for (;;) {
      const result = await this.#store.read(chosen, 0, offset, { maxBytes: SCAN_BYTES, maxRecords: 100_000 });
      for (const r of result.records) {
        this.#checkpointRecords++;
        if (r.value === null) continue;
        const value = JSON.parse(utf8.decode(r.value)) as CheckpointEntry | { w: number; clean: boolean };
        if (r.headers[KIND] !== undefined) {
          const mark = value as { w: number; clean: boolean };
          lastWrite = mark.w;
          clean = mark.clean;
        } else {
          entries.set((value as CheckpointEntry).t, value as CheckpointEntry);
          clean = false;
        }
      }
      if (result.records.length === 0 || result.nextOffset >= result.highWatermark) break;
      offset = result.nextOffset;
    }
    this.#checkpointTopic = chosen;
    return { entries, lastWrite, clean };
  }

  #restore(e: CheckpointEntry, accessFloor: number): StreamState {
    const s = this.#newState(e.t, e.meta, e.meta.expiresAt === undefined ? undefined : Date.parse(e.meta.expiresAt));
    s.tail = e.tail;
    s.closed = s.closing = e.closed;
    s.closedBy = e.closedBy;
    s.lastStreamSeq = e.seq;
    for (const [id, epoch, lastSeq, pid] of e.p) s.producers.set(id, { epoch, lastSeq, pid });
    s.nextPid = e.np;
    s.softDeleted = e.sd;
    s.lastAccess = Math.max(e.la, accessFloor);
    return s;
  }

  /**
   * Rebuilds one stream's state from its records (`undefined` when it has no metadata record), or — given
   * a checkpointed `state` — replays onto it the records from partition offset `from` on.
   */
  async #load(topic: string, restored?: StreamState, from = 0): Promise<StreamState | undefined> {
    let state: StreamState | undefined = restored;
    let offset = from;
    for (;;) {
      const result = await this.#store.read(topic, 0, offset, { maxBytes: SCAN_BYTES, maxRecords: 100_000 });
      for (const r of result.records) {
        if (state === undefined) {
          if (r.offset !== 0 || r.headers[KIND] === undefined || utf8.decode(r.headers[KIND]!) !== "meta" || r.value === null) return undefined;
          const meta = JSON.parse(utf8.decode(r.value)) as StreamMeta;
          state = this.#newState(topic, meta, meta.expiresAt === undefined ? undefined : Date.parse(meta.expiresAt));
          continue;
        }
        this.#replay(state, r);
      }
      if (result.records.length === 0 || result.nextOffset >= result.highWatermark) break;
      offset = result.nextOffset;
    }
    return state;
  }

  #replay(s: StreamState, r: StoredRecord): void {
    const kind = r.headers[KIND] ? utf8.decode(r.headers[KIND]!) : undefined;
    const p = r.headers[PRODUCER] ? (JSON.parse(utf8.decode(r.headers[PRODUCER]!)) as [string, number, number, number]) : undefined;
    if (p !== undefined) {
      s.producers.set(p[0], { epoch: p[1], lastSeq: p[2], pid: p[3] });
      s.nextPid = Math.max(s.nextPid, p[3] + 1);
    }
    if (kind === "delete") s.softDeleted = true;
    else if (kind === "close" || (kind === undefined && r.headers[CLOSE] !== undefined)) {
      s.closed = s.closing = true;
      s.closedBy = p && { id: p[0], epoch: p[1], seq: p[2] };
    }
    if (kind === undefined && r.value !== null) {
      s.tail = r.offset + s.base + 1;
      if (r.headers[SEQ]) s.lastStreamSeq = utf8.decode(r.headers[SEQ]!);
    }
  }

  /** After a failed append: wait for what is in flight, then rebuild the stream's state from its log. */
  async #reload(s: StreamState): Promise<void> {
    await s.settled;
    if (!s.broken) return;
    const fresh = await this.#load(s.topic);
    if (fresh === undefined) throw new BrokerError("INTERNAL_ERROR", `stream ${s.meta.path} lost its metadata record`);
    Object.assign(s, {
      tail: fresh.tail,
      closed: fresh.closed,
      closing: fresh.closing,
      closedBy: fresh.closedBy,
      lastStreamSeq: fresh.lastStreamSeq,
      nextPid: fresh.nextPid,
      softDeleted: fresh.softDeleted,
      broken: false,
    });
    s.producers.clear();
    for (const [k, v] of fresh.producers) s.producers.set(k, v);
  }
}

function sameProducerStep(a: StreamProducer, b: StreamProducer): boolean {
  return a.id === b.id && a.epoch === b.epoch && a.seq === b.seq;
}

/** Byte-wise comparison of two strings' UTF-8 encodings (`Stream-Seq` ordering). */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/**
 * `pieces` as answer parts: each piece of {@link PART_BYTES} or more as it is (no copy), runs of smaller
 * ones joined into one part (so that an answer of many small records is not written a record at a time).
 */
function joinParts(pieces: readonly Uint8Array[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const flush = () => {
    if (run.length === 1) parts.push(run[0]!);
    else if (run.length > 1) parts.push(Buffer.concat(run, runBytes));
    run = [];
    runBytes = 0;
  };
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    if (piece.length >= PART_BYTES) {
      flush();
      parts.push(piece);
      continue;
    }
    run.push(piece);
    runBytes += piece.length;
    if (runBytes >= PART_BYTES) flush();
  }
  flush();
  return parts;
}

/** Parts joined into one buffer. */
function joined(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

const noRelease = (): void => {};

/**
 * A read's answer with a `body` that joins its parts on first use (not copied by a spread: define, not
 * assign), and `release` (a no-op unless given).
 */
function readResult(fields: Omit<StreamReadResult, "body" | "release"> & { release?: (() => void) | undefined }): StreamReadResult {
  let body: Uint8Array | undefined;
  fields.release ??= noRelease;
  return Object.defineProperty(fields, "body", { get: () => (body ??= joined(fields.parts)), enumerable: false }) as StreamReadResult;
}
