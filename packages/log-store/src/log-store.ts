import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { CommittedOffsets } from "./committed-offsets.js";
import { DirectoryLock } from "./directory-lock.js";
import { LogStoreError } from "./errors.js";
import { nodeFileSystem, type FileSystem } from "./file-system.js";
import { errnoCode, fsyncDir, isTempFile } from "./fs-utils.js";
import { HandleCache, isFdExhaustion } from "./handle-cache.js";
import { Journal, type JournalOptions } from "./journal.js";
import type { EpochEndOffset } from "./leader-epoch-cache.js";
import { isTopicName, validateGroupId, validateTopicName } from "./names.js";
import { CLEAN_SHUTDOWN_FILE, readCleanShutdown, writeCleanShutdown, type CleanTopic } from "./clean-shutdown.js";
import { PartitionLog, type RecoveryPoint } from "./partition-log.js";
import { PartitionSlot } from "./partition-slot.js";
import { ProducerIdManager, type InitProducerIdResult } from "./producer-ids.js";
import { nowOf, resolveSettings, validateLogConfig } from "./settings.js";
import { TopicEvents, type TopicChangeListener } from "./topic-events.js";
import { hasTopicMetadata, readTopicMetadata, writeTopicMetadata, type TopicMetadata } from "./topic-metadata.js";
import type {
  BatchReadResult,
  AppendOptions,
  AppendResult,
  PartitionAppend,
  DurabilityOptions,
  LogConfig,
  LogStoreMetrics,
  PartitionDescription,
  ReadOptions,
  ReadResult,
  RecordInput,
  TopicDescription,
  TopicPartitionOffset,
  WaitOptions,
} from "./types.js";

/** Options for {@link LogStore.open}. Log settings given here are defaults that topics may override. */
export interface LogStoreOptions extends LogConfig, DurabilityOptions {
  /** The directory owned by this store; created if missing. */
  dataDir: string;
  /** How often time-based retention runs, in ms (default 5 minutes; 0 disables the timer). */
  retentionCheckIntervalMs?: number | undefined;
  /** Upper bound on a topic's partition count (default 1000). */
  maxPartitions?: number | undefined;
  /** Most topics the store holds (default 10,000): `createTopic` beyond it is `TOPIC_LIMIT_REACHED`. */
  maxTopics?: number | undefined;
  /**
   * Most partitions of all topics together (default 20,000): `createTopic` / `addPartitions` beyond it is
   * `TOPIC_LIMIT_REACHED`. Topics already on disk are always opened, even past a lowered limit.
   */
  maxTotalPartitions?: number | undefined;
  /**
   * Most segment and index files open at once (default 1000, or half the process's descriptor limit when
   * that is lower; at least 4). Files are opened on demand and the least recently used idle one is closed
   * to make room, so idle partitions hold no descriptor once the limit is reached.
   */
  maxOpenFiles?: number | undefined;
  /**
   * With `fsync: "always"`: write every append through one store-wide journal (one write and one
   * fdatasync per group-commit round, whatever the number of partitions; segment files written in the
   * background, rebuilt from the journal after a crash). Default `false`: each partition fsyncs its own
   * segment. See the README's durability design for when it pays.
   */
  journal?: boolean | undefined;
}

/** Options for {@link LogStore.createTopic}. */
export interface CreateTopicOptions {
  /** Number of partitions, at least 1. */
  partitions: number;
  /** Overrides of the store's log settings for this topic. */
  config?: LogConfig | undefined;
}

/** One topic of {@link LogStore.createTopics}. */
export interface NewTopic extends CreateTopicOptions {
  /** The topic's name (`[a-zA-Z0-9._-]{1,249}`). */
  name: string;
}

interface TopicSpec {
  name: string;
  partitions: number;
  config: LogConfig;
}

/** One {@link LogStore.createTopics} call waiting in a batch. */
interface CreateRequest {
  specs: TopicSpec[];
  resolve: (created: TopicDescription[]) => void;
  reject: (error: unknown) => void;
}

interface TopicState {
  metadata: TopicMetadata;
  dir: string;
  /** Partition `i` is `logs[i]`. */
  logs: PartitionSlot[];
}

const OFFSETS_DIR = "__offsets";
/** The store-wide journal of `fsync: "always"` (journal.ts). */
const JOURNAL_DIR = "__journal";
const DEFAULT_MAX_PARTITIONS = 1000;
const DEFAULT_MAX_TOPICS = 10_000;
const DEFAULT_MAX_TOTAL_PARTITIONS = 20_000;
/** Topic metadata files written (and fsynced) concurrently by one batch of creations. */
const METADATA_WRITES_AT_ONCE = 16;
/** Where open() moves what it cannot load (a topic directory without valid metadata, missing partitions). */
const QUARANTINE_DIR = "__quarantine";
const DEFAULT_RETENTION_CHECK_MS = 5 * 60 * 1000;
/** A segment or index file unused this long is closed (reopened on its next use). */
const IDLE_FILE_MS = 5 * 60 * 1000;
const IDLE_SWEEP_MS = 60 * 1000;

/**
 * A durable store of topics: each topic is a set of partition logs in `<dataDir>/<topic>/<partition>/`,
 * with its metadata in `topic.json`, and consumer groups' committed offsets in `<dataDir>/__offsets/`.
 * One process owns a data directory at a time.
 *
 * ```ts
 * const store = await LogStore.open({ dataDir: "./data" });
 * await store.createTopic("orders", { partitions: 3 });
 * const { baseOffset } = await store.append("orders", 0, [{ key: "order-42", value: "created" }]);
 * const { records } = await store.read("orders", 0, baseOffset);
 * await store.close();
 * ```
 */
export class LogStore implements AsyncDisposable {
  private readonly topics = new Map<string, TopicState>();
  private readonly metricsCounters: LogStoreMetrics = { appendedRecords: 0, appendedBytes: 0, readRecords: 0, fsyncs: 0 };
  private admin: Promise<unknown> = Promise.resolve();
  private retentionTimer: ReturnType<typeof setInterval> | undefined;
  private idleTimer: ReturnType<typeof setInterval> | undefined;
  private closing: Promise<void> | undefined;
  private compactOffsetsAfter: number | undefined;
  private producerIds: ProducerIdManager | undefined;
  private readonly topicEvents = new TopicEvents();
  /** The {@link createTopics} calls that the next admin round creates together (none queued behind it yet). */
  private createBatch: CreateRequest[] | undefined;
  private readonly quarantinedPaths: string[] = [];
  /** The journal every append goes through under `fsync: "always"` (one fsync per round for all partitions). */
  private journal: Journal | undefined;

