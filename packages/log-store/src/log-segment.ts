import { join } from "node:path";
import { Buffer } from "node:buffer";
import { LogStoreError } from "./errors.js";
import type { FileSystem } from "./file-system.js";
import { writeFully, writeFullyAsync } from "./fs-utils.js";
import type { FileHandle, HandleCache } from "./handle-cache.js";
import type { EpochLookup } from "./leader-epoch-cache.js";
import { OffsetIndex } from "./offset-index.js";
import { BATCH_HEADER_SIZE, checkBatch, type BatchHeader } from "./record-batch.js";

const EMPTY = Buffer.alloc(0);

/**
 * A read of the file that starts at most this many bytes before the file's end, in bytes this process
 * wrote, and is at most {@link RECENT_READ_MAX_BYTES} long, is done synchronously (see {@link LogSegment.read}).
 */
const RECENT_READ_WINDOW_BYTES = 1024 * 1024;
const RECENT_READ_MAX_BYTES = 256 * 1024;

/** `00000000000000000042` for base offset 42: names sort in offset order. */
export const segmentFileName = (baseOffset: number, suffix: ".log" | ".index"): string => String(baseOffset).padStart(20, "0") + suffix;

/** Parses a segment file name back to its base offset, or `undefined` for anything else. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = /^(\d{20})\.log$/.exec(name);
  if (!match) return undefined;
  const offset = Number(match[1]);
  return Number.isSafeInteger(offset) ? offset : undefined;
}

/** What a full scan of a segment found. */
interface ScanResult {
  /** Byte length of the valid prefix. */
  validSize: number;
  /** One past the last offset in the valid prefix. */
  nextOffset: number;
  maxTimestamp: number;
  indexEntries: Array<[number, number]>;
  /** Set when the scan stopped early: where and why. */
  stop?: { position: number; reason: string };
}

/**
 * One segment of a partition log: a `.log` file of consecutive record batches starting at `baseOffset`,
 * and its sparse `.index`. Only the last segment of a partition (the active one) is appended to. Its files
 * are {@link FileHandle}s of the store's {@link HandleCache}: opened on demand, closed while idle when the
 * cache needs room.
 */
export class LogSegment {
  /** Bytes in the `.log` file. */
  size: number;
  /** One past the last offset stored in this segment. */
  nextOffset: number;
  /** Largest record timestamp in the segment; `undefined` until known (computed lazily for old segments). */
  maxTimestamp: number | undefined;
  /** Bytes of the `.log` file itself; the rest of `size` is the in-memory tail (journal mode). */
  fileSize: number;
  private bytesSinceIndexEntry = 0;
  private readonly fs: FileSystem;
  /** Set when {@link LogSegment.open} took the segment's end from a clean shutdown's record instead of a scan. */
  trustedUsed = false;
  /** Batches appended but not written to the file yet: bytes `[fileSize, size)` (see {@link appendToTail}). */
  private tail: Buffer = EMPTY;
  private tailLength = 0;
  /** The file's size when this process opened it: the bytes from here on, this process wrote. */
  private readonly writtenFrom: number;
  /** Bytes reserved after the tail for a batch being built (see {@link buildSpace}). */
  private built = 0;

  private constructor(
    private readonly handles: HandleCache,
    readonly dir: string,
    readonly baseOffset: number,
    private readonly file: FileHandle,
    size: number,
    public index: OffsetIndex,
    private readonly indexIntervalBytes: number,
    /** The partition's leader epochs, which every batch's epoch is checked against (none: epoch 0). */
    private readonly epochs: EpochLookup | undefined,
  ) {
    this.size = size;
    this.fileSize = size;
    this.writtenFrom = size;
    this.nextOffset = baseOffset;
    this.fs = handles.fs;
  }

  /** Path of the `.log` file. */
  get logPath(): string {
    return join(this.dir, segmentFileName(this.baseOffset, ".log"));
  }

  /** Creates a new, empty segment (its files must not exist yet). */
  static create(handles: HandleCache, dir: string, baseOffset: number, indexIntervalBytes: number, epochs?: EpochLookup): LogSegment {
    const file = handles.file(join(dir, segmentFileName(baseOffset, ".log")), "r+", "wx+");
    let index: OffsetIndex;
    try {
      index = OffsetIndex.create(handles, join(dir, segmentFileName(baseOffset, ".index")));
    } catch (error) {
      file.close();
      throw error;
    }
    const segment = new LogSegment(handles, dir, baseOffset, file, 0, index, indexIntervalBytes, epochs);
    segment.maxTimestamp = -1;
    return segment;
  }

