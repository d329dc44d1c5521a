import { join } from "node:path";
import { Buffer } from "node:buffer";
import { crc32c } from "./crc32c.js";
import { LogStoreError } from "./errors.js";
import type { FileSystem } from "./file-system.js";
import { errnoCode, fsyncDir } from "./fs-utils.js";
import type { LogStoreMetrics } from "./types.js";

/** What the journal needs from a partition log (implemented by PartitionLog). */
export interface JournalLog {
  /** Names the log in journal entries: `<topic>/<partition>` in UTF-8. */
  journalKey: Buffer;
  /** The round the log last added an entry to (the journal's bookkeeping, one field per log). */
  journalRound: unknown;
  /**
   * A round holding entries of this log is about to be written: the log adds what it has not added yet
   * ({@link Journal.write}); everything it appended so far is then in the round.
   */
  journalRoundStart(): void;
  /** That round is durable. */
  journalRoundDone(): void;
  /**
   * That round failed. `givenBack`: nothing of it reached the journal (a full disk), the log takes back
   * what it appended since its last durable round; otherwise the log must refuse writes from now on.
   */
  journalRoundFailed(error: LogStoreError, givenBack: boolean): void;
  /** Writes the durable part of the in-memory tail to the segment files; with `sync`, fdatasyncs them. */
  writeBack(sync: boolean): Promise<void>;
  /** Applies a batch found in the journal at recovery (skipped when the segments hold it already). */
  replayBatch(buf: Buffer, pos: number, size: number, where: string): void;
}

/** Options of a {@link Journal} (internal knobs: tests make them small so that every path runs often). */
export interface JournalOptions {
  /** Size of a journal file after which it is rotated and trimmed by a checkpoint (default 64 MiB). */
  journalBytes?: number | undefined;
  /** In-memory tail bytes (of all partitions) past which segment files are written in the background (default 8 MiB). */
  writeBackBytes?: number | undefined;
}

interface JournalFile {
  seq: number;
  path: string;
  fd: number | undefined;
  size: number;
}

interface Round {
  file: JournalFile;
  logs: JournalLog[];
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Frame header: magic, body length, CRC-32C of the body. */
const FRAME_HEADER = 12;
const MAGIC = 0x6d6b6a31; // "mkj1"
/** Entry header: entry length (after this field), key length. */
const ENTRY_HEADER = 6;
const DEFAULT_JOURNAL_BYTES = 64 * 1024 * 1024;
/** Partitions a checkpoint writes back and fdatasyncs concurrently. */
const CHECKPOINT_SYNCS_AT_ONCE = 2;
const DEFAULT_WRITE_BACK_BYTES = 8 * 1024 * 1024;

const journalFileName = (seq: number): string => `${String(seq).padStart(20, "0")}.journal`;
const parseJournalFileName = (name: string): number | undefined => {
  const match = /^(\d{20})\.journal$/.exec(name);
  return match ? Number(match[1]) : undefined;
};

/**
 * The store-wide write-ahead journal of `fsync: "always"` (BookKeeper's journal, a database's WAL): every
 * append of every partition is copied into the current round, and one round is one `writeSync` and one
 * `fdatasync` of the journal file, whatever the number of partitions it covers (group commit across the
 * store). Partition segments are written later, in the background and in big pieces, without an fsync of
 * their own on the hot path; the partition keeps what it has not written yet in memory and serves reads
 * from there. A checkpoint (when the journal file reaches `journalBytes`, on topic deletion, on close)
 * rotates to a new journal file, writes and fdatasyncs every partition written since, then deletes the old
 * journal files. After a crash, {@link Journal.recover} replays the journal into the segments.
 *
 * File format: frames `[magic u32][body length u32][crc32c(body) u32][body]`, one per round; a body is
 * entries `[length u32][key length u16][key][record batch]`. A frame that is torn or fails its checksum
 * ends the journal (its round was never acknowledged).
 */
export class Journal {
  private buf = Buffer.allocUnsafe(1 << 20);
  private len = FRAME_HEADER;
  private open: Round | undefined;
  private running: Round | undefined;
  private scheduled = false;
  private current: JournalFile;
  private readonly files: JournalFile[] = [];
  private readonly dirty = new Set<JournalLog>();
  private failure: LogStoreError | undefined;
  private checkpointing: Promise<void> | undefined;
  private writingBack = false;
  private closed = false;
  /** Bytes appended to partitions and not yet written to their segment files (approximate). */
  tailBytes = 0;
  private readonly journalBytes: number;
  private readonly writeBackBytes: number;

