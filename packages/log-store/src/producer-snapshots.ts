// Producer state on disk: snapshot files of a partition's ProducerStateManager, and its rebuild at open
// (the latest valid snapshot, then a scan of the batch headers after it).
//
// A snapshot is only a cache of what the batch headers say up to its offset; the headers are the truth.
// Snapshots are taken at every segment roll (valid up to the new segment's base offset) and at a clean
// close (up to the log end), so a rebuild after a crash scans at most the active segment plus whatever
// was appended while its roll's snapshot was being written.
import { join } from "node:path";
import type { FileSystem } from "./file-system.js";
import { fsyncDir, writeFileAtomic } from "./fs-utils.js";
import type { EpochLookup } from "./leader-epoch-cache.js";
import { corruptError, type LogSegment } from "./log-segment.js";
import type { ProducerStateManager } from "./producer-state.js";
import { batchProducer, checkBatch } from "./record-batch.js";

/** `00000000000000000042.snapshot`: valid for the log below offset 42 (Kafka's name for the same file). */
export const snapshotFileName = (offset: number): string => `${String(offset).padStart(20, "0")}.snapshot`;

/** The offset in a snapshot file name, `undefined` for any other name. */
export function parseSnapshotFileName(name: string): number | undefined {
  const match = /^(\d{20})\.snapshot$/.exec(name);
  if (!match) return undefined;
  const offset = Number(match[1]);
  return Number.isSafeInteger(offset) ? offset : undefined;
}

/** Bytes read per step of a rebuild scan. */
const SCAN_CHUNK = 8 * 1024 * 1024;

/** What a rebuild did (for tests and the open-time measurement). */
export interface ProducerStateLoad {
  /** Offset of the snapshot used, or -1 when none was valid. */
  snapshotOffset: number;
  /** Bytes of batches read after it. */
  scannedBytes: number;
  /** Batches read after it. */
  scannedBatches: number;
}

/**
 * The snapshot files of one partition. Writes run one at a time, in the order they were taken; after
 * each, only the two newest snapshots are kept: the newest may describe data whose segment fsync has not
 * finished yet (a crash then cuts the log below it, and the rebuild falls back to the one before, whose
 * data was durable before the newest roll began).
 */
