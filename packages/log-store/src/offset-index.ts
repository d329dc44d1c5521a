import { Buffer } from "node:buffer";
import type { FileSystem } from "./file-system.js";
import { writeFileAtomicSync, writeFully } from "./fs-utils.js";
import type { FileHandle, HandleCache } from "./handle-cache.js";

const ENTRY_SIZE = 8;

/**
 * The sparse offset index of one segment: entries (offset relative to the segment's base, byte position
 * of the batch starting there), strictly increasing in both. Kept in memory for lookups; the file is
 * only a cache of it and is rebuilt from the log whenever it is missing or fails validation.
 */
export class OffsetIndex {
  private relOffsets: Uint32Array;
  private positions: Uint32Array;
  /** Number of entries. */
  length = 0;
  /** Entries in the file: `[written, length)` are in memory only ({@link appendDeferred}). */
  private written = 0;
  /** The file, open for appends (active segments only); a handle of the store's cache. */
  private file: FileHandle | null = null;
  private readonly fs: FileSystem;

  private constructor(
    handles: HandleCache,
    readonly path: string,
    capacity = 64,
  ) {
    this.relOffsets = new Uint32Array(capacity);
    this.positions = new Uint32Array(capacity);
    this.fs = handles.fs;
  }

  /** An empty index with its file created (or emptied) and open for appends. */
  static create(handles: HandleCache, path: string): OffsetIndex {
    const index = new OffsetIndex(handles, path);
    index.file = handles.file(path, "a", "w");
    return index;
  }