  private constructor(
    private readonly dataDir: string,
    private readonly defaults: LogConfig,
    private readonly durability: DurabilityOptions,
    private readonly maxPartitions: number,
    private readonly limits: { maxTopics: number; maxTotalPartitions: number },
    private readonly lock: DirectoryLock,
    private readonly handles: HandleCache,
    private offsets: CommittedOffsets | undefined = undefined,
  ) {
    this.fs = handles.fs;
  }

  /** Every file operation of the store, through the descriptor pool (an EMFILE first closes idle descriptors). */
  private readonly fs: FileSystem;

  /**
   * Opens the store in `options.dataDir` (creating it if needed), recovering every partition log.
   * @throws LogStoreError `DATA_DIR_LOCKED` when another process owns the directory, `CORRUPT_RECORD`
   *   when durable data is damaged (names the file and offset), `INVALID_REQUEST` for bad options.
   */
  static open(options: LogStoreOptions): Promise<LogStore> {
    return LogStore.openWith(options, nodeFileSystem);
  }

  /**
   * @internal {@link LogStore.open} on another file system (tests: simulated power loss, full disks), with
   * knobs tests need (`compactOffsetsAfter`: rewrite the offsets log past this many records).
   */
  static async openWith(
    options: LogStoreOptions,
    fs: FileSystem,
    internal: { compactOffsetsAfter?: number; journal?: JournalOptions } = {},
  ): Promise<LogStore> {
    if (typeof options !== "object" || options === null || typeof options.dataDir !== "string" || options.dataDir === "") {
      throw new LogStoreError("INVALID_REQUEST", "dataDir must be a non-empty path");
    }
    const defaults = validateLogConfig(options);
    const durability: DurabilityOptions = {
      fsync: options.fsync,
      fsyncIntervalMs: options.fsyncIntervalMs,
      clock: options.clock,
      now: options.now,
      highWatermarkCheckpointIntervalMs: options.highWatermarkCheckpointIntervalMs,
    };
    resolveSettings(defaults, durability); // validates the durability options up front
    const maxPartitions = options.maxPartitions ?? DEFAULT_MAX_PARTITIONS;
    if (!Number.isSafeInteger(maxPartitions) || maxPartitions < 1)
      throw new LogStoreError("INVALID_REQUEST", `maxPartitions must be a positive integer, got ${String(maxPartitions)}`);
    const limit = (name: string, value: number | undefined, fallback: number) => {
      if (value === undefined) return fallback;
      if (!Number.isSafeInteger(value) || value < 1)
        throw new LogStoreError("INVALID_REQUEST", `${name} must be a positive integer, got ${String(value)}`);
      return value;
    };
    const limits = {
      maxTopics: limit("maxTopics", options.maxTopics, DEFAULT_MAX_TOPICS),
      maxTotalPartitions: limit("maxTotalPartitions", options.maxTotalPartitions, DEFAULT_MAX_TOTAL_PARTITIONS),
    };
    const retentionCheckMs = options.retentionCheckIntervalMs ?? DEFAULT_RETENTION_CHECK_MS;
    if (!Number.isSafeInteger(retentionCheckMs) || retentionCheckMs < 0) {
      throw new LogStoreError("INVALID_REQUEST", `retentionCheckIntervalMs must be a non-negative integer, got ${String(retentionCheckMs)}`);
    }
    const handles = new HandleCache(fs, options.maxOpenFiles ?? undefined);
    fs.mkdirSync(options.dataDir, { recursive: true });
    const lock = DirectoryLock.acquire(options.dataDir);
    const store = new LogStore(options.dataDir, defaults, durability, maxPartitions, limits, lock, handles);
    store.compactOffsetsAfter = internal.compactOffsetsAfter;
    if (options.journal === true && (durability.fsync ?? "always") === "always")
      store.journal = new Journal(handles.fs, join(options.dataDir, JOURNAL_DIR), store.metricsCounters, internal.journal);
    try {
      await store.load();
    } catch (error) {
      await store.closeLogs();
      lock.release();
      throw error;
    }
    // Quiet partitions give their descriptors back even while the pool has room.
    store.idleTimer = setInterval(() => handles.closeIdle(IDLE_FILE_MS), IDLE_SWEEP_MS);
    store.idleTimer.unref?.();
    if (retentionCheckMs > 0) {
      store.retentionTimer = setInterval(() => void store.enforceRetention().catch(() => undefined), retentionCheckMs);
      store.retentionTimer.unref?.();
    }
    return store;
  }

  /**
   * Creates a topic with all its partitions, or nothing (atomic even across a crash). Concurrent calls
   * are created together, in one round of metadata writes (see {@link LogStore.createTopics}); each still
   * succeeds or fails on its own.
   * @throws LogStoreError `INVALID_TOPIC_NAME`, `INVALID_PARTITIONS`, `INVALID_REQUEST`,
   *   `TOPIC_ALREADY_EXISTS`, `TOPIC_LIMIT_REACHED` (`maxTopics` / `maxTotalPartitions`), and when a file
   *   operation fails (nothing is left of the topic): `TOO_MANY_OPEN_FILES`, `DISK_FULL`,
   *   `KAFKA_STORAGE_ERROR` (e.g. `EACCES`; the message names the cause), all retriable.
   */
  async createTopic(name: string, options: CreateTopicOptions): Promise<TopicDescription> {
    const [created] = await this.createTopics([{ ...options, name }]);
    return created!;
  }

  /**
   * Creates several topics at once, all or none: one round of metadata writes and directory fsyncs for
   * all of them (the cost of creating 100 topics is close to that of one). A crash in the middle may
   * leave some of them created, each whole. Calls made while another admin call runs are batched the
   * same way, each call all-or-nothing on its own.
   * @throws LogStoreError as {@link LogStore.createTopic}; `INVALID_REQUEST` for a name listed twice
   */
  async createTopics(topics: readonly NewTopic[]): Promise<TopicDescription[]> {
    this.assertOpen();
    if (!Array.isArray(topics) || topics.length === 0)
      throw new LogStoreError("INVALID_REQUEST", "topics must be a non-empty array of { name, partitions, config? }");
    const specs: TopicSpec[] = [];
    const names = new Set<string>();
    for (const topic of topics) {
      const name = (topic as Partial<NewTopic> | undefined)?.name;
      validateTopicName(name);
      if (names.has(name.toLowerCase())) throw new LogStoreError("INVALID_REQUEST", `topic ${JSON.stringify(name)} is listed twice`);
      names.add(name.toLowerCase());
      specs.push({ name, partitions: this.checkPartitionCount(topic.partitions), config: validateLogConfig(topic.config) });
    }
    return new Promise<TopicDescription[]>((resolve, reject) => {
      const request: CreateRequest = { specs, resolve, reject };
      if (this.createBatch !== undefined) {
        this.createBatch.push(request);
        return;
      }
      const batch = [request];
      this.createBatch = batch;
      void this.serialized(() => {
        if (this.createBatch === batch) this.createBatch = undefined;
        return this.runCreateBatch(batch);
      }, true);
    });
  }

