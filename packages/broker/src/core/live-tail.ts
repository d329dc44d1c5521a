// Live reads shared by every reader at the tail of one log (SSE of a Durable Stream or of a topic partition).
//
// A reader first reads on its own from its offset (the catch-up), then joins the log's one shared tail as
// soon as it stands exactly where the tail will read next. The tail waits for appends once, reads the new
// records once, and has each round's bytes encoded once per reader profile (encoding, cursor): the same
// bytes go to every reader of that profile. A reader that falls behind (its client does not take the
// bytes) is dropped by its channel, not buffered without bound; one shutdown listener for all tails, not
// one per reader. The tail stops (and releases its wait) when its last reader leaves.

/** What one read of the log gave: where the next read starts, and the round's bytes for each profile. */
export interface TailRound<P> {
  /** Where the next read starts (one past the last record of this round, or the read's start if none). */
  readonly next: number;
  /** The round had no records (a wake for nothing, or a keep-alive after a timeout). */
  readonly empty: boolean;
  /** The log ends with this round (a closed stream): its readers are ended after it. */
  readonly final: boolean;
  /** The bytes readers of `profile` receive for this round (memoized per profile by the source). */
  bytes(profile: P): Uint8Array;
}

/** The log a tail follows. */
export interface LiveTailSource<P> {
  /**
   * Reads from `from` (records below `cap` only, when given). `undefined`: the log is gone (deleted,
   * expired); its readers are ended.
   */
  read(from: number, cap?: number): Promise<TailRound<P> | undefined>;
  /** Resolves `true` when something at `from` or later is readable, `false` after `timeoutMs`; never rejects. */
  wait(from: number, timeoutMs: number, signal: AbortSignal): Promise<boolean>;
}

/** One live reader: where its bytes go. */
export interface LiveReader<P> {
  /** How its bytes are encoded (readers of equal profiles share each round's bytes). */
  readonly profile: P;
  /** The reader has ended (client gone, dropped, deadline): the tail forgets it. */
  readonly ended: boolean;
  /**
   * Hands `bytes` to the client; `false` if the reader ended instead (it had too much queued already:
   * dropped). Must not throw.
   */
  send(bytes: Uint8Array): boolean;
  /** The log ended (closed stream, deleted log, shutdown): end the response. */
  end(): void;
  /** Set by the tail: called (once) by the reader when it ends on its own. */
  onEnded: (() => void) | undefined;
}

/** Options of {@link LiveTails}. */
export interface LiveTailsOptions {
  /** Aborted when the broker shuts down: every reader ends (one listener for the whole registry). */
  shutdown: AbortSignal;
  /** A tail with nothing new sends a keep-alive round after this long, in ms. */
  keepAliveMs: number;
  /** Logs a failed read (the tail's readers are then ended). */
  onError?: ((error: unknown) => void) | undefined;
  /**
   * Pacing of a tail with many readers: after a round whose delivery (the writes to every reader's
   * connection) took `spent` ms, the tail pauses that long (at most `maxPauseMs`, default 25) before its
   * next read, so that one stream's fan-out takes at most about half of the event loop and appends and
   * other requests keep their share; the next round carries everything appended meanwhile. Rounds that
   * took under `minSpentMs` (default 2: a few dozen readers) are not paced.
   */
  pacing?: { maxPauseMs?: number | undefined; minSpentMs?: number | undefined } | undefined;
  /** Milliseconds, for pacing (default `performance.now`). */
  now?: (() => number) | undefined;
  /** Waits `ms` (default a timer); for tests. */
  pause?: ((ms: number) => Promise<void>) | undefined;
}

/**
 * Readers a round is handed to in one turn of the event loop (`LiveTail.#deliver`). bench:streams C (1,000
 * readers, 1,000 appends/s), two pairs at load 3.7-7.2: reader p99 78 and 169 ms with slices of 200
 * against 381 and 645 ms without, the broker's event-loop delay p99 7-13 against 43-88 ms.
 */
