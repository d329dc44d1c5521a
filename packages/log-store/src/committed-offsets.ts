import { Buffer } from "node:buffer";
import { dirname, join } from "node:path";
import { LogStoreError, isLogStoreError } from "./errors.js";
import type { FileSystem } from "./file-system.js";
import { fsyncDir, isTempFile, writeFully } from "./fs-utils.js";
import type { HandleCache } from "./handle-cache.js";
import { PartitionLog } from "./partition-log.js";
import { resolveSettings, type LogSettings } from "./settings.js";
import type { FsyncPolicy, RecordInput, TopicPartitionOffset } from "./types.js";

/** Options for {@link CommittedOffsets.open}. */
export interface CommittedOffsetsOptions {
  fs: FileSystem;
  /** The store's pool of open descriptors (default: one of its own). */
  handles?: HandleCache | undefined;
  /** `<dataDir>/__offsets`; created if missing. */
  dir: string;
  /** `"never"` skips fsyncs; anything else makes every commit durable before it resolves. */
  fsync: FsyncPolicy;
  /** Rewrite the log once it holds more than this many records and twice the live keys (default 10,000). */
  compactMinRecords?: number | undefined;
  now?: (() => number) | undefined;
}

/** group → topic → partition → committed offset. */
type Offsets = Map<string, Map<string, Map<number, number>>>;

/** The file naming the generation (`log-<n>` directory) that holds the current offsets log. */
const CURRENT = "current";
const LOG_DIR = /^log-(\d+)$/;
/** Records per batch when a whole state is written (migration, compaction). */
const SNAPSHOT_BATCH = 2000;
const DEFAULT_COMPACT_MIN_RECORDS = 10_000;
const READ_CHUNK = 10_000;

const logDirName = (generation: number): string => `log-${generation}`;

// Record keys are small JSON arrays (group ids and topic names never become paths):
//   ["o", group, topic, partition]  value: the offset in decimal   a committed offset
//   ["g", group]                    value: null                    the group's offsets are deleted
//   ["t", topic]                    value: null                    every group's offsets for the topic are deleted
const offsetRecord = (group: string, topic: string, partition: number, offset: number): RecordInput => ({
  key: JSON.stringify(["o", group, topic, partition]),
  value: String(offset),
});

/**
 * Committed consumer-group offsets as an append-only internal log (Kafka's `__consumer_offsets` idea), in
 * `<dataDir>/__offsets/log-<generation>/`, a {@link PartitionLog} that is never listed as a topic.
 *
 * - A commit request appends one batch (one record per partition): all or nothing, even across a crash, since
 *   a torn batch fails its checksum and recovery cuts it. It resolves once that batch is fsynced; commits of
 *   all groups that arrive together share one fsync (the partition log's group commit).
 * - The latest offset per (group, topic, partition) is kept in memory; reads never touch the disk.
 * - When the log holds more than `compactMinRecords` records and more than twice the live keys, the live state
 *   is written to a new generation, which `current` then names (atomically); so a restart replays at most about
 *   `max(compactMinRecords, 2 × live keys)` records. Commits wait while the switch happens.
 * - The format before this one (one JSON file per group, named by a hash of the group id) is migrated on open.
 */
export class CommittedOffsets {
  private readonly offsets: Offsets = new Map();
  private liveKeys = 0;
  /** Records in the current generation's log. */
  private logRecords = 0;
  /** Commits in flight on the current log (compaction waits for them). */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Set while a compaction switches logs: commits queue here, in call order. */
  private waiting: Array<() => void> | undefined;
  private compaction: Promise<void> | undefined;
  /** Do not try to compact again before the log holds this many records (after a failed attempt). */
  private compactAfter = 0;
  private failure: LogStoreError | undefined;
  /** @internal Records replayed by the last open (tests check the restart bound). */
  replayedRecords = 0;

  private constructor(
    private readonly options: CommittedOffsetsOptions,
    private readonly settings: LogSettings,
    private log: PartitionLog,
    private generation: number,
  ) {}