  /** Creates the topics of a batch of {@link createTopics} calls: checks each call, then writes all that pass. */
  private async runCreateBatch(batch: CreateRequest[]): Promise<void> {
    if (this.closing) {
      const closed = new LogStoreError("STORE_CLOSED", `log store ${this.dataDir} is closed`);
      for (const request of batch) request.reject(closed);
      return;
    }
    const taken = new Map<string, string>(); // lower-case name → name, of existing and accepted topics
    for (const name of this.topics.keys()) taken.set(name.toLowerCase(), name);
    let topicCount = this.topics.size;
    let partitionCount = this.totalPartitions();
    const accepted: CreateRequest[] = [];
    const inBatch = new Set<string>(); // names accepted in this batch (lower-case)
    // Refusals are answered once the batch is done, as they were when each creation ran alone: a caller
    // told TOPIC_ALREADY_EXISTS because an earlier call of the batch creates the name finds it created.
    const refused: Array<{ request: CreateRequest; error: unknown; onBatch: boolean }> = [];
    for (const request of batch) {
      let onBatch = false;
      try {
        let partitions = 0;
        for (const { name, partitions: n } of request.specs) {
          const existing = taken.get(name.toLowerCase());
          onBatch = inBatch.has(name.toLowerCase());
          if (existing === name) throw new LogStoreError("TOPIC_ALREADY_EXISTS", `topic ${JSON.stringify(name)} already exists`);
          if (existing !== undefined) {
            throw new LogStoreError(
              "INVALID_TOPIC_NAME",
              `topic ${JSON.stringify(name)} differs only in case from existing topic ${JSON.stringify(existing)}`,
            );
          }
          partitions += n;
        }
        if (topicCount + request.specs.length > this.limits.maxTopics) {
          throw new LogStoreError(
            "TOPIC_LIMIT_REACHED",
            `creating ${request.specs.length} topic(s) would exceed maxTopics ${this.limits.maxTopics} (there are ${topicCount}); delete topics or raise the limit`,
          );
        }
        if (partitionCount + partitions > this.limits.maxTotalPartitions) {
          throw new LogStoreError(
            "TOPIC_LIMIT_REACHED",
            `creating ${partitions} partition(s) would exceed maxTotalPartitions ${this.limits.maxTotalPartitions} (there are ${partitionCount}); delete topics or raise the limit`,
          );
        }
        for (const { name } of request.specs) {
          taken.set(name.toLowerCase(), name);
          inBatch.add(name.toLowerCase());
        }
        topicCount += request.specs.length;
        partitionCount += partitions;
        accepted.push(request);
      } catch (error) {
        refused.push({ request, error, onBatch });
      }
    }
    let failure: { error: unknown } | undefined;
    if (accepted.length > 0) {
      try {
        const states = await this.createTopicFiles(accepted.flatMap((request) => request.specs));
        for (const state of states) this.topics.set(state.metadata.name, state);
        for (const state of states) this.topicEvents.emit({ type: "created", topic: state.metadata.name, partitions: state.metadata.partitions });
        for (const request of accepted) request.resolve(request.specs.map(({ name }) => this.describeTopic(name)));
      } catch (error) {
        failure = { error };
        for (const request of accepted) request.reject(error);
      }
    }
    // Refused because of a name the batch failed to create: that creation's error (retriable) instead.
    for (const { request, error, onBatch } of refused) request.reject(onBatch && failure ? failure.error : error);
  }

  /**
   * Writes and opens the topics, all or none. Each is built in a staging directory (a name no topic can
   * have) and renamed into place: a crash before the rename leaves only staging garbage that open()
   * removes. The metadata fsyncs run in parallel, and one fsync of the data directory covers every rename.
   * On any failure, what was made is removed again before the error is thrown.
   */
  private async createTopicFiles(specs: readonly TopicSpec[]): Promise<TopicState[]> {
    const fs = this.fs;
    const createdAt = this.now();
    // No topic name in the staging name: a 249-character name plus a prefix would exceed the name limit.
    const made = specs.map(({ name, partitions, config }) => ({
      staging: join(this.dataDir, `~staging~${randomBytes(8).toString("hex")}`),
      dir: join(this.dataDir, name),
      renamed: false,
      state: { metadata: { name, partitions, config, createdAt }, dir: join(this.dataDir, name), logs: [] } as TopicState,
    }));
    const what = specs.length === 1 ? `cannot create topic ${JSON.stringify(specs[0]!.name)}` : `cannot create ${specs.length} topics`;
    try {
      for (const m of made) {
        fs.mkdirSync(m.staging);
        for (let p = 0; p < m.state.metadata.partitions; p++) fs.mkdirSync(join(m.staging, String(p)));
      }
      // In parallel (each fsync waits on the disk), a bounded number at a time: each holds a descriptor.
      for (let i = 0; i < made.length; i += METADATA_WRITES_AT_ONCE) {
        await settleAll(made.slice(i, i + METADATA_WRITES_AT_ONCE).map((m) => writeTopicMetadata(fs, m.staging, m.state.metadata)));
      }
      for (const m of made) {
        if (fs.existsSync(m.dir))
          throw new LogStoreError("TOPIC_ALREADY_EXISTS", `directory ${m.dir} already exists but holds no topic; remove it first`);
      }
      for (const m of made) {
        fs.renameSync(m.staging, m.dir);
        m.renamed = true;
      }
      await fsyncDir(fs, this.dataDir);
      for (const m of made) await this.openLogs(m.state, 0);
      return made.map((m) => m.state);
    } catch (error) {
      for (const m of made) await Promise.all(m.state.logs.map((slot) => slot.close().catch(() => undefined)));
      let renamedAny = false;
      for (const m of made) {
        try {
          if (m.renamed) {
            // Out of the way atomically first: a crash while removing leaves trash, not a damaged topic.
            renamedAny = true;
            const trash = join(this.dataDir, `~deleted~${randomBytes(8).toString("hex")}`);
            fs.renameSync(m.dir, trash);
            fs.removeSync(trash);
          } else fs.removeSync(m.staging);
        } catch {
          // Leftovers named ~…: open() removes them. A topic whose directory could not be moved away is
          // whole (its metadata was written last), and comes back at the next open.
        }
      }
      if (renamedAny) await fsyncDir(fs, this.dataDir).catch(() => undefined);
      throw wrapIo(error, what);
    }
  }