const DELIVERY_SLICE = 200;

interface Waiter {
  resolve(): void;
}

class LiveTail<P> {
  readonly readers = new Set<LiveReader<P>>();
  /** Where the tail reads next: every reader in `readers` has received everything before it. */
  next: number;
  running = false;
  stopped = false;
  #wait = new AbortController();
  /** Readers ahead of the tail, waiting for its next round. */
  #roundWaiters: Waiter[] = [];

  constructor(
    readonly key: string,
    readonly source: LiveTailSource<P>,
    next: number,
    readonly options: LiveTailsOptions,
    readonly onStopped: (tail: LiveTail<P>) => void,
  ) {
    this.next = next;
  }

  add(reader: LiveReader<P>): void {
    this.readers.add(reader);
    reader.onEnded = () => this.remove(reader);
    if (!this.running) void this.#run();
  }

  remove(reader: LiveReader<P>): void {
    if (!this.readers.delete(reader)) return;
    reader.onEnded = undefined;
    if (this.readers.size === 0 && this.#roundWaiters.length === 0) this.stop(false);
  }

  /** Resolves after the tail's next round (or when it stops). */
  nextRound(): Promise<void> {
    if (!this.running && !this.stopped) void this.#run();
    return new Promise((resolve) => this.#roundWaiters.push({ resolve }));
  }

  /** Stops the tail (its wait is released); with `endReaders`, ends every reader too. */
  stop(endReaders: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    this.#wait.abort();
    this.onStopped(this);
    const readers = [...this.readers];
    this.readers.clear();
    for (const r of readers) {
      r.onEnded = undefined;
      if (endReaders) r.end();
    }
    this.#wakeRoundWaiters();
  }

  #wakeRoundWaiters(): void {
    const waiters = this.#roundWaiters;
    this.#roundWaiters = [];
    for (const w of waiters) w.resolve();
  }

  async #run(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped && (this.readers.size > 0 || this.#roundWaiters.length > 0)) {
        const woke = await this.source.wait(this.next, this.options.keepAliveMs, this.#wait.signal);
        if (this.stopped) return;
        let round: TailRound<P> | undefined;
        try {
          round = await this.source.read(this.next);
        } catch (error) {
          if (this.stopped) return; // stopped meanwhile (its store may be closing): nothing to report
          this.options.onError?.(error);
          round = undefined;
        }
        if (this.stopped) return;
        if (round === undefined) {
          this.stop(true);
          return;
        }
        // A wake that found nothing new (a control record) sends nothing; a timeout sends a keep-alive.
        const delivering = !round.empty || !woke || round.final;
        const started = delivering ? this.#now() : 0;
        if (delivering) await this.#deliver(round);
        if (this.stopped) return;
        this.next = round.next;
        this.#wakeRoundWaiters();
        if (round.final) {
          this.stop(true);
          return;
        }
        if (delivering && !round.empty) await this.#pace(started);
      }
      if (!this.stopped) this.stop(false);
    } catch (error) {
      // A broken round (its encoding threw) or clock: logged, and the tail's readers ended (they reconnect
      // from their last offset) instead of an unhandled rejection that would take the process down.
      this.options.onError?.(error);
      this.stop(true);
    } finally {
      this.running = false;
    }
  }

  #now(): number {
    return this.options.now ? this.options.now() : performance.now();
  }

  /** After a costly round: measures it with its writes, then pauses as long as it took (bounded). */
  async #pace(started: number): Promise<void> {
    const minSpent = this.options.pacing?.minSpentMs ?? 2;
    const maxPause = this.options.pacing?.maxPauseMs ?? 25;
    if (maxPause <= 0 || this.readers.size === 0) return;
    // Node sends each response's writes on the next tick, queued during the round: a tick queued after
    // them sees them done (and nothing else the event loop had to do meanwhile, so a tail with few readers
    // on a busy broker is not paced for others' work).
    const spent = await new Promise<number>((resolve) => process.nextTick(() => resolve(this.#now() - started)));
    if (spent < minSpent || this.stopped) return;
    const pause = this.options.pause ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    await pause(Math.min(spent, maxPause));
  }

  /**
   * Hands the round to every reader, {@link DELIVERY_SLICE} at a time with a turn of the event loop between
   * slices, so that a round for many readers (each a socket write: ~20 µs of kernel time per reader on a
   * small VM, ~20 ms for 1,000) does not hold the loop for the whole fan-out: appends, their answers and
   * other requests run between slices. The live set is iterated, so a reader that joins meanwhile (it
   * stands where this round starts) gets the round too; one that leaves is skipped.
   */
  async #deliver(round: TailRound<P>): Promise<void> {
    let sent = 0;
    for (const r of this.readers) {
      if (r.ended || !r.send(round.bytes(r.profile))) {
        this.readers.delete(r);
        r.onEnded = undefined;
      }
      if (++sent % DELIVERY_SLICE === 0 && sent < this.readers.size) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.stopped) return;
      }
    }
  }
}

