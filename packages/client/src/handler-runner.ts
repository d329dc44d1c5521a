import type { Batch, EachBatchPayload, EachMessagePayload } from "./consumer.js";
import type { FetchedBatch } from "./fetch-manager.js";
import { decodeMessages } from "./message-decoder.js";
import type { PartitionState } from "./partition-state.js";
import type { PartitionTable, TopicPartitionsSelection } from "./partition-table.js";
import type { MessageFormat } from "./types.js";
import type { WireRecord } from "./wire.js";

/** A handler's failure: what it threw. */
export interface HandlerFailure {
  error: unknown;
}

/** What {@link HandlerRunner} works with. */
export interface HandlerRunnerOptions<T> {
  /** Exactly one of `eachMessage` and `eachBatch`. */
  eachMessage: ((payload: EachMessagePayload<T>) => Promise<void>) | undefined;
  eachBatch: ((payload: EachBatchPayload<T>) => Promise<void>) | undefined;
  /** With `eachBatch`: a batch that returns counts as fully processed. */
  autoResolve: boolean;
  format: MessageFormat;
  table: PartitionTable;
  isRunning(): boolean;
  pause(selections: readonly TopicPartitionsSelection[]): void;
  resume(selections: readonly TopicPartitionsSelection[]): void;
  /** What `commitOffsetsIfNecessary()` does. */
  commitPositions(): Promise<void>;
}

/**
 * Hands fetched records to the user's handler, one message (or batch) at a time, in offset order per
 * partition, while the partition stays deliverable and unsought, moving its position as records are
 * handled. The partition whose handler runs is busy: a revocation waits for it ({@link HandlerRunner.whenIdle}),
 * and the position moves before the partition stops being busy, so the revocation commits it. Internal.
 */
export class HandlerRunner<T> {
  readonly #o: HandlerRunnerOptions<T>;
  /** The partition whose handler is running, if any. */
  #busyKey: string | undefined;
  #idleWaiters: Array<() => void> = [];

  constructor(options: HandlerRunnerOptions<T>) {
    this.#o = options;
  }

  /** Resolves once no handler of these partitions (by key) is running. */
  async whenIdle(keys: ReadonlySet<string>): Promise<void> {
    while (this.#busyKey !== undefined && keys.has(this.#busyKey)) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Hands the batches to the handler; returns the failure that stopped it, if any. */
  async handle(batches: readonly FetchedBatch[]): Promise<HandlerFailure | undefined> {
    const { table } = this.#o;
    for (const { state, records } of batches) {
      if (!table.deliverable(state)) continue;
      const generation = state.generation;
      let start = 0;
      // Already handed out (a commit that did not go through makes the group fetch serve them again).
      if (state.position !== undefined) while (start < records.length && records[start]!.offset < state.position) start++;
      if (start === records.length) continue;
      const pause = () => {
        const selection = [{ topic: state.topic, partitions: [state.partition] }];
        this.#o.pause(selection);
        return () => this.#o.resume(selection);
      };
      const failure =
        this.#o.eachMessage !== undefined
          ? await this.#eachMessageOf(state, records, start, generation, pause)
          : await this.#eachBatchOf(state, records, start, generation, pause);
      if (failure !== undefined) return failure;
    }
    return undefined;
  }

  /** Hands a partition's records to `eachMessage` one at a time, each position moving before the next check. */
  async #eachMessageOf(
    state: PartitionState,
    records: WireRecord[],
    start: number,
    generation: number,
    pause: () => () => void,
  ): Promise<HandlerFailure | undefined> {
    const handler = this.#o.eachMessage!;
    const { table } = this.#o;
    const { topic, partition } = state;
    const messages = decodeMessages<T>(records, start, this.#o.format);
    this.#busyKey = state.key;
    try {
      for (let i = start; i < records.length; i++) {
        if (!table.deliverable(state) || state.generation !== generation) break;
        const record = records[i]!;
        await handler({ topic, partition, message: messages[i - start]!, pause });
        if (state.generation === generation) state.position = record.offset + 1;
      }
      return undefined;
    } catch (error) {
      return { error };
    } finally {
      this.#idle();
    }
  }

  /** Hands a partition's records to `eachBatch` as one batch. */
  async #eachBatchOf(
    state: PartitionState,
    records: WireRecord[],
    start: number,
    generation: number,
    pause: () => () => void,
  ): Promise<HandlerFailure | undefined> {
    const { table } = this.#o;
    const messages = decodeMessages<T>(records, start, this.#o.format);
    const batch: Batch<T> = {
      topic: state.topic,
      partition: state.partition,
      messages,
      firstOffset: () => (messages.length === 0 ? null : messages[0]!.offset),
      lastOffset: () => messages[messages.length - 1]!.offset,
    };
    const isStale = () => !table.deliverable(state) || state.generation !== generation;
    const payload: EachBatchPayload<T> = {
      batch,
      resolveOffset: (offset: number) => {
        if (!isStale() && Number.isSafeInteger(offset) && offset + 1 > (state.position ?? 0)) state.position = offset + 1;
      },
      commitOffsetsIfNecessary: () => this.#o.commitPositions(),
      isRunning: () => this.#o.isRunning(),
      isStale,
      pause,
    };
    this.#busyKey = state.key;
    try {
      await this.#o.eachBatch!(payload);
      if (this.#o.autoResolve && state.generation === generation) state.position = batch.lastOffset() + 1;
      return undefined;
    } catch (error) {
      return { error };
    } finally {
      this.#idle();
    }
  }

  /** The running handler returned: wake the revocations waiting for it (rare: no promise is made per message otherwise). */
  #idle(): void {
    this.#busyKey = undefined;
    if (this.#idleWaiters.length > 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}