  constructor(
    private readonly fs: FileSystem,
    /** The journal's directory (`<dataDir>/__journal`). */
    readonly dir: string,
    private readonly metrics: LogStoreMetrics,
    options: JournalOptions = {},
  ) {
    this.journalBytes = options.journalBytes ?? DEFAULT_JOURNAL_BYTES;
    this.writeBackBytes = options.writeBackBytes ?? DEFAULT_WRITE_BACK_BYTES;
    this.current = { seq: 1, path: join(dir, journalFileName(1)), fd: undefined, size: 0 };
  }

  /**
   * Adds `batch` of `log` to the current round; resolves once the round is durable. Synchronous up to the
   * copy, so that entries of one log are in the journal in the order of their offsets.
   * @throws LogStoreError `KAFKA_STORAGE_ERROR` once the journal has failed
   */
  add(log: JournalLog, batch: Buffer): Promise<void> {
    const durable = this.join(log);
    this.write(log, batch);
    return durable;
  }

  /**
   * Makes `log` part of the current round (opening one) without adding anything yet; resolves once the
   * round is durable. The log adds its entries with {@link write} before the round starts, at the latest
   * in its {@link JournalLog.journalRoundStart} (a batch built from several appends).
   * @throws LogStoreError `KAFKA_STORAGE_ERROR` once the journal has failed
   */
  join(log: JournalLog): Promise<void> {
    if (this.failure) throw this.failure;
    let round = this.open;
    if (round === undefined) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      round = this.open = { file: this.current, logs: [], promise, resolve, reject };
      this.schedule();
    }
    if (log.journalRound !== round) {
      log.journalRound = round;
      round.logs.push(log);
    }
    return round.promise;
  }