  /**
   * Opens the offsets in `options.dir`: replays the current log, or migrates per-group JSON files.
   * @throws LogStoreError `CORRUPT_RECORD` when a record or a legacy file cannot be parsed.
   */
  static async open(options: CommittedOffsetsOptions): Promise<CommittedOffsets> {
    const { fs, dir } = options;
    const sync = options.fsync !== "never";
    const settings = resolveSettings(
      { segmentBytes: 16 * 1024 * 1024 },
      { fsync: sync ? "always" : "never", now: options.now },
      undefined,
      fs,
      options.handles,
    );
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      if (sync) await fsyncDir(fs, dirname(dir));
    }
    const names = fs.readdirSync(dir);
    for (const name of names) if (isTempFile(name)) fs.removeSync(join(dir, name));
    const current = names.includes(CURRENT) ? readCurrent(fs, join(dir, CURRENT)) : undefined;
    // Generations other than the current one are leftovers of a compaction or migration that stopped.
    for (const name of names) {
      const match = LOG_DIR.exec(name);
      if (match && Number(match[1]) !== current) fs.removeSync(join(dir, name));
    }
    const legacy = names.filter((name) => name.endsWith(".json"));
    if (current !== undefined) {
      // A migration that finished may not have removed every old file.
      for (const name of legacy) fs.removeSync(join(dir, name));
      const log = await PartitionLog.openDir(join(dir, logDirName(current)), settings);
      const store = new CommittedOffsets(options, settings, log, current);
      try {
        await store.replay();
      } catch (error) {
        await log.close();
        throw error;
      }
      return store;
    }
    // No log yet: a new store, or one in the old format (migrated here: the JSON files are deleted only once
    // the log that replaces them is durable and named by `current`).
    const state: Offsets = new Map();
    for (const name of legacy) readLegacyFile(fs, join(dir, name), state);
    const store = await CommittedOffsets.startGeneration(options, settings, 1, state);
    for (const name of legacy) fs.removeSync(join(dir, name));
    if (legacy.length > 0 && sync) await fsyncDir(fs, dir);
    for (const [group, topics] of state) store.offsets.set(group, topics);
    store.liveKeys = store.logRecords;
    return store;
  }

  /** Durably records `offsets` for the group, all or none, in one batch. */
  async commit(groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.append(
      offsets.map(({ topic, partition, offset }) => offsetRecord(groupId, topic, partition, offset)),
      () => {
        let topics = this.offsets.get(groupId);
        if (!topics) this.offsets.set(groupId, (topics = new Map()));
        for (const { topic, partition, offset } of offsets) {
          let partitions = topics.get(topic);
          if (!partitions) topics.set(topic, (partitions = new Map()));
          if (!partitions.has(partition)) this.liveKeys++;
          partitions.set(partition, offset);
        }
      },
    );
  }

  /** Durably forgets every offset of the group (a tombstone record). */
  deleteGroup(groupId: string): Promise<void> {
    return this.append([{ key: JSON.stringify(["g", groupId]), value: null }], () => this.dropGroup(groupId));
  }

  /** The group's durable offsets, sorted by topic and partition. */
  get(groupId: string): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    const topics = this.offsets.get(groupId);
    if (!topics) return out;
    for (const topic of [...topics.keys()].sort()) {
      const partitions = topics.get(topic)!;
      for (const partition of [...partitions.keys()].sort((a, b) => a - b)) out.push({ topic, partition, offset: partitions.get(partition)! });
    }
    return out;
  }

  /** Ids of the groups that have offsets. */
  groupIds(): string[] {
    return [...this.offsets.keys()];
  }

  /** Durably forgets every group's offsets for `topic` (when the topic is deleted). */
  removeTopic(topic: string): Promise<void> {
    return this.append([{ key: JSON.stringify(["t", topic]), value: null }], () => this.dropTopic(topic));
  }

  /** Waits for in-flight commits and any compaction, then closes the log. */
  async close(): Promise<void> {
    await this.compaction;
    await Promise.allSettled([...this.inFlight]);
    await this.log.close();
  }

  /** @internal Resolves once no compaction runs (tests). */
  async idle(): Promise<void> {
    while (this.compaction) await this.compaction;
  }

  private async append(records: RecordInput[], apply: () => void): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.waiting) await new Promise<void>((resolve) => this.waiting!.push(resolve));
    if (this.failure) throw this.failure;
    const appended = this.log.append(records);
    this.inFlight.add(appended);
    try {
      await appended;
    } catch (error) {
      if (isLogStoreError(error) && error.code !== "KAFKA_STORAGE_ERROR") throw error;
      throw new LogStoreError("KAFKA_STORAGE_ERROR", `cannot write committed offsets: ${(error as Error).message}`, { cause: error });
    } finally {
      this.inFlight.delete(appended);
    }
    apply();
    this.logRecords += records.length;
    this.maybeCompact();
  }

  private dropGroup(groupId: string): void {
    const topics = this.offsets.get(groupId);
    if (!topics) return;
    for (const partitions of topics.values()) this.liveKeys -= partitions.size;
    this.offsets.delete(groupId);
  }

  private dropTopic(topic: string): void {
    for (const [group, topics] of this.offsets) {
      const partitions = topics.get(topic);
      if (!partitions) continue;
      this.liveKeys -= partitions.size;
      topics.delete(topic);
      if (topics.size === 0) this.offsets.delete(group);
    }
  }

  private async replay(): Promise<void> {
    const log = this.log;
    let offset = log.logStartOffset;
    let replayed = 0;
    while (offset < log.highWatermark) {
      const { records, nextOffset } = await log.read(offset, { maxRecords: READ_CHUNK, maxBytes: 8 << 20 });
      for (const record of records) {
        replayed++;
        let key: unknown;
        try {
          key = JSON.parse(Buffer.from(record.key ?? new Uint8Array()).toString("utf8"));
        } catch {
          key = undefined;
        }
        const value = record.value === null ? null : Buffer.from(record.value).toString("utf8");
        if (!this.applyRecord(key, value)) {
          throw new LogStoreError("CORRUPT_RECORD", `committed offsets log ${log.dir} has an invalid record at offset ${record.offset}`);
        }
      }
      if (nextOffset === offset) break;
      offset = nextOffset;
    }
    this.replayedRecords = replayed;
    this.logRecords = replayed;
  }

  /** Applies one replayed record; `false` when it is not a valid record. */
  private applyRecord(key: unknown, value: string | null): boolean {
    if (!Array.isArray(key)) return false;
    const [kind, a, b, c] = key as unknown[];
    if (kind === "o" && typeof a === "string" && typeof b === "string" && Number.isSafeInteger(c) && value !== null && /^\d+$/.test(value)) {
      let topics = this.offsets.get(a);
      if (!topics) this.offsets.set(a, (topics = new Map()));
      let partitions = topics.get(b);
      if (!partitions) topics.set(b, (partitions = new Map()));
      if (!partitions.has(c as number)) this.liveKeys++;
      partitions.set(c as number, Number(value));
      return true;
    }
    if (kind === "g" && typeof a === "string" && value === null) return (this.dropGroup(a), true);
    if (kind === "t" && typeof a === "string" && value === null) return (this.dropTopic(a), true);
    return false;
  }

  private maybeCompact(): void {
    const threshold = Math.max(this.options.compactMinRecords ?? DEFAULT_COMPACT_MIN_RECORDS, 2 * this.liveKeys, this.compactAfter);
    if (this.compaction || this.failure || this.logRecords <= threshold) return;
    this.compaction = this.compact().finally(() => (this.compaction = undefined));
  }

  /**
   * Writes the live state to the next generation and switches to it. Commits that arrive meanwhile wait (in
   * call order) and go to the new log. A failure before `current` is replaced leaves the old log in charge;
   * a failure while replacing it leaves unknown which log a restart would read, so commits are refused.
   */
  private async compact(): Promise<void> {
    this.waiting = [];
    const old = this.log;
    const oldGeneration = this.generation;
    let switched = false;
    try {
      await Promise.allSettled([...this.inFlight]);
      if (this.failure) return;
      const next = await CommittedOffsets.startGeneration(this.options, this.settings, oldGeneration + 1, this.offsets);
      this.log = next.log;
      this.generation = next.generation;
      this.logRecords = next.logRecords;
      switched = true;
    } catch (error) {
      if (error instanceof SwitchError) {
        this.failure = new LogStoreError(
          "KAFKA_STORAGE_ERROR",
          `cannot switch the committed offsets log, commits are refused until the store is reopened: ${error.message}`,
          { cause: error.cause },
        );
      } else {
        // Nothing changed on disk that matters: retry once the log has grown as much again.
        this.compactAfter = this.logRecords * 2;
      }
    } finally {
      const waiting = this.waiting ?? [];
      this.waiting = undefined;
      for (const resume of waiting) resume();
    }
    if (!switched) return;
    await old.close();
    await this.options.fs.remove(join(this.options.dir, logDirName(oldGeneration))).catch(() => undefined);
  }

  /**
   * Creates generation `generation` holding `state`, makes it durable, and names it in `current`.
   * A failure before `current` could change is thrown as is, after removing the new generation; a failure
   * while replacing `current` is thrown as a {@link SwitchError}.
   */
  private static async startGeneration(
    options: CommittedOffsetsOptions,
    settings: LogSettings,
    generation: number,
    state: Offsets,
  ): Promise<CommittedOffsets> {
    const { fs, dir } = options;
    const sync = options.fsync !== "never";
    const logDir = join(dir, logDirName(generation));
    fs.removeSync(logDir);
    fs.mkdirSync(logDir);
    let log: PartitionLog | undefined;
    let records = 0;
    try {
      log = await PartitionLog.openDir(logDir, settings);
      const batches: Array<Promise<unknown>> = [];
      let batch: RecordInput[] = [];
      for (const [group, topics] of state) {
        for (const [topic, partitions] of topics) {
          for (const [partition, offset] of partitions) {
            batch.push(offsetRecord(group, topic, partition, offset));
            if (batch.length === SNAPSHOT_BATCH) (batches.push(log.append(batch)), (batch = []));
          }
        }
      }
      if (batch.length > 0) batches.push(log.append(batch));
      records = log.logEndOffset;
      // Settle every batch before looking at failures: the first failure must not leave appends running.
      const results = await Promise.allSettled(batches);
      for (const result of results) if (result.status === "rejected") throw result.reason;
      await log.flush();
      if (sync) await fsyncDir(fs, dir); // the new log-<n> entry
      // Name it in `current`: temp file first (a failure there changes nothing), then the rename.
      const tmp = join(dir, `~tmp~current-${generation}`);
      const fd = fs.openSync(tmp, "w");
      try {
        writeFully(fs, fd, Buffer.from(`${generation}\n`), 0);
        if (sync) await fs.fsync(fd);
      } finally {
        fs.closeSync(fd);
      }
      try {
        fs.renameSync(tmp, join(dir, CURRENT));
        if (sync) await fsyncDir(fs, dir);
      } catch (error) {
        // Whether `current` names the old or the new generation after a crash is now unknown.
        await log.close().catch(() => undefined);
        throw new SwitchError(error);
      }
    } catch (error) {
      if (error instanceof SwitchError) throw error;
      await log?.close().catch(() => undefined);
      fs.removeSync(join(dir, `~tmp~current-${generation}`));
      fs.removeSync(logDir);
      throw error;
    }
    const store = new CommittedOffsets(options, settings, log, generation);
    store.logRecords = records;
    return store;
  }
}

