// Reused read buffers for catch-up reads of Durable Streams.
//
// A catch-up answer is up to 8 MiB of records, read from the log in file reads of up to 4 MiB, each into a
// new buffer: the records' values are views into it, and the answer sends them as they are. A fresh buffer
// of that size is a new mapping (page faults on first touch), and its external memory makes V8 run full
// garbage collections every few tens of MiB read. A reader catching up on 100 MB paid more for that than for
// reading and sending the bytes (bench:streams B: ~290 vs ~160-190 ms for the same reads with buffers
// reused). So the answer's file reads go into buffers of this pool (log-store `ReadOptions.readBuffer`),
// leased for the answer and given back once it has been sent (or its connection is gone), when nothing
// reads from them any more.

/** Options of a {@link ReadBufferPool}. */
export interface ReadBufferPoolOptions {
  /** Size of each buffer: file reads longer than this get a new buffer of their own. */
  bufferBytes: number;
  /** File reads shorter than this get a new buffer too (a small allocation costs little). */
  minReadBytes: number;
  /** Buffers kept for reuse at most; more given back are left to the garbage collector. */
  maxIdle: number;
  /** A buffer not taken for this long (ms) is let go by {@link ReadBufferPool.trim}. */
  idleMs: number;
  /** Milliseconds (default `performance.now`). */
  now?: (() => number) | undefined;
}

/** A few large buffers reused by reads: taken through a {@link ReadLease}, back when the lease is released. */
export class ReadBufferPool {
  readonly #options: ReadBufferPoolOptions;
  /** Buffers not in use, the most recently given back last, with when they were given back. */
  readonly #idle: Array<{ buffer: Buffer; since: number }> = [];
  /** Buffers made so far (for tests and metrics). */
  allocated = 0;

  constructor(options: ReadBufferPoolOptions) {
    this.#options = options;
  }

  /** Buffers kept for reuse now. */
  get idle(): number {
    return this.#idle.length;
  }

  /** A lease for one read's buffers (and whatever keeps views into them until it is released). */
  lease(): ReadLease {
    return new ReadLease(this);
  }

  /** Lets go of buffers idle for longer than `idleMs`, so a burst of reads does not hold memory for good. */
  trim(): void {
    const now = this.#now();
    while (this.#idle.length > 0 && now - this.#idle[0]!.since > this.#options.idleMs) this.#idle.shift();
  }

  /** @internal A buffer for a file read of `size` bytes, or `undefined` (allocate one) when out of range. */
  take(size: number): Buffer | undefined {
    if (size > this.#options.bufferBytes || size < this.#options.minReadBytes) return undefined;
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle.buffer;
    this.allocated++;
    return Buffer.allocUnsafeSlow(this.#options.bufferBytes);
  }

  /** @internal Takes `buffer` back (nothing may read from or write to it any more). */
  give(buffer: Buffer): void {
    if (this.#idle.length < this.#options.maxIdle) this.#idle.push({ buffer, since: this.#now() });
  }

  #now(): number {
    return this.#options.now ? this.#options.now() : performance.now();
  }
}

/**
 * The buffers one read took from a {@link ReadBufferPool}: the records read into them are views, valid
 * until {@link ReadLease.release}. Not released (an answer that failed on the way), they are simply not
 * reused.
 */
export class ReadLease {
  #taken: Buffer[] = [];
  #released = false;

  constructor(readonly pool: ReadBufferPool) {}

  /** For log-store's `ReadOptions.readBuffer`: a pool buffer for a file read of `size` bytes, or `undefined`. */
  readonly take = (size: number): Buffer | undefined => {
    if (this.#released) return undefined;
    const buffer = this.pool.take(size);
    if (buffer !== undefined) this.#taken.push(buffer);
    return buffer;
  };

  /** Buffers taken so far. */
  get buffers(): number {
    return this.#taken.length;
  }

  /** Gives the buffers back: nothing may use the records read into them afterwards. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    const taken = this.#taken;
    this.#taken = [];
    for (const b of taken) this.pool.give(b);
  }
}
