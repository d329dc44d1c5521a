// Producer id allocation (Kafka's InitProducerId / ProducerIdManager): ids are handed out from blocks,
// and a block is made durable before the first id of it is handed out, so no id is ever given twice, even
// across a crash (the rest of a block that was being used when the process died is skipped).
import { join } from "node:path";
import { LogStoreError } from "./errors.js";
import type { FileSystem } from "./file-system.js";
import { errnoCode, writeFileAtomic } from "./fs-utils.js";

/** The file, in the data directory (a reserved name: no topic can be called `__…`). */
export const PRODUCER_IDS_FILE = "__producer_ids";
/** Ids per durable block (Kafka's controller hands out blocks of 1000 too). */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

/** What {@link LogStore.initProducerId} returns. */
export interface InitProducerIdResult {
  /** A producer id never returned before by this data directory. */
  producerId: number;
  /** Always 0 for a fresh id; the producer raises it itself to fence its older sessions. */
  producerEpoch: number;
}

/** Allocates producer ids for one data directory. Calls are served one at a time, in call order. */
export class ProducerIdManager {
  private next = 0;
  /** One past the last id of the durable block (`next === blockEnd`: a new block is needed). */
  private blockEnd = -1;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly fs: FileSystem,
    private readonly dataDir: string,
  ) {}

  /** A fresh producer id. @throws LogStoreError `KAFKA_STORAGE_ERROR`, `DISK_FULL` */
  allocate(): Promise<InitProducerIdResult> {
    const run = this.queue.then(() => this.allocateNow());
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves once no allocation is in flight. */
  settled(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  private async allocateNow(): Promise<InitProducerIdResult> {
    const path = join(this.dataDir, PRODUCER_IDS_FILE);
    if (this.blockEnd < 0) {
      this.blockEnd = this.next = this.load(path);
    }
    if (this.next >= this.blockEnd) {
      const end = this.next + PRODUCER_ID_BLOCK_SIZE;
      if (!Number.isSafeInteger(end)) throw new LogStoreError("KAFKA_STORAGE_ERROR", "producer ids are exhausted");
      try {
        // Always fsynced, whatever the fsync policy: reusing an id after a crash would let two producers
        // share one sequence space.
        await writeFileAtomic(this.fs, path, `${JSON.stringify({ nextProducerIdBlock: end })}\n`, true);
      } catch (error) {
        const code = errnoCode(error) === "ENOSPC" ? "DISK_FULL" : "KAFKA_STORAGE_ERROR";
        throw new LogStoreError(code, `cannot allocate producer ids: ${(error as Error).message}`, { cause: error });
      }
      this.blockEnd = end;
    }
    return { producerId: this.next++, producerEpoch: 0 };
  }

  private load(path: string): number {
    let text: string;
    try {
      text = this.fs.readFileSync(path).toString("utf8");
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return 0;
      throw new LogStoreError("KAFKA_STORAGE_ERROR", `cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
    let next: unknown;
    try {
      next = (JSON.parse(text) as { nextProducerIdBlock?: unknown }).nextProducerIdBlock;
    } catch {
      next = undefined;
    }
    // Replaced atomically, so anything else is damage: guessing could hand out an id twice.
    if (typeof next !== "number" || !Number.isSafeInteger(next) || next < 0)
      throw new LogStoreError(
        "KAFKA_STORAGE_ERROR",
        `${path} is damaged (${JSON.stringify(text.slice(0, 80))}); producer ids cannot be allocated safely`,
      );
    return next;
  }
}