/** A failure at the step that replaces `current` (see {@link CommittedOffsets.startGeneration}). */
class SwitchError extends Error {
  constructor(cause: unknown) {
    super((cause as Error)?.message ?? String(cause), { cause });
  }
}

function readCurrent(fs: FileSystem, path: string): number {
  const content = fs.readFileSync(path).toString("utf8").trim();
  if (!/^\d+$/.test(content)) throw new LogStoreError("CORRUPT_RECORD", `committed offsets pointer ${path} is not valid: ${JSON.stringify(content)}`);
  return Number(content);
}

/** Adds a group file of the format before the offsets log (`{ groupId, offsets: [[topic, partition, offset]] }`). */
function readLegacyFile(fs: FileSystem, path: string, into: Offsets): void {
  let parsed: { groupId?: unknown; offsets?: unknown };
  try {
    parsed = JSON.parse(fs.readFileSync(path).toString("utf8"));
  } catch (error) {
    throw new LogStoreError("CORRUPT_RECORD", `committed offsets file ${path} is unreadable: ${(error as Error).message}`, { cause: error });
  }
  if (typeof parsed.groupId !== "string" || !Array.isArray(parsed.offsets))
    throw new LogStoreError("CORRUPT_RECORD", `committed offsets file ${path} is not valid`);
  const topics = new Map<string, Map<number, number>>();
  for (const entry of parsed.offsets as unknown[]) {
    const [topic, partition, offset] = Array.isArray(entry) ? entry : [];
    if (typeof topic !== "string" || !Number.isSafeInteger(partition) || !Number.isSafeInteger(offset)) {
      throw new LogStoreError("CORRUPT_RECORD", `committed offsets file ${path} has an invalid entry ${JSON.stringify(entry)}`);
    }
    let partitions = topics.get(topic);
    if (!partitions) topics.set(topic, (partitions = new Map()));
    partitions.set(partition as number, offset as number);
  }
  if (topics.size > 0) into.set(parsed.groupId, topics);
}