  /**
   * Copies the batch `bytes[start, end)` of `log` into the round it {@link join}ed, which has not started
   * writing yet (or is starting: from {@link JournalLog.journalRoundStart}).
   */
  write(log: JournalLog, bytes: Buffer, start = 0, end = bytes.length): void {
    const key = log.journalKey;
    const length = end - start;
    const need = ENTRY_HEADER + key.length + length;
    if (this.len + need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + need));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    const buf = this.buf;
    let at = this.len;
    buf.writeUInt32BE(need - 4, at);
    buf.writeUInt16BE(key.length, at + 4);
    at += ENTRY_HEADER;
    key.copy(buf, at);
    at += key.length;
    bytes.copy(buf, at, start, end);
    this.len = at + length;
    this.tailBytes += length;
    this.dirty.add(log);
  }

  /** Resolves once everything `log` added so far is durable (rejects if that failed). */
  flushed(log: JournalLog): Promise<void> {
    const round = log.journalRound;
    // (A log that added nothing yet has no round: `undefined` must not match an idle journal's.)
    if (round !== undefined && (round === this.open || round === this.running)) return (round as Round).promise;
    return this.failure ? Promise.reject(this.failure) : Promise.resolve();
  }

  /** A log that is closed and written back holds nothing the journal still needs. */
  forget(log: JournalLog): void {
    this.dirty.delete(log);
  }

  /** A log wrote `bytes` of its tail to its segment files (or gave them back). */
  released(bytes: number): void {
    this.tailBytes = Math.max(0, this.tailBytes - bytes);
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // On the next turn of the event loop: every append made in this turn (typically by the producers the
    // previous round just woke up) joins the round.
    setImmediate(() => {
      this.scheduled = false;
      void this.runRound();
    });
  }

  private async runRound(): Promise<void> {
    const round = this.open;
    if (round === undefined || this.running) return;
    this.open = undefined;
    this.running = round;
    const file = round.file;
    let created = false;
    // Synchronous from here to the write: the buffer is reused by the next round as soon as it is written.
    try {
      if (this.failure) throw this.failure;
      // First: a log that builds a batch from several appends adds it to the frame now.
      for (const log of round.logs) log.journalRoundStart();
      if (file.fd === undefined) {
        this.fs.mkdirSync(this.dir, { recursive: true });
        file.fd = this.fs.openSync(file.path, "wx");
        this.files.push(file);
        created = true;
      }
      const buf = this.buf;
      const bodyLength = this.len - FRAME_HEADER;
      buf.writeUInt32BE(MAGIC, 0);
      buf.writeUInt32BE(bodyLength, 4);
      buf.writeUInt32BE(crc32c(buf, FRAME_HEADER, this.len), 8);
      const frame = buf.subarray(0, this.len);
      this.len = FRAME_HEADER;
      try {
        let done = 0;
        while (done < frame.length) done += this.fs.writeSync(file.fd, frame, done, frame.length - done, file.size + done);
      } catch (error) {
        if (errnoCode(error) !== "ENOSPC") throw error;
        // Nothing of the round may stay: cut the file back to where the frame began (if that fails, the
        // journal is broken and the catch below fails everything).
        this.fs.ftruncateSync(file.fd, file.size);
        const full = new LogStoreError("DISK_FULL", `journal ${file.path}: no space left on the disk; the append was not stored, retry once space is freed`, {
          cause: error,
        });
        for (const log of round.logs) log.journalRoundFailed(full, true);
        round.reject(full);
        this.finishRound();
        return;
      }
      file.size += frame.length;
      // A new file's directory entry must be durable before anything in it is acknowledged.
      await Promise.all([this.fs.fdatasync(file.fd), created ? fsyncDir(this.fs, this.dir) : undefined]);
      this.metrics.fsyncs++;
    } catch (error) {
      this.fail(error, round);
      return;
    }
    for (const log of round.logs) log.journalRoundDone();
    round.resolve();
    this.finishRound();
    if (this.tailBytes >= this.writeBackBytes) void this.writeBackAll();
    if (this.current.size >= this.journalBytes && this.checkpointing === undefined) void this.checkpoint().catch(() => undefined);
  }

  private finishRound(): void {
    this.running = undefined;
    if (this.open !== undefined) this.schedule();
  }

  /** The journal failed (a write or fsync error): nothing more is acknowledged until the store is reopened. */
  private fail(error: unknown, round: Round | undefined): void {
    if (!this.failure) {
      const message = error instanceof Error ? error.message : String(error);
      this.failure =
        error instanceof LogStoreError
          ? error
          : new LogStoreError("KAFKA_STORAGE_ERROR", `journal ${this.dir} failed; the store refuses writes until reopened: ${message}`, { cause: error });
    }
    for (const r of [round, this.open]) {
      if (r === undefined) continue;
      for (const log of r.logs) log.journalRoundFailed(this.failure, false);
      r.reject(this.failure);
    }
    this.open = undefined;
    this.running = undefined;
    this.len = FRAME_HEADER;
  }

  /** Writes the tails of every dirty log to their segment files (no fsync), one at a time. */
  private async writeBackAll(): Promise<void> {
    if (this.writingBack) return;
    this.writingBack = true;
    try {
      for (const log of [...this.dirty]) await log.writeBack(false);
    } catch {
      // A log that cannot write (full disk) keeps its tail in memory; the journal still holds it.
    } finally {
      this.writingBack = false;
    }
  }

  /**
   * Rotates to a new journal file, then writes and fdatasyncs every partition that has entries in the old
   * files, and deletes them. Concurrent calls share a run only if it has not started yet.
   */
  checkpoint(): Promise<void> {
    const previous = this.checkpointing ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.runCheckpoint());
    const tracked = run.finally(() => {
      if (this.checkpointing === tracked) this.checkpointing = undefined;
    });
    this.checkpointing = tracked;
    return tracked;
  }

  private async runCheckpoint(): Promise<void> {
    if (this.failure) throw this.failure;
    const old = [...this.files];
    if (this.current.fd !== undefined) {
      const seq = this.current.seq + 1;
      this.current = { seq, path: join(this.dir, journalFileName(seq)), fd: undefined, size: 0 };
    }
    // Rounds already made belong to the old files: wait until they are durable (or failed).
    const last = this.open ?? this.running;
    if (last !== undefined) await last.promise.catch(() => undefined);
    if (this.failure) throw this.failure;
    const logs = [...this.dirty];
    this.dirty.clear();
    try {
      // A few at a time: the journal's own fdatasync shares the thread pool (4 threads) with these, and
      // every append waits for it.
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < logs.length) await logs[next++]!.writeBack(true);
      };
      await Promise.all(Array.from({ length: CHECKPOINT_SYNCS_AT_ONCE }, worker));
    } catch (error) {
      for (const log of logs) this.dirty.add(log);
      throw error;
    }
    if (old.length === 0) return;
    for (const file of old) {
      if (file.fd !== undefined) this.fs.closeSync(file.fd);
      file.fd = undefined;
      this.fs.removeSync(file.path);
      this.files.splice(this.files.indexOf(file), 1);
    }
    await fsyncDir(this.fs, this.dir);
  }

  /**
   * Replays the journal files left by the previous run into `logs` (by journal key), writes and fdatasyncs
   * the partitions it changed, and deletes the files. Entries for partitions that no longer exist (a
   * deleted topic) are skipped.
   * @throws LogStoreError `CORRUPT_RECORD` when an entry does not continue its partition's log
   */
  async recover(logs: ReadonlyMap<string, JournalLog>): Promise<void> {
    const fs = this.fs;
    if (!fs.isDirectory(this.dir)) return;
    const seqs: number[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      const seq = parseJournalFileName(name);
      if (seq !== undefined) seqs.push(seq);
    }
    if (seqs.length === 0) return;
    seqs.sort((a, b) => a - b);
    const touched = new Set<JournalLog>();
    for (const seq of seqs) {
      const path = join(this.dir, journalFileName(seq));
      const bytes = fs.readFileSync(path);
      let pos = 0;
      while (pos + FRAME_HEADER <= bytes.length) {
        if (bytes.readUInt32BE(pos) !== MAGIC) break;
        const end = pos + FRAME_HEADER + bytes.readUInt32BE(pos + 4);
        if (end > bytes.length || crc32c(bytes, pos + FRAME_HEADER, end) !== bytes.readUInt32BE(pos + 8)) break; // torn: never acknowledged
        for (let at = pos + FRAME_HEADER; at < end; ) {
          const entryEnd = at + 4 + bytes.readUInt32BE(at);
          const keyLength = bytes.readUInt16BE(at + 4);
          const key = bytes.toString("utf8", at + ENTRY_HEADER, at + ENTRY_HEADER + keyLength);
          const log = logs.get(key);
          if (log !== undefined) {
            const batchAt = at + ENTRY_HEADER + keyLength;
            log.replayBatch(bytes, batchAt, entryEnd - batchAt, `journal ${path} at byte ${pos}`);
            touched.add(log);
          }
          at = entryEnd;
        }
        pos = end;
      }
    }
    await Promise.all([...touched].map((log) => log.writeBack(true)));
    for (const seq of seqs) fs.removeSync(join(this.dir, journalFileName(seq)));
    await fsyncDir(fs, this.dir);
    const next = seqs[seqs.length - 1]! + 1;
    this.current = { seq: next, path: join(this.dir, journalFileName(next)), fd: undefined, size: 0 };
  }

  /** Whether `dir` holds journal files (what {@link Journal.recover} would replay). */
  static hasFiles(fs: FileSystem, dir: string): boolean {
    if (!fs.isDirectory(dir)) return false;
    return fs.readdirSync(dir).some((name) => parseJournalFileName(name) !== undefined);
  }

  /**
   * Waits for the rounds in flight and closes the journal. When every log that used it has been written
   * back and closed (`forget`), the journal files are deleted: the next open has nothing to replay.
   * Resolves `true` when no journal file is left (a clean shutdown may then be recorded), `false` when the
   * next open must replay them. A second call resolves `false`.
   */
  async close(): Promise<boolean> {
    if (this.closed) return false;
    this.closed = true;
    const last = this.open ?? this.running;
    if (last !== undefined) await last.promise.catch(() => undefined);
    await this.checkpointing?.catch(() => undefined);
    const clean = this.failure === undefined && this.dirty.size === 0;
    try {
      for (const file of this.files) {
        if (file.fd !== undefined) this.fs.closeSync(file.fd);
        file.fd = undefined;
        if (clean) this.fs.removeSync(file.path);
      }
      if (clean && this.files.length > 0) await fsyncDir(this.fs, this.dir);
    } catch {
      // The files stay and are replayed (idempotently) at the next open.
      this.files.length = 0;
      return false;
    }
    this.files.length = 0;
    return clean;
  }
}