  /**
   * What open() moved to `<dataDir>/__quarantine/` because it could not be loaded as a topic, one line
   * each (`<new path>: <why>`); empty normally. Quarantined data is kept, never read: inspect it, then
   * move it back (repaired) or delete it.
   */
  get quarantined(): readonly string[] {
    return [...this.quarantinedPaths];
  }

  /** Names of all topics, sorted. */
  listTopics(): string[] {
    this.assertOpen();
    return [...this.topics.keys()].sort();
  }

  /**
   * A topic's partitions with their `logStartOffset`, `logEndOffset`, `highWatermark` and size.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`
   */
  describeTopic(name: string): TopicDescription {
    const state = this.topic(name);
    const { metadata } = state;
    return { name, config: { ...metadata.config }, createdAt: metadata.createdAt, partitions: state.logs.map((log, p) => log.describe(p)) };
  }

  /**
   * One partition's `logStartOffset`, `logEndOffset`, `highWatermark` and size: what
   * {@link LogStore.describeTopic} gives for it, without describing the topic's other partitions (a fetch
   * of a few partitions of a large topic needs only theirs).
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION` for an unknown topic or partition
   */
  describePartition(name: string, partition: number): PartitionDescription {
    return this.log(name, partition).describe(partition);
  }

  /**
   * Grows a topic to `newCount` partitions (never shrinks: records are routed by partition count).
   * @throws LogStoreError `INVALID_PARTITIONS` unless `newCount` is larger than the current count,
   *   `UNKNOWN_TOPIC_OR_PARTITION`.
   */
  async addPartitions(name: string, newCount: number): Promise<TopicDescription> {
    this.assertOpen();
    const count = this.checkPartitionCount(newCount);
    return this.serialized(async () => {
      const state = this.topic(name);
      const current = state.metadata.partitions;
      if (count <= current)
        throw new LogStoreError("INVALID_PARTITIONS", `topic ${JSON.stringify(name)} has ${current} partitions; it can only grow, got ${count}`);
      const total = this.totalPartitions();
      if (total + count - current > this.limits.maxTotalPartitions) {
        throw new LogStoreError(
          "TOPIC_LIMIT_REACHED",
          `adding ${count - current} partition(s) would exceed maxTotalPartitions ${this.limits.maxTotalPartitions} (there are ${total}); delete topics or raise the limit`,
        );
      }
      const metadata = { ...state.metadata, partitions: count };
      // Directories and logs first, metadata last: a crash in between leaves extra directories that open()
      // removes, and the topic with its old count. A failure removes them at once.
      const grown: TopicState = { metadata, dir: state.dir, logs: [] };
      const made: string[] = [];
      try {
        for (let p = current; p < count; p++) {
          const dir = join(state.dir, String(p));
          this.fs.mkdirSync(dir, { recursive: true });
          made.push(dir);
        }
        await this.openLogs(grown, current);
        await writeTopicMetadata(this.fs, state.dir, metadata);
      } catch (error) {
        await Promise.all(grown.logs.map((slot) => slot.close().catch(() => undefined)));
        // The new metadata may have been renamed into place before a later step (the directory fsync)
        // failed: put the old one back before removing the directories it would name.
        await writeTopicMetadata(this.fs, state.dir, state.metadata).catch(() => undefined);
        for (const dir of made) {
          try {
            this.fs.removeSync(dir);
          } catch {
            // Beyond the count in topic.json: open() removes it.
          }
        }
        throw wrapIo(error, `cannot add partitions to topic ${JSON.stringify(name)}`);
      }
      state.metadata = metadata;
      state.logs.push(...grown.logs);
      this.topicEvents.emit({ type: "partitionsAdded", topic: name, partitions: count });
      return this.describeTopic(name);
    });
  }

  /**
   * Deletes a topic, its data and every group's committed offsets for it. Pending waits on it reject
   * with `UNKNOWN_TOPIC_OR_PARTITION`.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`
   */
  async deleteTopic(name: string): Promise<void> {
    this.assertOpen();
    await this.serialized(async () => {
      const state = this.topic(name);
      this.topics.delete(name);
      const gone = new LogStoreError("UNKNOWN_TOPIC_OR_PARTITION", `topic ${JSON.stringify(name)} was deleted`);
      for (const slot of state.logs) slot.abandon(gone);
      this.topicEvents.emit({ type: "deleted", topic: name, partitions: 0 });
      const trash = join(this.dataDir, `~deleted~${randomBytes(8).toString("hex")}`);
      try {
        this.fs.renameSync(state.dir, trash);
        await fsyncDir(this.fs, this.dataDir);
        // Its entries in the journal must be gone before a topic of the same name can be created (they
        // would be replayed into it): a checkpoint deletes the journal files written so far.
        await this.journal?.checkpoint();
      } catch (error) {
        throw wrapIo(error, `cannot delete topic ${JSON.stringify(name)}`);
      }
      await this.offsets!.removeTopic(name);
      await this.fs.remove(trash);
    });
  }

  /**
   * Calls `listener` after every topic change made through this store — {@link LogStore.createTopic},
   * {@link LogStore.addPartitions}, {@link LogStore.deleteTopic}, whoever calls them — once it has taken
   * effect: `describeTopic` already answers for the new state when the listener runs. Listeners are called
   * synchronously, in subscription order, and must not throw (an exception is ignored: the change is made).
   * Nothing is told for the topics found at open.
   *
   * ```ts
   * const unsubscribe = store.onTopicChange(({ type, topic, partitions }) => console.log(type, topic, partitions));
   * ```
   * @returns a function that removes the listener (calling it again does nothing).
   */
  onTopicChange(listener: TopicChangeListener): () => void {
    return this.topicEvents.subscribe(listener);
  }

