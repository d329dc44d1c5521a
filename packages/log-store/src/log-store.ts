import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { CommittedOffsets } from "./committed-offsets.js";
import { DirectoryLock } from "./directory-lock.js";
import { LogStoreError } from "./errors.js";
import { nodeFileSystem, type FileSystem } from "./file-system.js";
import { errnoCode, fsyncDir, isTempFile } from "./fs-utils.js";
import { HandleCache, isFdExhaustion } from "./handle-cache.js";
import { validateGroupId, validateTopicName } from "./names.js";
import { PartitionLog } from "./partition-log.js";
import { ProducerIdManager, type InitProducerIdResult } from "./producer-ids.js";
import { nowOf, resolveSettings, validateLogConfig } from "./settings.js";
import { TopicEvents, type TopicChangeListener } from "./topic-events.js";
import { hasTopicMetadata, readTopicMetadata, writeTopicMetadata, type TopicMetadata } from "./topic-metadata.js";
import type {
  AppendOptions,
  AppendResult,
  DurabilityOptions,
  LogConfig,
  LogStoreMetrics,
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
  /**
   * Most segment and index files open at once (default 1000, or half the process's descriptor limit when
   * that is lower; at least 4). Files are opened on demand and the least recently used idle one is closed
   * to make room, so idle partitions hold no descriptor once the limit is reached.
   */
  maxOpenFiles?: number | undefined;
}

/** Options for {@link LogStore.createTopic}. */
export interface CreateTopicOptions {
  /** Number of partitions, at least 1. */
  partitions: number;
  /** Overrides of the store's log settings for this topic. */
  config?: LogConfig | undefined;
}

interface TopicState {
  metadata: TopicMetadata;
  dir: string;
  logs: PartitionLog[];
}

