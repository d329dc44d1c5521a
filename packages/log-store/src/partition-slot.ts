import { LogStoreError } from "./errors.js";
import type { PartitionLog, RecoveryPoint } from "./partition-log.js";
import type { PartitionDescription } from "./types.js";

/**
 * One partition of a {@link LogStore} topic: its {@link PartitionLog}, open from the start or, after a
 * clean shutdown, opened on first use from the point the shutdown recorded. Until then the partition
 * holds no descriptor and costs no file operation; descriptions and log ends come from the point.
 *
 * Calls made while the log is being opened run, once it is open, in the order they were made (appends
 * keep their call order, as on an open log).
 */
export class PartitionSlot {
  private log: PartitionLog | undefined;
  private opening: Promise<PartitionLog> | undefined;
  /** Calls waiting for the open: later calls wait behind them, so that call order is kept. */
  private queued = 0;
  private closed: Error | undefined;
  /** Set when a lazy open failed: the next clean shutdown must not record the old point again. */
  private openFailed = false;

  /**
   * @param openLog - opens the log (given the point to trust, if any)
   * @param point - where a clean shutdown left the partition (`undefined` with `log`)
   * @param log - an open log
   */
  constructor(
    private readonly openLog: (point: RecoveryPoint | undefined) => Promise<PartitionLog>,
    private readonly point: RecoveryPoint | undefined,
    log?: PartitionLog,
  ) {
    this.log = log;
  }

  /** The log, if open. */
  get opened(): PartitionLog | undefined {
    return this.log;
  }

  /** The log, if open and no call waits for the open: what {@link run} would call at once. */
  get ready(): PartitionLog | undefined {
    return this.queued === 0 ? this.log : undefined;
  }

  /** The point this slot was made from, while its log is not open. */
  get pendingPoint(): RecoveryPoint | undefined {
    return this.log === undefined ? this.point : undefined;
  }

  /** One past the last offset written. */
  get logEndOffset(): number {
    return this.log !== undefined ? this.log.logEndOffset : this.point!.logEndOffset;
  }

  /** The partition's offsets and size. */
  describe(partition: number): PartitionDescription {
    if (this.log !== undefined) return this.log.describe(partition);
    const p = this.point!;
    return { partition, logStartOffset: p.logStartOffset, logEndOffset: p.logEndOffset, highWatermark: p.logEndOffset, sizeBytes: p.sizeBytes };
  }

  /**
   * Runs `fn` on the log, opening it first if needed (calls queue behind an open in progress).
   * @throws what opening throws (`CORRUPT_RECORD`, `TOO_MANY_OPEN_FILES`, ...; the next call tries again),
   *   `STORE_CLOSED` or the deletion's error once the slot is closed.
   */
  run<T>(fn: (log: PartitionLog) => Promise<T>): Promise<T> {
    if (this.log !== undefined && this.queued === 0) return fn(this.log);
    if (this.closed) return Promise.reject(this.closed);
    this.queued++;
    return this.open().then(
      (log) => {
        this.queued--;
        return fn(log);
      },
      (error: unknown) => {
        this.queued--;
        throw error;
      },
    );
  }

  private open(): Promise<PartitionLog> {
    this.opening ??= this.openLog(this.openFailed ? undefined : this.point).then(
      (log) => {
        if (this.closed) {
          log.abandon(this.closed);
          throw this.closed;
        }
        this.log = log;
        return log;
      },
      (error: unknown) => {
        this.opening = undefined;
        this.openFailed = true;
        throw error;
      },
    );
    return this.opening;
  }

  /** Applies retention: an unopened log with a single segment has nothing to delete and stays closed. */
  enforceRetention(): Promise<number> {
    if (this.log === undefined && (this.point?.segmentCount ?? 2) < 2) return Promise.resolve(0);
    return this.run((log) => log.enforceRetention());
  }

  /**
   * Closes the log (flushing it) and resolves with what a clean shutdown may record for it: the log's
   * {@link PartitionLog.recoveryPoint}, the unchanged point of a log never opened, or `undefined`.
   */
  async close(): Promise<RecoveryPoint | undefined> {
    this.closed ??= new LogStoreError("STORE_CLOSED", "the log store is closed");
    if (this.log === undefined) await this.opening?.catch(() => undefined);
    const log = this.log;
    if (log === undefined) return this.openFailed ? undefined : this.point;
    await log.close();
    return log.recoveryPoint();
  }

  /** Closes without flushing; later calls fail with `error` (the topic was deleted). */
  abandon(error: Error): void {
    this.closed = error;
    this.log?.abandon(error);
  }
}