  /**
   * Loads and validates the index file of a segment of `logSize` bytes. Returns `undefined` when the file
   * is missing or not a plausible index (wrong size, not strictly increasing, pointing past the log).
   * `writable`: keep appending to the file (the active segment of a log a clean shutdown left).
   */
  static load(handles: HandleCache, path: string, logSize: number, writable = false): OffsetIndex | undefined {
    let bytes: Buffer;
    try {
      bytes = handles.fs.readFileSync(path);
    } catch {
      return undefined;
    }
    if (bytes.length % ENTRY_SIZE !== 0) return undefined;
    const count = bytes.length / ENTRY_SIZE;
    const index = new OffsetIndex(handles, path, Math.max(64, count));
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < count; i++) {
      const rel = bytes.readUInt32BE(i * ENTRY_SIZE);
      const pos = bytes.readUInt32BE(i * ENTRY_SIZE + 4);
      if (rel <= prevRel || pos <= prevPos || pos >= logSize) return undefined;
      index.relOffsets[i] = rel;
      index.positions[i] = pos;
      prevRel = rel;
      prevPos = pos;
    }
    index.length = index.written = count;
    if (writable) index.file = handles.file(path, "a"); // opened on the first append
    return index;
  }

  /** Byte position of the last entry (0 when there is none). */
  get lastPosition(): number {
    return this.length === 0 ? 0 : this.positions[this.length - 1]!;
  }

  /** Writes `entries` as the new index file (atomically) and returns the index, open for appends when `writable`. */
  static rebuild(
    handles: HandleCache,
    path: string,
    entries: ReadonlyArray<readonly [relOffset: number, position: number]>,
    writable: boolean,
  ): OffsetIndex {
    const bytes = Buffer.allocUnsafe(entries.length * ENTRY_SIZE);
    const index = new OffsetIndex(handles, path, Math.max(64, entries.length));
    entries.forEach(([rel, pos], i) => {
      bytes.writeUInt32BE(rel, i * ENTRY_SIZE);
      bytes.writeUInt32BE(pos, i * ENTRY_SIZE + 4);
      index.relOffsets[i] = rel;
      index.positions[i] = pos;
    });
    index.length = index.written = entries.length;
    // Not fsynced: the index is rebuildable, so a torn index file only costs a rebuild on the next open.
    writeFileAtomicSync(handles.fs, path, bytes, false);
    if (writable) index.file = handles.file(path, "a"); // opened on the first append
    return index;
  }

  /**
   * Adds an entry (must be greater than the last in both fields) and writes it, with any added by
   * {@link appendDeferred} before, to the file if open; `deferred`: in memory only (see there).
   */
  append(relOffset: number, position: number, deferred = false): void {
    if (this.length === this.relOffsets.length) {
      const grow = (a: Uint32Array) => {
        const b = new Uint32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.relOffsets = grow(this.relOffsets);
      this.positions = grow(this.positions);
    }
    this.relOffsets[this.length] = relOffset;
    this.positions[this.length] = position;
    this.length++;
    if (!deferred) this.writePending();
  }

  /**
   * Adds an entry in memory only; {@link writePending} writes it (journal mode: the batch it points at is
   * not in the `.log` file yet, and entries are written together, once per write-back, not once each).
   */
  appendDeferred(relOffset: number, position: number): void {
    this.append(relOffset, position, true);
  }

  /**
   * Writes the entries added in memory (those before byte `belowPosition` of the log) in one write, if the
   * file is open. On a failure the file is cut back to the entries written before and the error thrown.
   */
  writePending(belowPosition = Infinity): void {
    let end = this.written;
    while (end < this.length && this.positions[end]! < belowPosition) end++;
    if (end === this.written || this.file === null) return;
    const from = this.written;
    const bytes = Buffer.allocUnsafe((end - from) * ENTRY_SIZE);
    for (let i = from; i < end; i++) {
      bytes.writeUInt32BE(this.relOffsets[i]!, (i - from) * ENTRY_SIZE);
      bytes.writeUInt32BE(this.positions[i]!, (i - from) * ENTRY_SIZE + 4);
    }
    this.file.use((fd) => {
      try {
        writeFully(this.fs, fd, bytes, null);
      } catch (error) {
        try {
          this.fs.ftruncateSync(fd, from * ENTRY_SIZE);
        } catch {
          // A stray partial entry makes the file implausible: it is rebuilt at the next open.
        }
        throw error;
      }
    });
    this.written = end;
  }

  /**
   * Drops the entries from `length` on (undoing an append whose batch could not be written). The file is
   * cut too; if that fails it keeps a stray entry, which is harmless: it is a cache, rebuilt when implausible.
   */
  truncate(length: number): void {
    if (length >= this.length) return;
    this.length = length;
    if (length >= this.written) return; // the dropped entries were in memory only
    this.written = length;
    if (this.file !== null) {
      try {
        this.file.use((fd) => this.fs.ftruncateSync(fd, length * ENTRY_SIZE));
      } catch {
        // See above.
      }
    }
  }

  /** Drops the entries at byte `position` or later (see {@link truncate}). */
  truncateToPosition(position: number): void {
    let keep = this.length;
    while (keep > 0 && this.positions[keep - 1]! >= position) keep--;
    this.truncate(keep);
  }

  /** Opens the file for appends again after {@link close} (a sealed segment that becomes active again). */
  reopenForAppend(handles: HandleCache): void {
    if (this.file === null) this.file = handles.file(this.path, "a");
  }

  /** The entry with the greatest relative offset ≤ `relOffset`, or `[0, 0]` when there is none. */
  lookup(relOffset: number): readonly [relOffset: number, position: number] {
    let lo = 0;
    let hi = this.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.relOffsets[mid]! <= relOffset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? [0, 0] : [this.relOffsets[found]!, this.positions[found]!];
  }

  /**
   * Stops appending to the file (the in-memory entries stay usable). Entries still in memory are written
   * first; one pointing past the end of a `.log` file a crash left short makes the file implausible, and
   * it is rebuilt at the next open.
   */
  close(): void {
    if (this.file !== null) {
      try {
        this.writePending();
      } catch {
        // A cache: rebuilt at the next open if it does not match the log.
      }
      this.file.close();
      this.file = null;
    }
  }
}
