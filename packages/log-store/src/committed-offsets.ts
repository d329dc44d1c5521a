import { Buffer } from "node:buffer";
import { dirname, join } from "node:path";
import { crc32c } from "./crc32c.js";
import { LogStoreError, isLogStoreError } from "./errors.js";
import type { FileSystem } from "./file-system.js";
import { errnoCode, fsyncDir, isTempFile, writeFully } from "./fs-utils.js";
import { HandleCache, type FileHandle } from "./handle-cache.js";
import { PartitionLog } from "./partition-log.js";
import { resolveSettings } from "./settings.js";
import type { FsyncPolicy, TopicPartitionOffset } from "./types.js";

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

/** One record of the log (see {@link OffsetsFile} for the encoding). */
type Entry = readonly ["o", string, string, number, number] | readonly ["g", string] | readonly ["t", string];

/** The file naming the generation that holds the current offsets log. */
const CURRENT = "current";
/** A generation's log file (this format) and directory (the previous format: a partition log). */
const LOG_FILE = /^offsets-(\d+)\.log$/;
const LOG_DIR = /^log-(\d+)$/;
/** What `current` holds in this format: the log file's name (the previous format held a bare number). */
const CURRENT_FILE = /^offsets-(\d+)\.log$/;
/** Entries per frame when a whole state is written (migration, compaction). */
const SNAPSHOT_FRAME = 2000;
const DEFAULT_COMPACT_MIN_RECORDS = 10_000;
const READ_CHUNK = 10_000;

const logFileName = (generation: number): string => `offsets-${generation}.log`;
const logDirName = (generation: number): string => `log-${generation}`;