export class ProducerSnapshots {
  private writes: Promise<void> = Promise.resolve();
  /** The highest offset of a snapshot written completely (fsynced unless `sync` is off). */
  durableOffset = -1;
  /** The offset of the newest snapshot taken (written or not). */
  latestOffset = -1;
  /** Set when the log was abandoned (topic deleted): writes not yet started are dropped. */
  private abandoned = false;
  /** What the rebuild at open did. */
  loaded: ProducerStateLoad = { snapshotOffset: -1, scannedBytes: 0, scannedBatches: 0 };

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly sync: boolean,
  ) {}

  /** Captures the state now, as valid below `offset`, and writes it in the background. */
  take(state: ProducerStateManager, offset: number): void {
    const bytes = state.encodeSnapshot(offset);
    this.latestOffset = offset;
    this.writes = this.writes.then(async () => {
      // The directory may be gone, or even hold a new topic of the same name by now.
      if (this.abandoned) return;
      try {
        await writeFileAtomic(this.fs, join(this.dir, snapshotFileName(offset)), bytes, this.sync);
      } catch {
        // A snapshot is a cache: without it a rebuild scans further back. Retention waits for one (covers()).
        return;
      }
      this.durableOffset = Math.max(this.durableOffset, offset);
      try {
        const offsets = this.list().sort((a, b) => b - a);
        for (const old of offsets.slice(2)) this.fs.removeSync(join(this.dir, snapshotFileName(old)));
      } catch {
        // Left for the next write to remove.
      }
    });
  }

  /**
   * Drops the writes that have not started (the log's directory is being deleted). A write that has started
   * put its temp file in the directory already, so it moves away with it.
   */
  abandon(): void {
    this.abandoned = true;
  }

  /** Resolves once every snapshot taken so far is written (or failed). */
  settled(): Promise<void> {
    return this.writes;
  }

  /**
   * Whether the producer state of every batch below `offset` is in a durable snapshot (waiting for the
   * writes in flight): retention may delete a segment ending at `offset` only then, or a crash could
   * leave no record of producers that only appear in it.
   */
  async covers(offset: number): Promise<boolean> {
    await this.writes;
    return this.durableOffset >= offset;
  }

  /**
   * Removes the snapshots past `offset` (the log is being truncated to end there: they describe batches
   * that go away) and fsyncs the directory, after the writes in flight. A snapshot at `offset` itself stays
   * (it describes the batches below it). The caller then rebuilds the producer state with {@link load}.
   */
  async removeAfter(offset: number): Promise<void> {
    await this.writes;
    let removed = false;
    for (const at of this.list()) {
      if (at <= offset) continue;
      this.fs.removeSync(join(this.dir, snapshotFileName(at)));
      removed = true;
    }
    if (removed) await fsyncDir(this.fs, this.dir);
  }

  private list(): number[] {
    const out: number[] = [];
    for (const name of this.fs.readdirSync(this.dir)) {
      const offset = parseSnapshotFileName(name);
      if (offset !== undefined) out.push(offset);
    }
    return out;
  }

  /**
   * Rebuilds `state` for the log made of `segments` (after their recovery): loads the newest snapshot that
   * is valid and not past the log end (removing those that are not: a snapshot past the end describes
   * batches a crash took back, and would be wrong once new batches reach its offset), then replays the
   * producer fields of every batch after it. Replayed producers count as seen at `now`, so a restart never
   * expires a producer early. Batches are checked against `epochs` (the partition's leader epochs).
   * @throws LogStoreError `CORRUPT_RECORD` when a batch to replay fails its checks.
   */
  async load(state: ProducerStateManager, segments: readonly LogSegment[], now: number, epochs?: EpochLookup): Promise<ProducerStateLoad> {
    const logStart = segments[0]!.baseOffset;
    const logEnd = segments[segments.length - 1]!.nextOffset;
    let snapshotOffset = -1;
    for (const offset of this.list().sort((a, b) => b - a)) {
      const path = join(this.dir, snapshotFileName(offset));
      if (snapshotOffset < 0 && offset <= logEnd) {
        const loaded = state.loadSnapshot(this.fs.readFileSync(path));
        if (loaded === offset) {
          snapshotOffset = offset;
          continue;
        }
      }
      if (snapshotOffset < 0) this.fs.removeSync(path);
    }
    this.durableOffset = snapshotOffset;
    this.latestOffset = snapshotOffset;
    const from = Math.max(snapshotOffset, logStart);
    const result: ProducerStateLoad = { snapshotOffset, scannedBytes: 0, scannedBatches: 0 };
    for (const segment of segments) {
      if (segment.nextOffset <= from) continue;
      await replaySegment(segment, from, state, now, result, epochs);
    }
    this.loaded = result;
    return result;
  }
}

async function replaySegment(
  segment: LogSegment,
  from: number,
  state: ProducerStateManager,
  now: number,
  result: ProducerStateLoad,
  epochs: EpochLookup | undefined,
): Promise<void> {
  const end = segment.size;
  let { position, baseOffset: expected } = from > segment.baseOffset ? segment.lookup(from) : { position: 0, baseOffset: segment.baseOffset };
  let want = SCAN_CHUNK;
  while (position < end) {
    const buf = await segment.read(position, Math.min(end - position, want));
    let i = 0;
    while (i < buf.length) {
      const check = checkBatch(buf, i, buf.length - i, true, epochs);
      if ("incomplete" in check) {
        if (position + i + check.needed > end)
          throw corruptError(segment.logPath, position + i, expected, `batch of ${check.needed} bytes extends past the end of the segment`);
        if (i === 0) want = check.needed;
        break;
      }
      if ("corrupt" in check) throw corruptError(segment.logPath, position + i, expected, check.corrupt);
      if (check.baseOffset !== expected)
        throw corruptError(segment.logPath, position + i, expected, `batch base offset ${check.baseOffset}, expected ${expected}`);
      expected = check.lastOffset + 1;
      if (check.lastOffset >= from) {
        const producer = batchProducer(buf, i);
        if (producer !== undefined)
          state.replay(producer.producerId, producer.producerEpoch, producer.baseSequence, check.baseOffset, check.lastOffset, now);
        result.scannedBytes += check.size;
        result.scannedBatches++;
      }
      i += check.size;
    }
    position += i;
    if (i > 0) want = SCAN_CHUNK;
  }
}