  /**
   * Appends `records` to one partition as one batch; resolves once durable under the fsync policy.
   * With `options.producer` the append is idempotent, per partition (see {@link AppendOptions}): a retry
   * resolves with the original offsets and `duplicate: true`, appending nothing.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `INVALID_RECORD`, `DISK_FULL` (retriable; nothing
   *   stored; works again once space is freed), `KAFKA_STORAGE_ERROR`, `STORE_CLOSED`; with a producer also
   *   `OUT_OF_ORDER_SEQUENCE_NUMBER`, `INVALID_PRODUCER_EPOCH`, `UNKNOWN_PRODUCER_ID` (nothing stored;
   *   `error.producer` holds the partition's current epoch and expected sequence), `INVALID_REQUEST`
   */
  append(topic: string, partition: number, records: readonly RecordInput[], options?: AppendOptions): Promise<AppendResult> {
    try {
      const slot = this.log(topic, partition);
      // An open log is called directly: no closure per append (thousands per request with many partitions).
      return slot.ready?.append(records, options) ?? slot.run((log) => log.append(records, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Appends to several partitions of one topic at once: `appends[i].records` as one batch to partition
   * `appends[i].partition` (as {@link append} without options, in the order given; a partition may appear
   * more than once), resolving with each one's offsets, in the same order, once all are durable. Not
   * atomic: when one is refused, the others are appended all the same and the call rejects with the first
   * error.
   *
   * With the store's journal (`journal: true`), this is what a request spread over many partitions should
   * use: every batch joins the same journal round synchronously and the call waits for that round once,
   * instead of one promise per partition (the per-append cost that dominates with hundreds of partitions
   * per request). Without it, the same as `Promise.all` of {@link append} calls.
   *
   * ```ts
   * const [a, b] = await store.appendMany("orders", [
   *   { partition: 0, records: [{ value: "x" }] },
   *   { partition: 7, records: [{ value: "y" }, { value: "z" }] },
   * ]);
   * ```
   * @throws LogStoreError what {@link append} throws (`UNKNOWN_TOPIC_OR_PARTITION`, `INVALID_RECORD`,
   *   `DISK_FULL`, `KAFKA_STORAGE_ERROR`, `STORE_CLOSED`, ...)
   */
  appendMany(topic: string, appends: readonly PartitionAppend[]): Promise<AppendResult[]> {
    let state: TopicState;
    try {
      state = this.topic(topic);
      if (!Array.isArray(appends)) throw new LogStoreError("INVALID_REQUEST", "appends must be an array");
    } catch (error) {
      return Promise.reject(error);
    }
    const journal = this.journal;
    const n = appends.length;
    const results = new Array<AppendResult>(n);
    // With the journal, every open log's batch joins the journal's open round synchronously: one promise
    // for all of them. Logs not open yet (and every log without the journal) answer one promise each.
    let round: Promise<void> | undefined;
    let waits: Promise<void>[] | undefined;
    let failure: { error: unknown } | undefined;
    for (let i = 0; i < n; i++) {
      try {
        const { partition, records } = appends[i]!;
        const slot = this.slotOf(state, topic, partition);
        const log = slot.ready;
        if (journal !== undefined && log !== undefined) {
          results[i] = log.appendToRound(records);
          round ??= journal.flushed(log);
        } else {
          (waits ??= []).push(
            slot
              .run((l) => l.append(records))
              .then((result) => {
                results[i] = result;
              }),
          );
        }
      } catch (error) {
        failure ??= { error };
      }
    }
    if (waits !== undefined) round = Promise.all(round === undefined ? waits : [round, ...waits]).then(() => undefined);
    if (failure !== undefined) {
      round?.catch(() => undefined); // answered by the first error: the others' outcome is nobody's
      return Promise.reject(failure.error);
    }
    return round === undefined ? Promise.resolve(results) : round.then(() => results);
  }

  /**
   * Reads records of one partition from `offset` on (only durable ones; see {@link FsyncPolicy}).
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `OFFSET_OUT_OF_RANGE`, `CORRUPT_RECORD`
   */
  read(topic: string, partition: number, offset: number, options?: ReadOptions): Promise<ReadResult> {
    try {
      return this.log(topic, partition).run((log) => log.read(offset, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Resolves `true` once a record at `offset` or later is readable in the partition, `false` on timeout
   * or when the store closes; rejects if `signal` aborts or the topic is deleted meanwhile.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`
   */
  waitForData(topic: string, partition: number, offset: number, options: WaitOptions): Promise<boolean> {
    try {
      return this.log(topic, partition).run((log) => log.waitForData(offset, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Appends batches fetched from the partition's leader as they are, with the leader's offsets and epochs
   * (see {@link PartitionLog.appendAsFollower}); resolves once durable under the fsync policy. Works with
   * the store-wide journal too.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `OFFSET_OUT_OF_RANGE` (not at the log end),
   *   `INVALID_RECORD`, `FENCED_LEADER_EPOCH` (nothing stored), `DISK_FULL`, `KAFKA_STORAGE_ERROR`, `STORE_CLOSED`
   */
  appendAsFollower(topic: string, partition: number, bytes: Uint8Array): Promise<AppendResult> {
    try {
      return this.log(topic, partition).run((log) => log.appendAsFollower(bytes));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Truncates one partition to end at `offset` (at the start of the batch holding it), removing every
   * batch at or past it; resolves with the new log end (see {@link PartitionLog.truncateTo}: crash-safe
   * step by step; with the journal, a journal checkpoint first). Whether committed data may be cut is the
   * caller's concern.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `OFFSET_OUT_OF_RANGE` (below the log start),
   *   `CORRUPT_RECORD`, `KAFKA_STORAGE_ERROR`, `INVALID_REQUEST` (another truncation runs), `STORE_CLOSED`
   */
  truncateTo(topic: string, partition: number, offset: number): Promise<number> {
    try {
      return this.log(topic, partition).run((log) => log.truncateTo(offset));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Empties one partition and restarts it at `offset` (Kafka's truncateFullyAndStartAt; see
   * {@link PartitionLog.truncateFullyAndStartAt}): for a follower whose log is entirely behind, or diverges
   * below, its leader's log start. Crash-safe through a `log-reset` intent file that every open completes:
   * a power loss leaves the old log or the new empty one. Resolves with `offset`.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `OFFSET_OUT_OF_RANGE` (not a non-negative integer),
   *   `KAFKA_STORAGE_ERROR`, `INVALID_REQUEST` (a truncation runs), `STORE_CLOSED`
   */
  truncateFullyAndStartAt(topic: string, partition: number, offset: number): Promise<number> {
    try {
      return this.log(topic, partition).run((log) => log.truncateFullyAndStartAt(offset));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Reads whole stored batches of one partition as their bytes, with their offsets and leader epochs
   * (what a leader serves a follower; see {@link PartitionLog.readBatches}).
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `OFFSET_OUT_OF_RANGE`, `CORRUPT_RECORD`, `INVALID_REQUEST`
   */
  readBatches(topic: string, partition: number, offset: number, options?: { maxBytes?: number | undefined }): Promise<BatchReadResult> {
    try {
      return this.log(topic, partition).run((log) => log.readBatches(offset, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sets one replicated partition's high watermark (see {@link PartitionLog.setHighWatermark}): consumers
   * read below it and `waitForData` wakes when it moves; checkpointed periodically and on close.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `OFFSET_OUT_OF_RANGE` (below the current high
   *   watermark or above the durable end), `INVALID_REQUEST` (the topic is not replicated), `STORE_CLOSED`
   */
  setHighWatermark(topic: string, partition: number, offset: number): Promise<void> {
    try {
      return this.log(topic, partition).run(async (log) => log.setHighWatermark(offset));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Writes the high watermark checkpoint of every open replicated partition whose high watermark changed
   * since its last one, now (see {@link PartitionLog.checkpointHighWatermark}; it also happens within
   * `highWatermarkCheckpointIntervalMs` of a change, and on close). Nothing to do without replicated topics.
   * @throws LogStoreError `DISK_FULL`, `KAFKA_STORAGE_ERROR` (the first failure; the others are still
   *   attempted), `STORE_CLOSED`
   */
  async checkpointHighWatermarks(): Promise<void> {
    this.assertOpen();
    const writes: Array<Promise<void>> = [];
    for (const state of this.topics.values())
      for (const slot of state.logs) {
        const log = slot.opened;
        if (log !== undefined) writes.push(log.checkpointHighWatermark());
      }
    await settleAll(writes);
  }

  /**
   * One past the last offset of one partition a leader may serve its followers, what
   * {@link LogStore.readBatches} reads up to (see {@link PartitionLog.replicaEndOffset}).
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `STORE_CLOSED`
   */
  replicaEndOffset(topic: string, partition: number): Promise<number> {
    try {
      return this.log(topic, partition).run(async (log) => log.replicaEndOffset);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * One past the last offset of one partition that is durable under the fsync policy (see
   * {@link PartitionLog.durableEndOffset}): what a follower reports to its leader as its log end.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `STORE_CLOSED`
   */
  durableEndOffset(topic: string, partition: number): Promise<number> {
    try {
      return this.log(topic, partition).run(async (log) => log.durableEndOffset);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The leader epoch of one partition's latest batches (what a follower sends its new leader to learn where
   * its history diverges, and what appends are stamped with by default): 0 for a log that never had another,
   * -1 after a truncation to its start.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `STORE_CLOSED`
   */
  latestEpoch(topic: string, partition: number): Promise<number> {
    try {
      return this.log(topic, partition).run(async (log) => log.latestEpoch);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Where leader `epoch`'s history ends in one partition (Kafka's OffsetForLeaderEpoch; see
   * {@link PartitionLog.endOffsetForEpoch}): `{ leaderEpoch, endOffset }`, or -1 / -1 when unknown.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `STORE_CLOSED`
   */
  endOffsetForEpoch(topic: string, partition: number, epoch: number): Promise<EpochEndOffset> {
    try {
      return this.log(topic, partition).run(async (log) => log.endOffsetForEpoch(epoch));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Durably records a consumer group's committed offsets (each the *next* offset to read), all or none.
   * @throws LogStoreError `INVALID_GROUP_ID`, `UNKNOWN_TOPIC_OR_PARTITION`, `OFFSET_OUT_OF_RANGE` (offset
   *   negative or past the log end), `INVALID_REQUEST`, `DISK_FULL` (retriable; nothing stored),
   *   `KAFKA_STORAGE_ERROR`
   */
  async commitOffsets(groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    this.assertOpen();
    validateGroupId(groupId);
    if (!Array.isArray(offsets)) throw new LogStoreError("INVALID_REQUEST", "offsets must be an array of { topic, partition, offset }");
    const checked: TopicPartitionOffset[] = [];
    for (const entry of offsets) {
      const { topic, partition, offset } = (entry ?? {}) as Partial<TopicPartitionOffset>;
      const log = this.log(topic as string, partition as number);
      if (!Number.isSafeInteger(offset) || offset! < 0 || offset! > log.logEndOffset) {
        throw new LogStoreError("OFFSET_OUT_OF_RANGE", `offset ${String(offset)} for ${topic}/${partition} is outside [0, ${log.logEndOffset}]`);
      }
      checked.push({ topic: topic!, partition: partition!, offset: offset! });
    }
    if (checked.length > 0) await this.offsets!.commit(groupId, checked);
  }

  /**
   * Everything the group has committed, sorted by topic and partition (empty for an unknown group).
   * @throws LogStoreError `INVALID_GROUP_ID`
   */
  async committedOffsets(groupId: string): Promise<TopicPartitionOffset[]> {
    this.assertOpen();
    validateGroupId(groupId, true);
    return this.offsets!.get(groupId);
  }

  /**
   * Durably forgets every offset the group has committed (group retention: a group that is gone), with a
   * tombstone in the offsets log. Nothing to forget is not an error. Takes effect in call order with the
   * group's {@link LogStore.commitOffsets} calls (a commit made after it is kept). Resolves once durable;
   * afterwards {@link LogStore.committedOffsets} returns `[]` for the group.
   * @throws LogStoreError `INVALID_GROUP_ID`, `KAFKA_STORAGE_ERROR`, `DISK_FULL`
   */
  async deleteGroup(groupId: string): Promise<void> {
    this.assertOpen();
    validateGroupId(groupId, true);
    await this.offsets!.deleteGroup(groupId);
  }

  /** The id of every group that has committed offsets (in no particular order). */
  committedGroupIds(): string[] {
    this.assertOpen();
    return this.offsets!.groupIds();
  }

  /**
   * A fresh idempotent-producer id (Kafka's InitProducerId), with epoch 0, for
   * {@link AppendOptions.producer}. Unique for this data directory, also across restarts and crashes: ids
   * come from blocks of 1000 made durable (fsynced, under any fsync policy) before the first id of a block
   * is returned; a restart skips the rest of the block in use. Sequences then start at 0 in every partition.
   * @throws LogStoreError `KAFKA_STORAGE_ERROR` (also when the id file is damaged: guessing could reuse an
   *   id), `DISK_FULL`, `STORE_CLOSED`
   */
  async initProducerId(): Promise<InitProducerIdResult> {
    this.assertOpen();
    this.producerIds ??= new ProducerIdManager(this.fs, this.dataDir);
    return this.producerIds.allocate();
  }

  /** Applies retention to every partition now; resolves with the number of segments deleted. */
  async enforceRetention(): Promise<number> {
    this.assertOpen();
    let deleted = 0;
    for (const state of this.topics.values()) for (const slot of state.logs) deleted += await slot.enforceRetention();
    return deleted;
  }

  /**
   * Whether appends go through the store-wide journal (`journal: true` with `fsync: "always"`): then small
   * appends to a partition that arrive while its round is open share a batch, and {@link appendMany} costs
   * one promise per call instead of one per partition.
   */
  get journaled(): boolean {
    return this.journal !== undefined;
  }

  /** Counters since the store was opened. */
  get metrics(): Readonly<LogStoreMetrics> {
    return { ...this.metricsCounters };
  }

  /** Flushes and closes every log, waits for offset commits, and releases the directory. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.retentionTimer);
      clearInterval(this.idleTimer);
      await this.admin.catch(() => undefined);
      await this.producerIds?.settled();
      await this.offsets?.close();
      const clean = await this.closeLogs();
      // The journal deletes its files once every log is written back and closed; while any is left, the
      // next open must replay it, so no marker is written.
      const journalEmpty = (await this.journal?.close()) ?? true;
      // Last, once every log is flushed and closed: the next open may trust what it says (see load()).
      if (journalEmpty) await writeCleanShutdown(this.fs, this.dataDir, clean).catch(() => undefined);
      this.lock.release();
    })();
    return this.closing;
  }

  /** Same as {@link LogStore.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Loads the topics. After a clean shutdown (its marker is there, valid, and names exactly the topic
   * directories present) the marker is the whole work: no topic.json is read and no partition is opened
   * until used. The marker is removed, durably, before anything else: from then on a crash leaves no
   * marker, and the next open recovers every topic as below. Otherwise (a crash, an older version, a
   * marker that does not match) each topic directory is checked and each partition recovered.
   */
  private async load(): Promise<void> {
    const fs = this.fs;
    const names = fs.readdirSync(this.dataDir);
    let clean: Map<string, CleanTopic> | undefined;
    if (names.includes(CLEAN_SHUTDOWN_FILE)) {
      const topics = readCleanShutdown(fs, this.dataDir);
      fs.removeSync(join(this.dataDir, CLEAN_SHUTDOWN_FILE));
      await fsyncDir(fs, this.dataDir);
      // Journal files left over mean the last run did not finish its close: they must be replayed, which
      // needs every partition open, so the marker is not trusted then.
      const journalLeft = Journal.hasFiles(fs, join(this.dataDir, JOURNAL_DIR));
      if (topics !== undefined && !journalLeft && matchesListing(topics, names)) clean = new Map(topics.map((t) => [t.metadata.name, t]));
    }
    for (const name of names) {
      const path = join(this.dataDir, name);
      if (name.startsWith("~")) {
        // Leftovers of a createTopic / deleteTopic / atomic write that a crash interrupted.
        fs.removeSync(path);
        continue;
      }
      if (clean !== undefined) {
        const entry = clean.get(name);
        if (entry === undefined) continue;
        const state: TopicState = { metadata: entry.metadata, dir: path, logs: [] };
        this.topics.set(name, state);
        await this.openLogs(state, 0, entry.points);
        continue;
      }
      if (name === OFFSETS_DIR || name === QUARANTINE_DIR || name === CLEAN_SHUTDOWN_FILE || name === JOURNAL_DIR || !fs.isDirectory(path)) continue;
      const metadata = await this.checkTopicDir(name, path);
      if (metadata === undefined) continue;
      const state: TopicState = { metadata, dir: path, logs: [] };
      this.topics.set(metadata.name, state);
      await this.openLogs(state, 0);
    }
    // A journal left by a crash is replayed even when this run does not use one (`journal: false` now):
    // its rounds were acknowledged. Without a trusted marker every partition is open here.
    const journalDir = join(this.dataDir, JOURNAL_DIR);
    if (clean === undefined && Journal.hasFiles(fs, journalDir)) {
      const journal = this.journal ?? new Journal(fs, journalDir, this.metricsCounters);
      const logs = new Map<string, PartitionLog>();
      for (const state of this.topics.values())
        for (const slot of state.logs) if (slot.opened !== undefined) logs.set(slot.opened.journalKey.toString("utf8"), slot.opened);
      await journal.recover(logs);
    }
    if (this.journal !== undefined) {
      if (!fs.isDirectory(this.journal.dir)) {
        fs.mkdirSync(this.journal.dir);
        await fsyncDir(fs, this.dataDir);
      }
    }
    this.offsets = await CommittedOffsets.open({
      fs,
      handles: this.handles,
      dir: join(this.dataDir, OFFSETS_DIR),
      fsync: this.durability.fsync ?? "always",
      now: this.durability.now,
      compactMinRecords: this.compactOffsetsAfter,
    });
  }

  /**
   * Checks a topic directory found at open and repairs what an interrupted or older version left: temp
   * files and partition directories past the count are removed; missing partition directories are made
   * again when no partition of the topic holds any record (a half-made topic: nothing was ever stored).
   * What cannot be repaired without guessing — no or unreadable `topic.json`, metadata naming another
   * topic, partitions missing beside stored data — is moved to `__quarantine/` (nothing is deleted) and
   * the store opens without it. Returns the metadata of a topic to open, `undefined` otherwise.
   */
  private async checkTopicDir(name: string, path: string): Promise<TopicMetadata | undefined> {
    const fs = this.fs;
    if (!hasTopicMetadata(fs, path)) {
      if (!isTopicName(name)) return undefined; // not ours (.lock, or something an operator put there)
      if (fs.readdirSync(path).length === 0)
        fs.removeSync(path); // an empty directory: nothing to keep
      else await this.quarantine(name, path, "it has no topic.json");
      return undefined;
    }
    let metadata: TopicMetadata;
    try {
      metadata = readTopicMetadata(fs, path);
    } catch (error) {
      await this.quarantine(name, path, (error as Error).message);
      return undefined;
    }
    if (metadata.name !== name) {
      await this.quarantine(name, path, `its topic.json names topic ${JSON.stringify(metadata.name)}`);
      return undefined;
    }
    for (const sub of fs.readdirSync(path)) {
      // Partition directories beyond the count were made by an addPartitions that did not finish;
      // temp files by a metadata write that did not.
      if ((/^\d+$/.test(sub) && Number(sub) >= metadata.partitions) || isTempFile(sub)) fs.removeSync(join(path, sub));
    }
    const missing: number[] = [];
    for (let p = 0; p < metadata.partitions; p++) if (!fs.isDirectory(join(path, String(p)))) missing.push(p);
    if (missing.length > 0) {
      const holdsData = (p: number) => {
        const dir = join(path, String(p));
        return fs.readdirSync(dir).some((file) => {
          if (!file.endsWith(".log")) return false;
          const fd = fs.openSync(join(dir, file), "r");
          try {
            return fs.fileSize(fd) > 0;
          } finally {
            fs.closeSync(fd);
          }
        });
      };
      const stored = Array.from({ length: metadata.partitions }, (_, p) => p).filter((p) => !missing.includes(p) && holdsData(p));
      if (stored.length > 0) {
        await this.quarantine(
          name,
          path,
          `partition directories ${missing.join(", ")} are missing while partitions ${stored.join(", ")} hold records`,
        );
        return undefined;
      }
      for (const p of missing) fs.mkdirSync(join(path, String(p)));
      if (this.durability.fsync !== "never") await fsyncDir(fs, path);
    }
    return metadata;
  }

  /** Moves `path` to `__quarantine/<time>-<random>/<name>` (durably) and records why. */
  private async quarantine(name: string, path: string, reason: string): Promise<void> {
    const fs = this.fs;
    const root = join(this.dataDir, QUARANTINE_DIR);
    const dir = join(root, `${this.now()}-${randomBytes(4).toString("hex")}`);
    fs.mkdirSync(dir, { recursive: true });
    const target = join(dir, name);
    fs.renameSync(path, target);
    if (this.durability.fsync !== "never") {
      await fsyncDir(fs, root);
      await fsyncDir(fs, this.dataDir);
    }
    this.quarantinedPaths.push(`${target}: ${reason}`);
  }

  /**
   * Opens partitions `from`… of the topic into `state.logs` (of which `state.logs[i - from]` is
   * partition `i`), pushing each as soon as it is open: on failure, `state.logs` holds those to close.
   * A partition with a point (`points[p]`, from a clean shutdown) is not opened now but on first use.
   */
  private async openLogs(state: TopicState, from: number, points?: ReadonlyArray<RecoveryPoint | null>): Promise<void> {
    const settings = resolveSettings(
      { ...this.defaults, ...state.metadata.config },
      this.durability,
      this.metricsCounters,
      this.handles.base,
      this.handles,
    );
    settings.journal = this.journal;
    for (let p = from; p < state.metadata.partitions; p++) {
      const dir = join(state.dir, String(p));
      const label = `topic ${JSON.stringify(state.metadata.name)} partition ${p}`;
      const journalKey = Buffer.from(`${state.metadata.name}/${p}`);
      const open = async (point: RecoveryPoint | undefined) => {
        const log = await PartitionLog.openDir(dir, settings, undefined, label, point);
        log.journalKey = journalKey;
        return log;
      };
      const point = points?.[p] ?? undefined;
      // A replicated log is opened now, even after a clean shutdown (trusting its point): its high
      // watermark is in its own checkpoint, which descriptions of an unopened slot cannot show.
      state.logs.push(
        point !== undefined && !settings.replicated ? new PartitionSlot(open, point) : new PartitionSlot(open, undefined, await open(point)),
      );
    }
  }

  /** Closes every log; resolves with what a clean-shutdown marker may record of each topic. */
  private async closeLogs(): Promise<CleanTopic[]> {
    const states = [...this.topics.values()];
    this.topics.clear();
    return Promise.all(
      states.map(async ({ metadata, logs }) => ({
        metadata,
        points: (await Promise.all(logs.map((slot) => slot.close().catch(() => undefined)))).map((point) => point ?? null),
      })),
    );
  }

  /**
   * Runs `task` after every admin task queued before it. Any other task than a create batch closes the
   * open batch, so that later creates run after it (call order is kept).
   */
  private serialized<T>(task: () => Promise<T>, createBatch = false): Promise<T> {
    if (!createBatch) this.createBatch = undefined;
    const run = this.admin.then(task, task);
    this.admin = run.catch(() => undefined);
    return run;
  }

  private now(): number {
    return nowOf(this.durability)();
  }

  private totalPartitions(): number {
    let n = 0;
    for (const state of this.topics.values()) n += state.metadata.partitions;
    return n;
  }

  private checkPartitionCount(count: unknown): number {
    if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 1 || count > this.maxPartitions) {
      throw new LogStoreError("INVALID_PARTITIONS", `partition count must be an integer from 1 to ${this.maxPartitions}, got ${String(count)}`);
    }
    return count;
  }

  private assertOpen(): void {
    if (this.closing) throw new LogStoreError("STORE_CLOSED", `log store ${this.dataDir} is closed`);
  }

  private topic(name: string): TopicState {
    this.assertOpen();
    const state = typeof name === "string" ? this.topics.get(name) : undefined;
    if (!state) throw new LogStoreError("UNKNOWN_TOPIC_OR_PARTITION", `unknown topic ${JSON.stringify(name)}`);
    return state;
  }

  private log(topic: string, partition: number): PartitionSlot {
    return this.slotOf(this.topic(topic), topic, partition);
  }

  private slotOf(state: TopicState, topic: string, partition: number): PartitionSlot {
    const log = Number.isInteger(partition) ? state.logs[partition] : undefined;
    if (!log) {
      throw new LogStoreError(
        "UNKNOWN_TOPIC_OR_PARTITION",
        `topic ${JSON.stringify(topic)} has no partition ${String(partition)} (it has ${state.logs.length})`,
      );
    }
    return log;
  }
}

/**
 * Whether a clean-shutdown marker's topics are exactly the topic directories `names` holds (anything
 * added or removed by hand since makes the open recover every topic instead of trusting the marker).
 */
function matchesListing(topics: readonly CleanTopic[], names: readonly string[]): boolean {
  const listed = new Set(names);
  for (const { metadata, points } of topics) if (!listed.has(metadata.name) || points.length !== metadata.partitions) return false;
  const marked = new Set(topics.map((t) => t.metadata.name));
  return names.every((name) => marked.has(name) || !isTopicName(name));
}

/** Waits for every promise, then throws the first rejection (nothing is still running when it throws). */
async function settleAll(promises: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
}

function wrapIo(error: unknown, what: string): unknown {
  if (error instanceof LogStoreError) return error;
  if (errnoCode(error) === "ENOSPC") return new LogStoreError("DISK_FULL", `${what}: no space left on the disk`, { cause: error });
  if (isFdExhaustion(error))
    return new LogStoreError("TOO_MANY_OPEN_FILES", `${what}: the process is out of file descriptors (${errnoCode(error)}); nothing was changed`, {
      cause: error,
    });
  return new LogStoreError("KAFKA_STORAGE_ERROR", `${what}: ${(error as Error).message}`, { cause: error });
}