/** A group commit: frames written together and made durable by one fdatasync. */
interface PendingCommit {
  frame: Buffer;
  records: number;
  apply: () => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Committed consumer-group offsets as an append-only internal log (Kafka's `__consumer_offsets` idea), in
 * `<dataDir>/__offsets/offsets-<generation>.log`, a file of checksummed frames (see {@link OffsetsFile}).
 *
 * - A commit request appends one frame (one record per partition): all or nothing, even across a crash, since
 *   a torn frame fails its checksum and recovery cuts it. It resolves once that frame is fdatasynced. Commits
 *   of all groups are group-committed: the frames that arrive while a round is being made durable are written
 *   together (one write) by the next round, and made durable by its one fdatasync.
 * - The file is preallocated (zeros written and made durable ahead of the frames), so a round's fdatasync
 *   flushes data only: no file-size change, no file system journal commit, about half the time and CPU of an
 *   fdatasync of an appended file on ext4.
 * - The latest offset per (group, topic, partition) is kept in memory; reads never touch the disk.
 * - When the log holds more than `compactMinRecords` records and more than twice the live keys, the live state
 *   is written to a new generation, which `current` then names (atomically); so a restart replays at most about
 *   `max(compactMinRecords, 2 × live keys)` records. Commits wait while the switch happens.
 * - Older formats are migrated on open: the partition log of the previous version (`log-<generation>/`) and,
 *   before it, one JSON file per group (named by a hash of the group id).
 */
export class CommittedOffsets {
  private readonly offsets: Offsets = new Map();
  private liveKeys = 0;
  /** Records in the current generation's log. */
  private logRecords = 0;
  /** Commits waiting for the next round, in call order. */
  private pending: PendingCommit[] = [];
  /** A round is being written or made durable. */
  private running = false;
  /** A round is scheduled for the next turn of the event loop. */
  private scheduled = false;
  /** Resolved once no round runs and none is pending (compaction and close wait for it). */
  private idleWaiters: Array<() => void> = [];
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
    private file: OffsetsFile,
    private generation: number,
  ) {}

  /**
   * Opens the offsets in `options.dir`: replays the current log, or migrates a log or per-group JSON files
   * of an older format.
   * @throws LogStoreError `CORRUPT_RECORD` when a record or a legacy file cannot be parsed.
   */
  static async open(options: CommittedOffsetsOptions): Promise<CommittedOffsets> {
    const { fs, dir } = options;
    const sync = options.fsync !== "never";
    const handles = (options.handles ??= new HandleCache(fs));
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      if (sync) await fsyncDir(fs, dirname(dir));
    }
    const names = fs.readdirSync(dir);
    for (const name of names) if (isTempFile(name)) fs.removeSync(join(dir, name));
    const current = names.includes(CURRENT) ? readCurrent(fs, join(dir, CURRENT)) : undefined;
    // Generations other than the current one are leftovers of a compaction or migration that stopped.
    for (const name of names) {
      const file = LOG_FILE.exec(name);
      const old = LOG_DIR.exec(name);
      if (file && !(current?.format === "file" && Number(file[1]) === current.generation)) fs.removeSync(join(dir, name));
      if (old && !(current?.format === "dir" && Number(old[1]) === current.generation)) fs.removeSync(join(dir, name));
    }
    const legacy = names.filter((name) => name.endsWith(".json"));
    if (current !== undefined) {
      // A migration that finished may not have removed every old file.
      for (const name of legacy) fs.removeSync(join(dir, name));
    }
    if (current?.format === "file") {
      const state: Offsets = new Map();
      const replay = new Replay(state);
      const file = await OffsetsFile.open(handles, join(dir, logFileName(current.generation)), sync, (payload, at) => replay.frame(payload, at));
      const store = new CommittedOffsets(options, file, current.generation);
      store.adopt(state, replay.records, replay.liveKeys());
      return store;
    }
    // No log of this format yet: a new store, or one in an older format (migrated here: the old log or files
    // are deleted only once the log that replaces them is durable and named by `current`).
    const state: Offsets = new Map();
    let records = 0;
    if (current?.format === "dir") records = await replayPartitionLog(options, join(dir, logDirName(current.generation)), state);
    else for (const name of legacy) readLegacyFile(fs, join(dir, name), state);
    const generation = (current?.generation ?? 0) + 1;
    const file = await CommittedOffsets.startGeneration(options, generation, state);
    if (current?.format === "dir") fs.removeSync(join(dir, logDirName(current.generation)));
    for (const name of legacy) fs.removeSync(join(dir, name));
    if ((legacy.length > 0 || current !== undefined) && sync) await fsyncDir(fs, dir);
    const store = new CommittedOffsets(options, file, generation);
    const live = countKeys(state);
    store.adopt(state, live, live);
    store.replayedRecords = records;
    return store;
  }

  /** Durably records `offsets` for the group, all or none, in one frame. */
  async commit(groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const entries: Entry[] = offsets.map(({ topic, partition, offset }) => ["o", groupId, topic, partition, offset] as const);
    await this.append(entries, () => {
      let topics = this.offsets.get(groupId);
      if (!topics) this.offsets.set(groupId, (topics = new Map()));
      for (const { topic, partition, offset } of offsets) {
        let partitions = topics.get(topic);
        if (!partitions) topics.set(topic, (partitions = new Map()));
        if (!partitions.has(partition)) this.liveKeys++;
        partitions.set(partition, offset);
      }
    });
  }

  /** Durably forgets every offset of the group (a tombstone record). */
  deleteGroup(groupId: string): Promise<void> {
    return this.append([["g", groupId]], () => dropGroup(this.offsets, groupId, this));
  }