const OFFSETS_DIR = "__offsets";
const DEFAULT_MAX_PARTITIONS = 1000;
const DEFAULT_RETENTION_CHECK_MS = 5 * 60 * 1000;

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
  private closing: Promise<void> | undefined;
  private compactOffsetsAfter: number | undefined;
  private producerIds: ProducerIdManager | undefined;
  private readonly topicEvents = new TopicEvents();

  private constructor(
    private readonly dataDir: string,
    private readonly defaults: LogConfig,
    private readonly durability: DurabilityOptions,
    private readonly maxPartitions: number,
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
  static async openWith(options: LogStoreOptions, fs: FileSystem, internal: { compactOffsetsAfter?: number } = {}): Promise<LogStore> {
    if (typeof options !== "object" || options === null || typeof options.dataDir !== "string" || options.dataDir === "") {
      throw new LogStoreError("INVALID_REQUEST", "dataDir must be a non-empty path");
    }
    const defaults = validateLogConfig(options);
    const durability: DurabilityOptions = { fsync: options.fsync, fsyncIntervalMs: options.fsyncIntervalMs, clock: options.clock, now: options.now };
    resolveSettings(defaults, durability); // validates the durability options up front
    const maxPartitions = options.maxPartitions ?? DEFAULT_MAX_PARTITIONS;
    if (!Number.isSafeInteger(maxPartitions) || maxPartitions < 1)
      throw new LogStoreError("INVALID_REQUEST", `maxPartitions must be a positive integer, got ${String(maxPartitions)}`);
    const retentionCheckMs = options.retentionCheckIntervalMs ?? DEFAULT_RETENTION_CHECK_MS;
    if (!Number.isSafeInteger(retentionCheckMs) || retentionCheckMs < 0) {
      throw new LogStoreError("INVALID_REQUEST", `retentionCheckIntervalMs must be a non-negative integer, got ${String(retentionCheckMs)}`);
    }
    const handles = new HandleCache(fs, options.maxOpenFiles ?? undefined);
    fs.mkdirSync(options.dataDir, { recursive: true });
    const lock = DirectoryLock.acquire(options.dataDir);
    const store = new LogStore(options.dataDir, defaults, durability, maxPartitions, lock, handles);
    store.compactOffsetsAfter = internal.compactOffsetsAfter;
    try {
      await store.load();
    } catch (error) {
      await store.closeLogs();
      lock.release();
      throw error;
    }
    if (retentionCheckMs > 0) {
      store.retentionTimer = setInterval(() => void store.enforceRetention().catch(() => undefined), retentionCheckMs);
      store.retentionTimer.unref?.();
    }
    return store;
  }

  /** Creates a topic with all its partitions, or nothing (atomic even across a crash). */
  async createTopic(name: string, options: CreateTopicOptions): Promise<TopicDescription> {
    this.assertOpen();
    validateTopicName(name);
    const partitions = this.checkPartitionCount(options?.partitions);
    const config = validateLogConfig(options?.config);
    return this.serialized(async () => {
      this.assertOpen();
      if (this.topics.has(name)) throw new LogStoreError("TOPIC_ALREADY_EXISTS", `topic ${JSON.stringify(name)} already exists`);
      const lower = name.toLowerCase();
      for (const existing of this.topics.keys()) {
        if (existing.toLowerCase() === lower) {
          throw new LogStoreError(
            "INVALID_TOPIC_NAME",
            `topic ${JSON.stringify(name)} differs only in case from existing topic ${JSON.stringify(existing)}`,
          );
        }
      }
      // Build the topic in a staging directory (a name no topic can have), then rename it into place:
      // a crash before the rename leaves only staging garbage that open() removes.
      // No topic name in it: a 249-character name plus a prefix would exceed the filesystem's name limit.
      const staging = join(this.dataDir, `~staging~${randomBytes(8).toString("hex")}`);
      const dir = join(this.dataDir, name);
      const metadata: TopicMetadata = { name, partitions, config, createdAt: this.now() };
      try {
        this.fs.mkdirSync(staging);
        for (let p = 0; p < partitions; p++) this.fs.mkdirSync(join(staging, String(p)));
        await writeTopicMetadata(this.fs, staging, metadata);
        if (this.fs.existsSync(dir))
          throw new LogStoreError("TOPIC_ALREADY_EXISTS", `directory ${dir} already exists but holds no topic; remove it first`);
        this.fs.renameSync(staging, dir);
        await fsyncDir(this.fs, this.dataDir);
      } catch (error) {
        this.fs.removeSync(staging);
        throw wrapIo(error, `cannot create topic ${JSON.stringify(name)}`);
      }
      const state: TopicState = { metadata, dir, logs: [] };
      this.topics.set(name, state);
      await this.openLogs(state, 0);
      this.topicEvents.emit({ type: "created", topic: name, partitions });
      return this.describeTopic(name);
    });
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
      const metadata = { ...state.metadata, partitions: count };
      try {
        // Directories first, metadata last: a crash in between leaves extra empty directories that
        // open() removes, and the topic with its old count.
        for (let p = current; p < count; p++) this.fs.mkdirSync(join(state.dir, String(p)), { recursive: true });
        await writeTopicMetadata(this.fs, state.dir, metadata);
      } catch (error) {
        throw wrapIo(error, `cannot add partitions to topic ${JSON.stringify(name)}`);
      }
      state.metadata = metadata;
      await this.openLogs(state, current);
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
      for (const log of state.logs) log.abandon(gone);
      this.topicEvents.emit({ type: "deleted", topic: name, partitions: 0 });
      const trash = join(this.dataDir, `~deleted~${randomBytes(8).toString("hex")}`);
      try {
        this.fs.renameSync(state.dir, trash);
        await fsyncDir(this.fs, this.dataDir);
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
      return this.log(topic, partition).append(records, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Reads records of one partition from `offset` on (only durable ones; see {@link FsyncPolicy}).
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`, `OFFSET_OUT_OF_RANGE`, `CORRUPT_RECORD`
   */
  read(topic: string, partition: number, offset: number, options?: ReadOptions): Promise<ReadResult> {
    try {
      return this.log(topic, partition).read(offset, options);
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
      return this.log(topic, partition).waitForData(offset, options);
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
    for (const state of this.topics.values()) for (const log of state.logs) deleted += await log.enforceRetention();
    return deleted;
  }

  /** Counters since the store was opened. */
  get metrics(): Readonly<LogStoreMetrics> {
    return { ...this.metricsCounters };
  }

  /** Flushes and closes every log, waits for offset commits, and releases the directory. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.retentionTimer);
      await this.admin.catch(() => undefined);
      await this.producerIds?.settled();
      await this.offsets?.close();
      await this.closeLogs();
      this.lock.release();
    })();
    return this.closing;
  }

  /** Same as {@link LogStore.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async load(): Promise<void> {
    const fs = this.fs;
    for (const name of fs.readdirSync(this.dataDir)) {
      const path = join(this.dataDir, name);
      if (name.startsWith("~")) {
        // Leftovers of a createTopic / deleteTopic / atomic write that a crash interrupted.
        fs.removeSync(path);
        continue;
      }
      if (name === OFFSETS_DIR || !fs.isDirectory(path) || !hasTopicMetadata(fs, path)) continue;
      const metadata = readTopicMetadata(fs, path);
      if (metadata.name !== name)
        throw new LogStoreError("KAFKA_STORAGE_ERROR", `topic metadata in ${path} names topic ${JSON.stringify(metadata.name)}`);
      for (const sub of fs.readdirSync(path)) {
        // Partition directories beyond the count were made by an addPartitions that did not finish;
        // temp files by a metadata write that did not.
        if ((/^\d+$/.test(sub) && Number(sub) >= metadata.partitions) || isTempFile(sub)) fs.removeSync(join(path, sub));
      }
      for (let p = 0; p < metadata.partitions; p++) {
        if (!fs.existsSync(join(path, String(p)))) {
          throw new LogStoreError(
            "KAFKA_STORAGE_ERROR",
            `partition directory ${join(path, String(p))} is missing (topic.json says ${metadata.partitions} partitions)`,
          );
        }
      }
      const state: TopicState = { metadata, dir: path, logs: [] };
      this.topics.set(metadata.name, state);
      await this.openLogs(state, 0);
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

  private async openLogs(state: TopicState, from: number): Promise<void> {
    const settings = resolveSettings(
      { ...this.defaults, ...state.metadata.config },
      this.durability,
      this.metricsCounters,
      this.handles.base,
      this.handles,
    );
    for (let p = from; p < state.metadata.partitions; p++) {
      state.logs.push(
        await PartitionLog.openDir(join(state.dir, String(p)), settings, undefined, `topic ${JSON.stringify(state.metadata.name)} partition ${p}`),
      );
    }
  }

  private async closeLogs(): Promise<void> {
    const logs = [...this.topics.values()].flatMap((state) => state.logs);
    this.topics.clear();
    await Promise.all(logs.map((log) => log.close()));
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.admin.then(task, task);
    this.admin = run.catch(() => undefined);
    return run;
  }

  private now(): number {
    return nowOf(this.durability)();
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

  private log(topic: string, partition: number): PartitionLog {
    const state = this.topic(topic);
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

function wrapIo(error: unknown, what: string): unknown {
  if (error instanceof LogStoreError) return error;
  if (errnoCode(error) === "ENOSPC") return new LogStoreError("DISK_FULL", `${what}: no space left on the disk`, { cause: error });
  if (isFdExhaustion(error))
    return new LogStoreError("TOO_MANY_OPEN_FILES", `${what}: the process is out of file descriptors (${errnoCode(error)}); nothing was changed`, {
      cause: error,
    });
  return new LogStoreError("KAFKA_STORAGE_ERROR", `${what}: ${(error as Error).message}`, { cause: error });
}