  /**
   * Opens an existing segment.
   *
   * - `active: true` (the last segment): every batch is validated (length, offsets, CRC-32C). A torn or
   *   corrupt tail — an invalid batch after which nothing valid follows — is cut off, as a crash can leave
   *   it. An invalid batch *followed by valid data* is damage to data that was already durable: open
   *   fails with `CORRUPT_RECORD`. The index is always rebuilt from the scan.
   * - `active: true` with `trusted` (what a clean shutdown recorded): when the file still has exactly the
   *   recorded size and its index file is plausible, nothing is scanned: the segment ends at
   *   `trusted.nextOffset` (`trustedUsed` is set). Otherwise as without it.
   * - `active: false`: the segment was fsynced when it was rolled. Its index is loaded and validated, and
   *   rebuilt from a full scan (checksums included) if missing or implausible; reads verify every batch.
   */
  static async open(
    handles: HandleCache,
    dir: string,
    baseOffset: number,
    options: {
      active: boolean;
      indexIntervalBytes: number;
      nextOffset?: number;
      trusted?: { size: number; nextOffset: number; maxTimestamp: number | undefined };
      /** The partition's leader epochs (see {@link checkBatch}); none: every batch must carry epoch 0. */
      epochs?: EpochLookup;
    },
  ): Promise<LogSegment> {
    const epochs = options.epochs;
    const logPath = join(dir, segmentFileName(baseOffset, ".log"));
    const indexPath = join(dir, segmentFileName(baseOffset, ".index"));
    const fs = handles.fs;
    const file = handles.file(logPath, options.active ? "r+" : "r");
    try {
      const size = file.use((fd) => fs.fileSize(fd));
      const trusted = options.trusted;
      if (options.active && trusted !== undefined && trusted.size === size) {
        const index = OffsetIndex.load(handles, indexPath, size, true);
        if (index !== undefined) {
          const segment = new LogSegment(handles, dir, baseOffset, file, size, index, options.indexIntervalBytes, epochs);
          segment.nextOffset = trusted.nextOffset;
          segment.maxTimestamp = trusted.maxTimestamp;
          segment.bytesSinceIndexEntry = size - index.lastPosition;
          segment.trustedUsed = true;
          return segment;
        }
      }
      if (options.active) {
        const bytes = await file.useAsync((fd) => readWhole(fs, fd, size));
        const scan = scanSegment(bytes, baseOffset, options.indexIntervalBytes, true, epochs);
        if (scan.stop) {
          const later = findValidBatchAfter(bytes, scan.stop.position + 1, scan.nextOffset, epochs);
          if (later !== undefined) {
            throw corruptError(
              logPath,
              scan.stop.position,
              scan.nextOffset,
              `${scan.stop.reason}; valid data follows at byte ${later}, so this is damage to durable data, not a torn write`,
            );
          }
          // A torn or corrupt tail: nothing after it is valid, so it was never acknowledged. Cut it off.
          file.use((fd) => {
            fs.ftruncateSync(fd, scan.validSize);
            fs.fsyncSync(fd);
          });
        }
        const index = OffsetIndex.rebuild(handles, indexPath, scan.indexEntries, true);
        const segment = new LogSegment(handles, dir, baseOffset, file, scan.validSize, index, options.indexIntervalBytes, epochs);
        segment.nextOffset = scan.nextOffset;
        segment.maxTimestamp = scan.maxTimestamp;
        segment.bytesSinceIndexEntry = scan.validSize - (scan.indexEntries.at(-1)?.[1] ?? 0);
        return segment;
      }
      let index = OffsetIndex.load(handles, indexPath, size);
      if (!index) {
        // With checksums: a damaged length would otherwise make the scan fail at some later, innocent byte.
        const bytes = await file.useAsync((fd) => readWhole(fs, fd, size));
        const scan = scanSegment(bytes, baseOffset, options.indexIntervalBytes, true, epochs);
        checkScan(scan, logPath, options.nextOffset);
        index = OffsetIndex.rebuild(handles, indexPath, scan.indexEntries, false);
      }
      const segment = new LogSegment(handles, dir, baseOffset, file, size, index, options.indexIntervalBytes, epochs);
      segment.nextOffset = options.nextOffset ?? baseOffset;
      return segment;
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /**
   * Appends one encoded batch (synchronously: the OS page cache absorbs it; durability comes from fsync).
   * @throws LogStoreError `TOO_MANY_OPEN_FILES` when a descriptor cannot be had (nothing was written)
   */
  append(batch: Buffer, header: { lastOffset: number; maxTimestamp: number }): void {
    const position = this.size;
    const indexLength = this.index.length;
    const sinceIndexEntry = this.bytesSinceIndexEntry;
    const fd = this.file.pinSync(); // before anything is written: a failure here changes nothing
    try {
      if (this.bytesSinceIndexEntry >= this.indexIntervalBytes && position > 0) {
        this.index.append(this.nextOffset - this.baseOffset, position);
        this.bytesSinceIndexEntry = 0;
      }
      writeFully(this.fs, fd, batch, position);
    } catch (error) {
      // A failed write (a full disk) may have stored part of the batch: cut the file back to the last
      // batch boundary, so that the segment stays a valid log and the next append starts there. If that
      // fails too, its error (not the write's) is thrown: the caller must then treat the log as broken.
      this.fs.ftruncateSync(fd, position);
      this.bytesSinceIndexEntry = sinceIndexEntry;
      this.index.truncate(indexLength);
      throw error;
    } finally {
      this.file.unpin();
    }
    this.size += batch.length;
    this.fileSize = this.size;
    this.bytesSinceIndexEntry += batch.length;
    this.nextOffset = header.lastOffset + 1;
    if (this.maxTimestamp !== undefined && header.maxTimestamp > this.maxTimestamp) this.maxTimestamp = header.maxTimestamp;
  }

  /**
   * Appends one encoded batch to the in-memory tail (journal mode: the journal makes it durable, the file
   * gets it later with {@link writeTail}). Reads see it at once. Only the index may touch a file. Not while
   * a batch is being built ({@link buildSpace}): commit or discard it first.
   */
  appendToTail(batch: Uint8Array, header: { lastOffset: number; maxTimestamp: number }): void {
    if (this.built !== 0) throw new Error(`${this.logPath}: appendToTail while a batch is being built`); // a bug, not an I/O error
    if (this.bytesSinceIndexEntry >= this.indexIntervalBytes && this.size > 0) {
      this.index.appendDeferred(this.nextOffset - this.baseOffset, this.size); // written by writeTail
      this.bytesSinceIndexEntry = 0;
    }
    const n = batch.length;
    if (this.tailLength + n > this.tail.length) {
      const grown = Buffer.allocUnsafe(Math.max(4096, this.tail.length * 2, this.tailLength + n));
      this.tail.copy(grown, 0, 0, this.tailLength);
      this.tail = grown;
    }
    this.tail.set(batch, this.tailLength);
    this.tailLength += n;
    this.size += n;
    this.bytesSinceIndexEntry += n;
    this.nextOffset = header.lastOffset + 1;
    if (this.maxTimestamp !== undefined && header.maxTimestamp > this.maxTimestamp) this.maxTimestamp = header.maxTimestamp;
  }

  /**
   * Journal mode: makes room for a batch being built of `length` bytes right after the tail (not part of
   * the segment: reads, {@link size} and write-backs do not see it until {@link commitBuilt}), keeping the
   * bytes built so far, and returns the buffer that holds it: the batch starts at {@link buildStart}. The
   * buffer and that index may change with every call (and with every {@link writeTail}).
   */
  buildSpace(length: number): Buffer {
    const used = this.tailLength + this.built;
    if (this.tailLength + length > this.tail.length) {
      const grown = Buffer.allocUnsafe(Math.max(4096, this.tail.length * 2, this.tailLength + length));
      this.tail.copy(grown, 0, 0, used);
      this.tail = grown;
    }
    this.built = length;
    return this.tail;
  }

  /** Where the batch being built starts in the buffer {@link buildSpace} returned. */
  get buildStart(): number {
    return this.tailLength;
  }

  /**
   * Makes the batch being built (`length` bytes, finished, ending at `lastOffset`) part of the segment, as
   * {@link appendToTail} would.
   */
  commitBuilt(length: number, lastOffset: number, maxTimestamp: number): void {
    if (this.bytesSinceIndexEntry >= this.indexIntervalBytes && this.size > 0) {
      this.index.appendDeferred(this.nextOffset - this.baseOffset, this.size); // written by writeTail
      this.bytesSinceIndexEntry = 0;
    }
    this.built = 0;
    this.tailLength += length;
    this.size += length;
    this.bytesSinceIndexEntry += length;
    this.nextOffset = lastOffset + 1;
    if (this.maxTimestamp !== undefined && maxTimestamp > this.maxTimestamp) this.maxTimestamp = maxTimestamp;
  }

  /** Drops the batch being built. */
  discardBuilt(): void {
    this.built = 0;
  }

  /**
   * Writes the tail's bytes below position `upTo` to the file in one write (off the event loop, see
   * {@link writeFullyAsync}) and drops them from memory. Resolves with the number of bytes written. Until
   * then reads are served from the tail; appends may continue (they only add after it). One at a time per
   * segment. On a failure the file is cut back and the tail kept.
   */
  async writeTail(upTo: number): Promise<number> {
    const from = this.fileSize;
    const n = Math.min(upTo, this.size) - from;
    if (n <= 0) return 0;
    // A view of the tail's first n bytes: appends only write after them, and a tail grown meanwhile is a
    // new buffer (this one stays as it is).
    const bytes = this.tail.subarray(0, n);
    const fd = this.file.pinSync();
    try {
      await writeFullyAsync(this.fs, fd, bytes, from);
    } catch (error) {
      try {
        this.fs.ftruncateSync(fd, from);
      } catch {
        // The next write starts at fileSize again and overwrites whatever is there.
      }
      throw error;
    } finally {
      this.file.unpin();
    }
    this.fileSize += n;
    try {
      // One write for the index entries of what was just written (appendToTail kept them in memory).
      this.index.writePending(this.fileSize);
    } catch {
      // A cache: the entries stay in memory and are written with the next piece.
    }
    this.tail.copyWithin(0, n, this.tailLength + this.built); // a batch being built moves along
    this.tailLength -= n;
    if (this.tailLength === 0 && this.built === 0 && this.tail.length > 1 << 20) this.tail = EMPTY;
    return n;
  }

  /**
   * Takes back the tail from `position` on (its batches were not made durable): the segment then ends at
   * `position` / `nextOffset`. Returns the bytes dropped. Positions below {@link fileSize} are not touched.
   */
  truncateTail(position: number, nextOffset: number): number {
    const dropped = this.size - position;
    if (dropped <= 0) return 0;
    this.tailLength = position - this.fileSize;
    this.built = 0;
    this.size = position;
    this.nextOffset = nextOffset;
    this.index.truncateToPosition(position);
    this.bytesSinceIndexEntry = position - this.index.lastPosition;
    return dropped;
  }

  /**
   * Cuts the `.log` file to `position` (a batch boundary) and fdatasyncs it (truncation to a divergence
   * point). Only the file: the caller reopens the segment with {@link LogSegment.open}, which rebuilds the
   * index from what is left. The segment must have no in-memory tail.
   */
  async cutFile(position: number): Promise<void> {
    this.file.use((fd) => this.fs.ftruncateSync(fd, position));
    await this.datasync();
  }

  /** Makes a sealed segment the active one again (a roll was taken back). */
  unseal(): void {
    this.index.reopenForAppend(this.handles);
    this.isActiveIndex = true;
  }

  /**
   * fdatasyncs the `.log` file, through a descriptor reopened if the cache closed the one that wrote (see
   * {@link HandleCache} on why that is durable on Linux). The descriptor stays open until the sync ends.
   */
  datasync(): Promise<void> {
    return this.file.useAsync((fd) => this.fs.fdatasync(fd));
  }

  /** Synchronous {@link datasync}. */
  datasyncSync(): void {
    this.file.use((fd) => this.fs.fdatasyncSync(fd));
  }

  /** Byte position to start scanning from to find `offset` (the indexed batch at or before it). */
  lookup(offset: number): { position: number; baseOffset: number } {
    const [rel, position] = this.index.lookup(offset - this.baseOffset);
    return { position, baseOffset: this.baseOffset + rel };
  }

  /**
   * Reads up to `length` bytes at `position` into a new buffer (shorter at the end of the file), or into
   * one `into` gives when they are all in the file (the caller's: see `ReadOptions.readBuffer`).
   *
   * A read near the end of the file of bytes this process wrote (a consumer at the tail: within the last
   * {@link RECENT_READ_WINDOW_BYTES}, at most {@link RECENT_READ_MAX_BYTES}, the descriptor open) is done
   * synchronously: those pages were written moments ago and are in the page cache, so the read is a copy of
   * a few µs, where a read through the thread pool costs two thread wake-ups (tens of µs of CPU and wait on
   * a small VM). Anything else (older data, after a restart, a closed descriptor) goes through the pool, so
   * the event loop never waits for the disk on a cold read.
   */
  read(position: number, length: number, into?: (size: number) => Buffer | undefined): Promise<Buffer> {
    const fileSize = this.fileSize;
    const end = Math.min(position + length, this.size);
    if (end <= fileSize) return this.readFile(position, length, into);
    // Part (or all) of it is in the tail: copied now, since a write-back moves the tail meanwhile.
    const from = Math.max(position, fileSize);
    const tailPart = Buffer.from(this.tail.subarray(from - fileSize, end - fileSize));
    if (position >= fileSize) return Promise.resolve(tailPart);
    return this.readFile(position, fileSize - position).then((head) =>
      head.length === fileSize - position ? Buffer.concat([head, tailPart]) : head,
    );
  }

  /**
   * Reads `length` bytes of the file at `position`: synchronously when they are recent (see {@link read}),
   * into a buffer of `into` when it gives one.
   */
  private readFile(position: number, length: number, into?: (size: number) => Buffer | undefined): Promise<Buffer> {
    if (
      this.fs.readSync !== undefined &&
      position >= this.writtenFrom &&
      this.fileSize - position <= RECENT_READ_WINDOW_BYTES &&
      length <= RECENT_READ_MAX_BYTES &&
      this.file.isOpen
    ) {
      try {
        return Promise.resolve(this.file.use((fd) => readWholeSync(this.fs, fd, length, position, into?.(length))));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    return this.file.useAsync((fd) => readWhole(this.fs, fd, length, position, into?.(length)));
  }

  /**
   * Keeps the file open across several reads even if the segment is deleted meanwhile (opening it, and
   * waiting for a free descriptor if needed); pair with {@link release}.
   * @throws LogStoreError `TOO_MANY_OPEN_FILES`, `STORE_CLOSED` (the segment was deleted or closed)
   */
  async acquire(): Promise<void> {
    await this.file.pin();
  }

  /** Ends an {@link acquire}. */
  release(): void {
    this.file.unpin();
  }

  /**
   * Set once a rebuild of the index met damage, or did not make the batch where it points valid: later
   * lookups that land on invalid bytes fail at once instead of scanning the segment again.
   */
  damaged = false;

  /**
   * Rebuilds the index from the log (used when a lookup finds the index wrong). The scan checks what a
   * read checks: lengths, magic, leader epoch, record counts, checksums, and that every batch starts where
   * the previous one ended, up to the segment's known end offset.
   * @throws LogStoreError `CORRUPT_RECORD` at the first batch that fails (and marks the segment `damaged`).
   */
  async rebuildIndex(): Promise<void> {
    const size = this.size;
    const nextOffset = this.nextOffset;
    const scan = scanSegment(await this.read(0, size), this.baseOffset, this.indexIntervalBytes, true, this.epochs);
    try {
      checkScan(scan, this.logPath, nextOffset);
    } catch (error) {
      this.damaged = true;
      throw error;
    }
    const writable = this.isActiveIndex;
    this.index.close();
    this.index = OffsetIndex.rebuild(this.handles, join(this.dir, segmentFileName(this.baseOffset, ".index")), scan.indexEntries, writable);
  }

  /** Whether this segment still appends to its index file (only the active segment does). */
  isActiveIndex = true;

  /** Computes `maxTimestamp` from the batch headers when it is not known yet. */
  async loadMaxTimestamp(): Promise<number> {
    if (this.maxTimestamp === undefined) {
      const scan = scanSegment(await this.read(0, this.size), this.baseOffset, this.indexIntervalBytes, false, this.epochs);
      this.maxTimestamp = scan.maxTimestamp;
    }
    return this.maxTimestamp;
  }

  /** Makes this segment read-only (after a roll): stops index appends. */
  seal(): void {
    this.index.close();
    this.isActiveIndex = false;
  }

  /** Deletes the files; the descriptor is closed once in-flight reads finish. */
  delete(): void {
    this.close();
    this.fs.removeSync(this.logPath);
    this.fs.removeSync(join(this.dir, segmentFileName(this.baseOffset, ".index")));
  }

  /** Closes the files once in-flight reads and fsyncs finish, without deleting them. */
  closeWhenIdle(): void {
    this.close();
  }

  /** Closes the files (no fsync: the owner syncs before closing), once in-flight reads and fsyncs finish. */
  close(): void {
    this.index.close();
    this.file.close();
  }
}

/** The `CORRUPT_RECORD` error for a bad batch, naming the file, byte position and offset. */
export function corruptError(file: string, position: number, offset: number, reason: string): LogStoreError {
  return new LogStoreError("CORRUPT_RECORD", `corrupt batch in ${file} at byte ${position} (offset ${offset}): ${reason}`);
}

/**
 * Fails a scan that stopped early, or that ended at another offset than the segment must end at
 * (`endOffset`: the next segment's base offset, when known).
 */
function checkScan(scan: ScanResult, file: string, endOffset: number | undefined): void {
  if (scan.stop) throw corruptError(file, scan.stop.position, scan.nextOffset, scan.stop.reason);
  if (endOffset !== undefined && scan.nextOffset !== endOffset) {
    throw corruptError(
      file,
      scan.validSize,
      scan.nextOffset,
      `its batches end before offset ${scan.nextOffset}, but the segment holds offsets up to ${endOffset - 1}`,
    );
  }
}

/** Synchronous {@link readWhole} (`fs` has `readSync`). */
function readWholeSync(fs: FileSystem, fd: number, size: number, position: number, into?: Buffer): Buffer {
  const buf = into !== undefined && into.length >= size ? into : Buffer.allocUnsafe(size);
  let done = 0;
  while (done < size) {
    const n = fs.readSync!(fd, buf, done, size - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

/** Reads `size` bytes at `position` into `into` (when it is large enough) or a new buffer; shorter at the end of the file. */
async function readWhole(fs: FileSystem, fd: number, size: number, position = 0, into?: Buffer): Promise<Buffer> {
  const buf = into !== undefined && into.length >= size ? into : Buffer.allocUnsafe(size);
  let done = 0;
  while (done < size) {
    const n = await fs.read(fd, buf, done, size - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

/**
 * Walks the batches of a segment image from the start, checking lengths, offset continuity and (with
 * `verifyCrc`) checksums, and computes the sparse index the append path would have written.
 */
function scanSegment(bytes: Buffer, baseOffset: number, indexIntervalBytes: number, verifyCrc: boolean, epochs: EpochLookup | undefined): ScanResult {
  const result: ScanResult = { validSize: 0, nextOffset: baseOffset, maxTimestamp: -1, indexEntries: [] };
  let pos = 0;
  let sinceEntry = 0;
  while (pos < bytes.length) {
    const check = checkBatch(bytes, pos, bytes.length - pos, verifyCrc, epochs);
    if ("incomplete" in check) {
      result.stop = { position: pos, reason: `incomplete batch: ${bytes.length - pos} of ${check.needed} bytes present` };
      break;
    }
    if ("corrupt" in check) {
      result.stop = { position: pos, reason: check.corrupt };
      break;
    }
    if (check.baseOffset !== result.nextOffset) {
      result.stop = { position: pos, reason: `batch base offset ${check.baseOffset}, expected ${result.nextOffset}` };
      break;
    }
    if (sinceEntry >= indexIntervalBytes && pos > 0) {
      result.indexEntries.push([check.baseOffset - baseOffset, pos]);
      sinceEntry = 0;
    }
    pos += check.size;
    sinceEntry += check.size;
    result.validSize = pos;
    result.nextOffset = check.lastOffset + 1;
    if (check.maxTimestamp > result.maxTimestamp) result.maxTimestamp = check.maxTimestamp;
  }
  return result;
}

/**
 * Looks for any valid batch (checksum and all) at or after byte `from` whose base offset is at least
 * `minOffset`. Finding one means the invalid bytes before it are not a torn tail.
 */
function findValidBatchAfter(bytes: Buffer, from: number, minOffset: number, epochs: EpochLookup | undefined): number | undefined {
  for (let pos = from; pos + BATCH_HEADER_SIZE <= bytes.length; pos++) {
    if (bytes[pos + 16] !== 2) continue; // magic: cheap filter before anything else
    const check = checkBatch(bytes, pos, bytes.length - pos, true, epochs);
    if ("baseOffset" in check && check.baseOffset >= minOffset) return pos;
  }
  return undefined;
}

export type { BatchHeader };