  /** The group's durable offsets, sorted by topic and partition. */
  get(groupId: string): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    const topics = this.offsets.get(groupId);
    if (!topics) return out;
    // One topic of one partition (a consumer's usual case): nothing to sort.
    if (topics.size === 1) {
      const [topic, partitions] = topics.entries().next().value!;
      if (partitions.size === 1) {
        const [partition, offset] = partitions.entries().next().value!;
        out.push({ topic, partition, offset });
        return out;
      }
    }
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
    return this.append([["t", topic]], () => dropTopic(this.offsets, topic, this));
  }

  /** Waits for pending commits and any compaction, then closes the log. */
  async close(): Promise<void> {
    await this.compaction;
    await this.roundsIdle();
    this.file.close();
  }

  /** @internal Resolves once no compaction runs (tests). */
  async idle(): Promise<void> {
    while (this.compaction) await this.compaction;
  }

  /** @internal Live-key bookkeeping for {@link dropGroup} / {@link dropTopic}. */
  forgot(keys: number): void {
    this.liveKeys -= keys;
  }

  private adopt(state: Offsets, records: number, liveKeys: number): void {
    for (const [group, topics] of state) this.offsets.set(group, topics);
    this.logRecords = records;
    this.liveKeys = liveKeys;
    this.replayedRecords = records;
  }

  private async append(entries: Entry[], apply: () => void): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.waiting) await new Promise<void>((resolve) => this.waiting!.push(resolve));
    if (this.failure) throw this.failure;
    const frame = encodeFrame(entries);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ frame, records: entries.length, apply, resolve, reject });
      if (this.running || this.scheduled) return;
      // Start an idle round on the next turn of the event loop, not now: every commit made in this turn
      // (typically the consumers that the previous round just answered) then shares its write and fsync.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.runRounds();
      });
    });
  }

  /**
   * Group commit: one round writes every pending frame (one write) and fdatasyncs the file once, then
   * applies and resolves them in call order. Commits that arrive meanwhile wait for the next round, which
   * starts as soon as this one ends.
   */
  private async runRounds(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.length > 0) {
        const round = this.pending;
        this.pending = [];
        if (this.failure) {
          for (const commit of round) commit.reject(this.failure);
          continue;
        }
        try {
          this.file.write(round.length === 1 ? round[0]!.frame : Buffer.concat(round.map((c) => c.frame)));
          await this.file.sync();
        } catch (error) {
          const failure = this.roundFailed(error);
          for (const commit of round) commit.reject(failure);
          continue;
        }
        for (const commit of round) {
          commit.apply();
          this.logRecords += commit.records;
        }
        for (const commit of round) commit.resolve();
        this.maybeCompact();
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resume of waiters) resume();
    }
  }

  /**
   * A round failed. A full disk before any frame byte was written (while growing the file) is retriable and
   * changes nothing; anything else leaves unknown what reached the disk, so commits are refused until the
   * store is reopened (recovery cuts what is not whole).
   */
  private roundFailed(error: unknown): LogStoreError {
    if (isLogStoreError(error) && error.code === "DISK_FULL") return error;
    this.failure ??= new LogStoreError(
      "KAFKA_STORAGE_ERROR",
      `cannot write committed offsets, commits are refused until the store is reopened: ${(error as Error).message}`,
      { cause: error },
    );
    return this.failure;
  }

  /** Resolves once no round runs or is pending. */
  private roundsIdle(): Promise<void> {
    if (!this.running && !this.scheduled && this.pending.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve)).then(() => this.roundsIdle());
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
    const old = this.file;
    const oldGeneration = this.generation;
    let switched = false;
    try {
      await this.roundsIdle();
      if (this.failure) return;
      this.file = await CommittedOffsets.startGeneration(this.options, oldGeneration + 1, this.offsets);
      this.generation = oldGeneration + 1;
      this.logRecords = this.liveKeys;
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
    old.close();
    await this.options.fs.remove(join(this.options.dir, logFileName(oldGeneration))).catch(() => undefined);
  }

  /**
   * Creates generation `generation` holding `state`, makes it durable, and names it in `current`.
   * A failure before `current` could change is thrown as is, after removing the new generation; a failure
   * while replacing `current` is thrown as a {@link SwitchError}.
   */
  private static async startGeneration(options: CommittedOffsetsOptions, generation: number, state: Offsets): Promise<OffsetsFile> {
    const { fs, dir } = options;
    const sync = options.fsync !== "never";
    const path = join(dir, logFileName(generation));
    fs.removeSync(path);
    let file: OffsetsFile | undefined;
    try {
      file = OffsetsFile.create(options.handles ?? new HandleCache(fs), path, sync);
      let entries: Entry[] = [];
      for (const [group, topics] of state) {
        for (const [topic, partitions] of topics) {
          for (const [partition, offset] of partitions) {
            entries.push(["o", group, topic, partition, offset]);
            if (entries.length === SNAPSHOT_FRAME) (file.write(encodeFrame(entries)), (entries = []));
          }
        }
      }
      if (entries.length > 0) file.write(encodeFrame(entries));
      await file.sync();
      if (sync) await fsyncDir(fs, dir); // the new file's entry
      // Name it in `current`: temp file first (a failure there changes nothing), then the rename.
      const tmp = join(dir, `~tmp~current-${generation}`);
      const fd = fs.openSync(tmp, "w");
      try {
        writeFully(fs, fd, Buffer.from(`${logFileName(generation)}\n`), 0);
        if (sync) await fs.fsync(fd);
      } finally {
        fs.closeSync(fd);
      }
      try {
        fs.renameSync(tmp, join(dir, CURRENT));
        if (sync) await fsyncDir(fs, dir);
      } catch (error) {
        // Whether `current` names the old or the new generation after a crash is now unknown.
        file.close();
        throw new SwitchError(error);
      }
    } catch (error) {
      if (error instanceof SwitchError) throw error;
      try {
        file?.close();
      } catch {
        // Closing is best effort here: the file is removed anyway.
      }
      fs.removeSync(join(dir, `~tmp~current-${generation}`));
      fs.removeSync(path);
      throw error;
    }
    return file;
  }
}

