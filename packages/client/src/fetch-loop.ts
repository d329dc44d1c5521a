import type { ClientClock } from "./clock.js";
import type { CommitScheduler } from "./commit-scheduler.js";
import type { FetchedBatch, FetchManager } from "./fetch-manager.js";
import type { GroupMember } from "./group-member.js";
import type { HandlerRunner } from "./handler-runner.js";
import type { RetryPolicy } from "./http.js";
import type { PartitionTable } from "./partition-table.js";
import { backoffMs, sleep } from "./sleep.js";

/** What {@link FetchLoop} works with. */
export interface FetchLoopOptions<T> {
  table: PartitionTable;
  fetcher: FetchManager;
  handler: HandlerRunner<T>;
  commits: CommitScheduler;
  member: () => GroupMember | undefined;
  retry: RetryPolicy;
  /** Drives the waits (idle, backoff, pacing of early empty answers). */
  clock: ClientClock;
  /** The long-poll wait, in ms. */
  waitMs: number;
  autoCommit: boolean;
  isRunning(): boolean;
  /** The current wake-up signal: aborts when something changed (assignment, seek, pause, stop). */
  wakeSignal(): AbortSignal;
  /** Aborts when the consumer stops. */
  stop: AbortSignal;
  /** The handler failed `retry.retries` times in a row: stop the consumer with this error. */
  crash(error: unknown): void;
}

/**
 * The consumer's loop while it runs: fetch the deliverable partitions, hand the records out, commit in the
 * background (while the next batch is fetched), back off after failures; idle (until woken) while nothing
 * is deliverable. Internal.
 */
export class FetchLoop<T> {
  readonly #o: FetchLoopOptions<T>;
  #handlerFailures = 0;

  constructor(options: FetchLoopOptions<T>) {
    this.#o = options;
  }

  /** Runs until the consumer stops running (or crashes). Never rejects. */
  async run(): Promise<void> {
    const o = this.#o;
    const { initialRetryTimeMs, maxRetryTimeMs, retries } = o.retry;
    const clock = o.clock;
    let fetchFailures = 0;
    while (o.isRunning()) {
      const wake = o.wakeSignal();
      const active = o.table.deliverableStates();
      if (active.length === 0 || o.member()?.memberId === undefined) {
        await sleep(clock, o.waitMs, wake);
        continue;
      }
      const started = clock.now();
      let batches: FetchedBatch[];
      try {
        batches = await o.fetcher.fetch(active, wake);
        fetchFailures = 0;
      } catch {
        if (!o.isRunning()) break;
        if (!wake.aborted) await sleep(clock, backoffMs(++fetchFailures, initialRetryTimeMs, maxRetryTimeMs), wake);
        continue;
      }
      if (batches.length === 0) {
        // An empty answer long before the wait was up: the broker had nothing to wait on (shutting down, or
        // its view of our assignment is ahead of ours). Do not spin.
        if (!wake.aborted && clock.now() - started < o.waitMs / 2) await sleep(clock, Math.min(o.waitMs, 500), wake);
        continue;
      }
      const failure = await o.handler.handle(batches);
      // The commit of this batch runs while the next one is fetched (fetches name our positions).
      if (o.autoCommit) o.commits.soon();
      if (failure !== undefined) {
        if (++this.#handlerFailures > retries) {
          o.crash(failure.error);
          break;
        }
        await o.commits.settled();
        await sleep(clock, backoffMs(this.#handlerFailures, initialRetryTimeMs, maxRetryTimeMs), o.stop);
      } else {
        this.#handlerFailures = 0;
      }
    }
  }
}