/**
 * The shared tails of many logs, by key (one per stream, or per partition and read limits). Readers are
 * served by {@link LiveTails.serve}: their own catch-up reads until they reach the shared tail, then the
 * tail's rounds.
 */
export class LiveTails<P> {
  readonly #tails = new Map<string, LiveTail<P>>();
  readonly #options: LiveTailsOptions;

  constructor(options: LiveTailsOptions) {
    this.#options = options;
    // One listener for every tail of this registry (a listener per reader or tail would trip Node's
    // MaxListenersExceeded warning and cost a listener per waiting reader).
    options.shutdown.addEventListener("abort", () => this.stopAll(), { once: true });
  }

  /** Stops every tail and ends its readers (shutdown). */
  stopAll(): void {
    for (const tail of [...this.#tails.values()]) tail.stop(true);
  }

  /** Readers following a shared tail now (for tests and metrics). */
  get readers(): number {
    let n = 0;
    for (const t of this.#tails.values()) n += t.readers.size;
    return n;
  }

  /** Tails running now (for tests). */
  get tails(): number {
    return this.#tails.size;
  }

  /**
   * Serves `reader` from `from` (where its first round, already sent by the caller, left off) until it or
   * the log ends: reads on its own (capped at the tail's position) while behind the tail, waits for the
   * tail's next round while ahead of it, and joins it when exactly at its position. Never rejects.
   */
  async serve(key: string, source: LiveTailSource<P>, reader: LiveReader<P>, from: number): Promise<void> {
    try {
      for (;;) {
        if (reader.ended) return;
        if (this.#options.shutdown.aborted) {
          reader.end();
          return;
        }
        const tail = this.#tail(key, source, from);
        if (from === tail.next) {
          tail.add(reader);
          return;
        }
        if (from > tail.next) {
          // The tail has not read up to this reader yet: it will, in its next round.
          await tail.nextRound();
          continue;
        }
        const round = await source.read(from, tail.next);
        if (reader.ended) return;
        if (round === undefined) {
          reader.end();
          return;
        }
        if (!round.empty || round.final) {
          if (!reader.send(round.bytes(reader.profile))) return;
        }
        if (round.final) {
          reader.end();
          return;
        }
        if (round.next === from) await tail.nextRound(); // nothing below the tail's position after all
        from = round.next;
      }
    } catch (error) {
      this.#options.onError?.(error);
      reader.end();
    }
  }

  #tail(key: string, source: LiveTailSource<P>, from: number): LiveTail<P> {
    let tail = this.#tails.get(key);
    if (tail === undefined || tail.stopped) {
      tail = new LiveTail(key, source, from, this.#options, (t) => {
        if (this.#tails.get(t.key) === t) this.#tails.delete(t.key);
      });
      this.#tails.set(key, tail);
    }
    return tail;
  }
}