/** Removes the group's offsets from `offsets`, telling `store` how many keys went. */
function dropGroup(offsets: Offsets, groupId: string, store?: { forgot(keys: number): void }): void {
  const topics = offsets.get(groupId);
  if (!topics) return;
  let keys = 0;
  for (const partitions of topics.values()) keys += partitions.size;
  offsets.delete(groupId);
  store?.forgot(keys);
}

/** Removes every group's offsets for `topic` from `offsets`, telling `store` how many keys went. */
function dropTopic(offsets: Offsets, topic: string, store?: { forgot(keys: number): void }): void {
  let keys = 0;
  for (const [group, topics] of offsets) {
    const partitions = topics.get(topic);
    if (!partitions) continue;
    keys += partitions.size;
    topics.delete(topic);
    if (topics.size === 0) offsets.delete(group);
  }
  store?.forgot(keys);
}

function countKeys(state: Offsets): number {
  let keys = 0;
  for (const topics of state.values()) for (const partitions of topics.values()) keys += partitions.size;
  return keys;
}

/** Applies one record to `state`; `false` when it is not a valid record. */
function applyEntry(state: Offsets, entry: unknown): boolean {
  if (!Array.isArray(entry)) return false;
  const [kind, a, b, c, d] = entry as unknown[];
  if (kind === "o" && typeof a === "string" && typeof b === "string" && Number.isSafeInteger(c) && Number.isSafeInteger(d) && (d as number) >= 0) {
    let topics = state.get(a);
    if (!topics) state.set(a, (topics = new Map()));
    let partitions = topics.get(b);
    if (!partitions) topics.set(b, (partitions = new Map()));
    partitions.set(c as number, d as number);
    return true;
  }
  if (kind === "g" && typeof a === "string" && entry.length === 2) return (dropGroup(state, a), true);
  if (kind === "t" && typeof a === "string" && entry.length === 2) return (dropTopic(state, a), true);
  return false;
}

/** Replays frames of this format into a state. */
class Replay {
  records = 0;
  constructor(private readonly state: Offsets) {}

  frame(payload: Buffer, where: string): void {
    let entries: unknown;
    try {
      entries = JSON.parse(payload.toString("utf8"));
    } catch {
      entries = undefined;
    }
    if (!Array.isArray(entries)) throw new LogStoreError("CORRUPT_RECORD", `committed offsets log ${where} holds an invalid frame`);
    for (const entry of entries) {
      if (!applyEntry(this.state, entry)) throw new LogStoreError("CORRUPT_RECORD", `committed offsets log ${where} holds an invalid record`);
      this.records++;
    }
  }

