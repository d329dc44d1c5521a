import { join } from "node:path";
import { Buffer } from "node:buffer";
import { LogStoreError } from "./errors.js";
import type { FileSystem } from "./file-system.js";
import { writeFully } from "./fs-utils.js";
import { OffsetIndex } from "./offset-index.js";
import { BATCH_HEADER_SIZE, checkBatch, type BatchHeader } from "./record-batch.js";

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
 * and its sparse `.index`. Only the last segment of a partition (the active one) is appended to.
 */
export class LogSegment {
  /** Bytes in the `.log` file. */
  size: number;
  /** One past the last offset stored in this segment. */
  nextOffset: number;
  /** Largest record timestamp in the segment; `undefined` until known (computed lazily for old segments). */
  maxTimestamp: number | undefined;
  /** Reads in progress; the file is closed only when the segment is deleted and this drops to 0. */
  private readers = 0;
  private deleted = false;
  private bytesSinceIndexEntry = 0;

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    readonly baseOffset: number,
    private fd: number,
    size: number,
    public index: OffsetIndex,
    private readonly indexIntervalBytes: number,
  ) {
    this.size = size;
    this.nextOffset = baseOffset;
  }

  /** Path of the `.log` file. */
  get logPath(): string {
    return join(this.dir, segmentFileName(this.baseOffset, ".log"));
  }

  /** Creates a new, empty segment (its files must not exist yet). */
  static create(fs: FileSystem, dir: string, baseOffset: number, indexIntervalBytes: number): LogSegment {
    const fd = fs.openSync(join(dir, segmentFileName(baseOffset, ".log")), "wx+");
    let index: OffsetIndex;
    try {
      index = OffsetIndex.create(fs, join(dir, segmentFileName(baseOffset, ".index")));
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    const segment = new LogSegment(fs, dir, baseOffset, fd, 0, index, indexIntervalBytes);
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
   * - `active: false`: the segment was fsynced when it was rolled. Its index is loaded and validated, and
   *   rebuilt from a full scan (checksums included) if missing or implausible; reads verify every batch.
   */
  static async open(
    fs: FileSystem,
    dir: string,
    baseOffset: number,
    options: { active: boolean; indexIntervalBytes: number; nextOffset?: number },
  ): Promise<LogSegment> {
    const logPath = join(dir, segmentFileName(baseOffset, ".log"));
    const indexPath = join(dir, segmentFileName(baseOffset, ".index"));
    const fd = fs.openSync(logPath, options.active ? "r+" : "r");
    try {
      const size = fs.fileSize(fd);
      if (options.active) {
        const bytes = await readWhole(fs, fd, size);
        const scan = scanSegment(bytes, baseOffset, options.indexIntervalBytes, true);
        if (scan.stop) {
          const later = findValidBatchAfter(bytes, scan.stop.position + 1, scan.nextOffset);
          if (later !== undefined) {
            throw corruptError(
              logPath,
              scan.stop.position,
              scan.nextOffset,
              `${scan.stop.reason}; valid data follows at byte ${later}, so this is damage to durable data, not a torn write`,
            );
          }
          // A torn or corrupt tail: nothing after it is valid, so it was never acknowledged. Cut it off.
          fs.ftruncateSync(fd, scan.validSize);
          fs.fsyncSync(fd);
        }
        const index = OffsetIndex.rebuild(fs, indexPath, scan.indexEntries, true);
        const segment = new LogSegment(fs, dir, baseOffset, fd, scan.validSize, index, options.indexIntervalBytes);
        segment.nextOffset = scan.nextOffset;
        segment.maxTimestamp = scan.maxTimestamp;
        segment.bytesSinceIndexEntry = scan.validSize - (scan.indexEntries.at(-1)?.[1] ?? 0);
        return segment;
      }
      let index = OffsetIndex.load(fs, indexPath, size);
      if (!index) {
        // With checksums: a damaged length would otherwise make the scan fail at some later, innocent byte.
        const scan = scanSegment(await readWhole(fs, fd, size), baseOffset, options.indexIntervalBytes, true);
        checkScan(scan, logPath, options.nextOffset);
        index = OffsetIndex.rebuild(fs, indexPath, scan.indexEntries, false);
      }
      const segment = new LogSegment(fs, dir, baseOffset, fd, size, index, options.indexIntervalBytes);
      segment.nextOffset = options.nextOffset ?? baseOffset;
      return segment;
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  /** Appends one encoded batch (synchronously: the OS page cache absorbs it; durability comes from fsync). */
  append(batch: Buffer, header: { lastOffset: number; maxTimestamp: number }): void {
    const position = this.size;
    const indexLength = this.index.length;
    const sinceIndexEntry = this.bytesSinceIndexEntry;
    try {
      if (this.bytesSinceIndexEntry >= this.indexIntervalBytes && position > 0) {
        this.index.append(this.nextOffset - this.baseOffset, position);
        this.bytesSinceIndexEntry = 0;
      }
      writeFully(this.fs, this.fd, batch, position);
    } catch (error) {
      // A failed write (a full disk) may have stored part of the batch: cut the file back to the last
      // batch boundary, so that the segment stays a valid log and the next append starts there. If that
      // fails too, its error (not the write's) is thrown: the caller must then treat the log as broken.
      this.fs.ftruncateSync(this.fd, position);
      this.bytesSinceIndexEntry = sinceIndexEntry;
      this.index.truncate(indexLength);
      throw error;
    }
    this.size += batch.length;
    this.bytesSinceIndexEntry += batch.length;
    this.nextOffset = header.lastOffset + 1;
    if (this.maxTimestamp !== undefined && header.maxTimestamp > this.maxTimestamp) this.maxTimestamp = header.maxTimestamp;
  }

  /** The file descriptor, for fsync. */
  get fileDescriptor(): number {
    return this.fd;
  }

  /** Byte position to start scanning from to find `offset` (the indexed batch at or before it). */
  lookup(offset: number): { position: number; baseOffset: number } {
    const [rel, position] = this.index.lookup(offset - this.baseOffset);
    return { position, baseOffset: this.baseOffset + rel };
  }

  /** Reads up to `length` bytes at `position` into a new buffer (shorter at the end of the file). */
  async read(position: number, length: number): Promise<Buffer> {
    this.acquire();
    try {
      return await readWhole(this.fs, this.fd, length, position);
    } finally {
      this.release();
    }
  }

  /** Keeps the file open across several reads even if the segment is deleted meanwhile; pair with {@link release}. */
  acquire(): void {
    this.readers++;
  }

  /** Ends an {@link acquire}. */
  release(): void {
    this.readers--;
    if (this.deleted && this.readers === 0) this.closeFile();
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
    const scan = scanSegment(await this.read(0, size), this.baseOffset, this.indexIntervalBytes, true);
    try {
      checkScan(scan, this.logPath, nextOffset);
    } catch (error) {
      this.damaged = true;
      throw error;
    }
    const writable = this.isActiveIndex;
    this.index.close();
    this.index = OffsetIndex.rebuild(this.fs, join(this.dir, segmentFileName(this.baseOffset, ".index")), scan.indexEntries, writable);
  }

  /** Whether this segment still appends to its index file (only the active segment does). */
  isActiveIndex = true;

  /** Computes `maxTimestamp` from the batch headers when it is not known yet. */
  async loadMaxTimestamp(): Promise<number> {
    if (this.maxTimestamp === undefined) {
      const scan = scanSegment(await this.read(0, this.size), this.baseOffset, this.indexIntervalBytes, false);
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
    this.deleted = true;
    this.index.close();
    this.fs.removeSync(this.logPath);
    this.fs.removeSync(join(this.dir, segmentFileName(this.baseOffset, ".index")));
    if (this.readers === 0) this.closeFile();
  }

  /** Closes the files once in-flight reads finish, without deleting them. */
  closeWhenIdle(): void {
    this.deleted = true;
    this.index.close();
    if (this.readers === 0) this.closeFile();
  }

  /** Closes the files (no fsync: the owner syncs before closing). */
  close(): void {
    this.index.close();
    this.closeFile();
  }

  private closeFile(): void {
    if (this.fd >= 0) {
      this.fs.closeSync(this.fd);
      this.fd = -1;
    }
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

async function readWhole(fs: FileSystem, fd: number, size: number, position = 0): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
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
function scanSegment(bytes: Buffer, baseOffset: number, indexIntervalBytes: number, verifyCrc: boolean): ScanResult {
  const result: ScanResult = { validSize: 0, nextOffset: baseOffset, maxTimestamp: -1, indexEntries: [] };
  let pos = 0;
  let sinceEntry = 0;
  while (pos < bytes.length) {
    const check = checkBatch(bytes, pos, bytes.length - pos, verifyCrc);
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
function findValidBatchAfter(bytes: Buffer, from: number, minOffset: number): number | undefined {
  for (let pos = from; pos + BATCH_HEADER_SIZE <= bytes.length; pos++) {
    if (bytes[pos + 16] !== 2) continue; // magic: cheap filter before anything else
    const check = checkBatch(bytes, pos, bytes.length - pos, true);
    if ("baseOffset" in check && check.baseOffset >= minOffset) return pos;
  }
  return undefined;
}

export type { BatchHeader };
