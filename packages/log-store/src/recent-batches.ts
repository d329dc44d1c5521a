// The last verified batch read from each segment, kept for the next read. A consumer that fetches a few
// records at a time from batches of a thousand (one record per poll is what a naive HTTP consumer does)
// would otherwise read the whole batch from the file and checksum it again on every fetch. Stored batches
// never change (a segment is append-only and a failed append is cut back before anything can read it), so
// an entry stays valid for as long as its segment is part of the log; a deleted segment is never asked
// for again, and its entry ages out. Bounded by bytes, process-wide, least recently used first out.

/** A batch as read and checked: its bytes (exactly one batch), where it starts, and its offsets. */
export interface RecentBatch {
  readonly position: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly bytes: Buffer;
}

/** Keeps the last batch read from each of many segments, within a byte budget. */
export class RecentBatches<Segment extends object> {
  readonly #entries = new Map<Segment, RecentBatch>();
  #bytes = 0;

  constructor(
    /** Most bytes of batches kept in all. */
    readonly maxBytes: number,
    /** Batches smaller than this are cheap to read again and not kept. */
    readonly minBatchBytes: number,
  ) {}

  /** The batch of `segment` that holds `offset`, if it is the one kept. */
  get(segment: Segment, offset: number): RecentBatch | undefined {
    const entry = this.#entries.get(segment);
    if (entry === undefined || offset < entry.baseOffset || offset > entry.lastOffset) return undefined;
    // Most recently used last: re-insert.
    this.#entries.delete(segment);
    this.#entries.set(segment, entry);
    return entry;
  }

  /**
   * Keeps the verified batch `buf[start, start + size)` read at file `position`, replacing the segment's
   * previous one. Copies it when it is a small part of `buf`, so a large read buffer is not kept alive, and
   * always with `copy` (`buf` is the reader's, reused after the read).
   */
  put(segment: Segment, position: number, baseOffset: number, lastOffset: number, buf: Buffer, start: number, size: number, copy = false): void {
    if (size < this.minBatchBytes || size > this.maxBytes) return;
    const previous = this.#entries.get(segment);
    if (previous?.position === position) return;
    const view = buf.subarray(start, start + size);
    let bytes = view;
    if (copy || buf.buffer.byteLength > 2 * size) {
      bytes = Buffer.allocUnsafeSlow(size); // its own memory (not the shared pool), so the budget is exact
      view.copy(bytes);
    }
    this.delete(segment);
    this.#entries.set(segment, { position, baseOffset, lastOffset, bytes });
    this.#bytes += bytes.buffer.byteLength;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes.buffer.byteLength;
    }
  }

  /** Forgets the batch kept for `segment`. */
  delete(segment: Segment): void {
    const entry = this.#entries.get(segment);
    if (entry === undefined) return;
    this.#entries.delete(segment);
    this.#bytes -= entry.bytes.buffer.byteLength;
  }

  /** Bytes held now (for tests). */
  get bytes(): number {
    return this.#bytes;
  }
}