  liveKeys(): number {
    return countKeys(this.state);
  }
}

/**
 * Reads a log of the previous format (a partition log of records keyed `["o", group, topic, partition]`
 * with the offset in decimal, `["g", group]` and `["t", topic]` tombstones) into `state`; returns the
 * number of records.
 */
async function replayPartitionLog(options: CommittedOffsetsOptions, logDir: string, state: Offsets): Promise<number> {
  const settings = resolveSettings({ segmentBytes: 16 * 1024 * 1024 }, { fsync: "never", now: options.now }, undefined, options.fs, options.handles);
  const log = await PartitionLog.openDir(logDir, settings);
  let replayed = 0;
  try {
    let offset = log.logStartOffset;
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
        let entry: unknown;
        if (Array.isArray(key) && key[0] === "o" && key.length === 4 && value !== null && /^\d+$/.test(value)) entry = [...key, Number(value)];
        else if (Array.isArray(key) && (key[0] === "g" || key[0] === "t") && key.length === 2 && value === null) entry = key;
        if (!applyEntry(state, entry)) {
          throw new LogStoreError("CORRUPT_RECORD", `committed offsets log ${logDir} has an invalid record at offset ${record.offset}`);
        }
      }
      if (nextOffset === offset) break;
      offset = nextOffset;
    }
  } finally {
    await log.close();
  }
  return replayed;
}

/** Frame header: magic, payload length, CRC-32C of the payload. */
const FRAME_HEADER = 12;
/** Starts with 0xff, a byte UTF-8 text never holds: a frame header cannot be mistaken for payload. */
const FRAME_MAGIC = 0xff6d6b6f;
/** The file grows by this much at a time, zeros written ahead of the frames. */
const GROW_BYTES = 64 * 1024;
let zeros: Buffer | undefined;

/** One commit request's records as a frame: header, then the records as a JSON array. */
function encodeFrame(entries: readonly Entry[]): Buffer {
  const json = JSON.stringify(entries);
  const length = Buffer.byteLength(json);
  const frame = Buffer.allocUnsafe(FRAME_HEADER + length);
  frame.write(json, FRAME_HEADER, "utf8");
  frame.writeUInt32BE(FRAME_MAGIC, 0);
  frame.writeUInt32BE(length, 4);
  frame.writeUInt32BE(crc32c(frame, FRAME_HEADER, FRAME_HEADER + length), 8);
  return frame;
}

/**
 * An offsets log file: frames (`magic`, payload length and CRC-32C, 4 bytes each, big-endian; then the
 * payload, a JSON array of records) from the start of the file, followed by zeros. The file grows
 * {@link GROW_BYTES} at a time by writing zeros past its end in the same write-then-fdatasync round as the
 * frames that need the room, so most rounds overwrite zeros the disk already holds, and their fdatasync has
 * no file size to commit. Recovery reads frames up to the first that is not whole (torn, zeros, or what a
 * crash left of a write that was never acknowledged), and zeros whatever follows it before anything is
 * written again: a later frame written over a shorter hole must not make stale bytes past it look valid.
 */
class OffsetsFile {
  private constructor(
    private readonly fs: FileSystem,
    private readonly handle: FileHandle,
    /** Where the next frame goes: everything before it is whole frames. */
    private end: number,
    /** Bytes of the file known to be frames or zeros. */
    private allocated: number,
    private readonly durable: boolean,
  ) {}

  /** The file's path. */
  get path(): string {
    return this.handle.path;
  }

  /** A new, empty file (`path` must not exist), its descriptor from `handles`. */
  static create(handles: HandleCache, path: string, sync: boolean): OffsetsFile {
    return new OffsetsFile(handles.fs, handles.file(path, "r+", "wx+"), 0, 0, sync);
  }

  /**
   * Opens `path`, calling `onFrame` for every whole frame in order, and makes what follows the last one zeros.
   * @throws LogStoreError `CORRUPT_RECORD` from `onFrame`
   */
  static async open(handles: HandleCache, path: string, sync: boolean, onFrame: (payload: Buffer, where: string) => void): Promise<OffsetsFile> {
    const data = handles.fs.readFileSync(path);
    let end = 0;
    while (end + FRAME_HEADER <= data.length && data.readUInt32BE(end) === FRAME_MAGIC) {
      const length = data.readUInt32BE(end + 4);
      const stop = end + FRAME_HEADER + length;
      if (stop > data.length || crc32c(data, end + FRAME_HEADER, stop) !== data.readUInt32BE(end + 8)) break;
      onFrame(data.subarray(end + FRAME_HEADER, stop), `${path} at byte ${end}`);
      end = stop;
    }
    const file = new OffsetsFile(handles.fs, handles.file(path, "r+"), end, data.length, sync);
    let dirty = false;
    for (let i = end; i < data.length && !dirty; i++) dirty = data[i] !== 0;
    if (dirty) {
      // What a crash left past the last whole frame: zeros over it, durably, before any new frame.
      file.handle.use((fd) => {
        for (let at = end; at < data.length; at += GROW_BYTES) writeFully(file.fs, fd, zeroes(Math.min(GROW_BYTES, data.length - at)), at);
      });
      await file.sync();
    }
    return file;
  }

  /**
   * Writes `bytes` (whole frames) after the last frame, growing the file with zeros first if they do not
   * fit. Synchronous: frames land in call order.
   * @throws LogStoreError `DISK_FULL` when the file cannot grow (nothing of `bytes` was written); the
   *   file system's error when the write fails.
   */
  write(bytes: Buffer): void {
    const need = this.end + bytes.length;
    this.handle.use((fd) => {
      if (need > this.allocated) {
        const grown = Math.ceil(need / GROW_BYTES) * GROW_BYTES;
        try {
          for (let at = this.allocated; at < grown; at += GROW_BYTES) writeFully(this.fs, fd, zeroes(Math.min(GROW_BYTES, grown - at)), at);
        } catch (error) {
          if (errnoCode(error) === "ENOSPC") {
            throw new LogStoreError(
              "DISK_FULL",
              `committed offsets log ${this.path}: no space left on the disk; the commit was not stored, retry once space is freed`,
              { cause: error },
            );
          }
          throw error;
        }
        this.allocated = grown;
      }
      writeFully(this.fs, fd, bytes, this.end);
    });
    this.end = need;
  }

  /**
   * Makes everything written so far durable (nothing to do with fsync `"never"`): one fdatasync, through a
   * descriptor reopened if the cache closed the one that wrote (see {@link HandleCache} on why that is
   * durable on Linux).
   */
  sync(): Promise<void> {
    return this.durable ? this.handle.useAsync((fd) => this.fs.fdatasync(fd)) : Promise.resolve();
  }

  /** Gives the descriptor back (no fsync: every acknowledged frame was synced). */
  close(): void {
    this.handle.close();
  }
}

function zeroes(length: number): Buffer {
  zeros ??= Buffer.alloc(GROW_BYTES);
  return length === GROW_BYTES ? zeros : zeros.subarray(0, length);
}

/** A failure at the step that replaces `current` (see {@link CommittedOffsets.startGeneration}). */
class SwitchError extends Error {
  constructor(cause: unknown) {
    super((cause as Error)?.message ?? String(cause), { cause });
  }
}

/** What `current` names: a log file of this format, or a partition log directory of the previous one. */
function readCurrent(fs: FileSystem, path: string): { format: "file" | "dir"; generation: number } {
  const content = fs.readFileSync(path).toString("utf8").trim();
  const file = CURRENT_FILE.exec(content);
  if (file) return { format: "file", generation: Number(file[1]) };
  if (/^\d+$/.test(content)) return { format: "dir", generation: Number(content) };
  throw new LogStoreError("CORRUPT_RECORD", `committed offsets pointer ${path} is not valid: ${JSON.stringify(content)}`);
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
