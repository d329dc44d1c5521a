import { cpSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { text } from "../test/helpers/text.js";
import { isLogStoreError } from "./errors.js";
import { LogStore } from "./log-store.js";
import { PartitionLog, type PartitionLogOptions } from "./partition-log.js";
import type { ProducerStateLoad } from "./producer-snapshots.js";
import { PRODUCER_ID_BLOCK_SIZE } from "./producer-ids.js";

const p = (producerId: number, producerEpoch: number, sequence: number) => ({ producerId, producerEpoch, sequence });
const loadOf = (log: PartitionLog): ProducerStateLoad => (log as unknown as { snapshots: { loaded: ProducerStateLoad } }).snapshots.loaded;

/** The files of an open log as a kill -9 would leave them (written, in the page cache), minus its lock. */
function crashCopy(dir: string): string {
  const copy = tempDir();
  cpSync(dir, copy, { recursive: true, filter: (src) => !src.includes(".lock") });
  return copy;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isLogStoreError(error) ? error.code : String(error);
  }
  return "resolved";
}

/** Appends `batches` batches of two records for producer 1 (sequences 0, 2, 4, …) and one plain record between each. */
async function produce(log: PartitionLog, batches: number, fromBatch = 0): Promise<Array<{ baseOffset: number; lastOffset: number }>> {
  const out = [];
  for (let i = fromBatch; i < fromBatch + batches; i++) {
    out.push(await log.append([{ value: `p${i}a` }, { value: `p${i}b` }], { producer: p(1, 0, i * 2) }));
    await log.append([{ value: `plain${i}`.padEnd(120, ".") }]);
  }
  return out;
}

describe("producer state across restarts", () => {
  const options = (dir: string): PartitionLogOptions => ({ dir, segmentBytes: 2048, indexIntervalBytes: 256 });

  it("after a clean close: loads the close snapshot and scans nothing", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(options(dir));
    const acked = await produce(log, 30);
    await log.close();
    const again = await PartitionLog.open(options(dir));
    expect(loadOf(again)).toEqual({ snapshotOffset: again.logEndOffset, scannedBytes: 0, scannedBatches: 0 });
    // The last 5 batches are duplicates with their original offsets; the next sequence appends.
    for (let i = 25; i < 30; i++)
      expect(await again.append([{ value: `p${i}a` }, { value: `p${i}b` }], { producer: p(1, 0, i * 2) })).toEqual({ ...acked[i], duplicate: true });
    expect(await codeOf(again.append([{ value: "x" }], { producer: p(1, 0, 48) }))).toBe("OUT_OF_ORDER_SEQUENCE_NUMBER");
    const end = again.logEndOffset;
    expect(await again.append([{ value: "next" }], { producer: p(1, 0, 60) })).toEqual({ baseOffset: end, lastOffset: end });
    await again.close();
  });

  it("after a crash: rebuilds from the last roll's snapshot plus a scan of the active segment only", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(options(dir));
    const acked = await produce(log, 40);
    const segments = readdirSync(dir)
      .filter((n) => n.endsWith(".log"))
      .sort();
    expect(segments.length).toBeGreaterThan(3);
    const copy = crashCopy(dir);
    await log.close();
    const again = await PartitionLog.open(options(copy));
    const activeBase = Number(segments.at(-1)!.slice(0, 20));
    const load = loadOf(again);
    expect(load.snapshotOffset).toBe(activeBase);
    // Exactly the active segment's batches were replayed.
    expect(load.scannedBytes).toBe(statSync(join(copy, segments.at(-1)!)).size);
    expect(load.scannedBatches).toBeGreaterThan(0);
    for (let i = 35; i < 40; i++)
      expect(await again.append([{ value: `p${i}a` }, { value: `p${i}b` }], { producer: p(1, 0, i * 2) })).toEqual({ ...acked[i], duplicate: true });
    await again.close();
  });

  it("rebuilds the same state from the batch headers alone when every snapshot is gone", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(options(dir));
    const acked = await produce(log, 40);
    await log.close();
    for (const name of readdirSync(dir)) if (name.endsWith(".snapshot")) rmSync(join(dir, name));
    const again = await PartitionLog.open(options(dir));
    expect(loadOf(again).snapshotOffset).toBe(-1);
    expect(loadOf(again).scannedBatches).toBe(80);
    for (let i = 35; i < 40; i++)
      expect(await again.append([{ value: `p${i}a` }, { value: `p${i}b` }], { producer: p(1, 0, i * 2) })).toEqual({ ...acked[i], duplicate: true });
    await again.close();
  });

  it("ignores and removes a snapshot past the log end (it describes batches a crash took back) and a damaged one", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(options(dir));
    await produce(log, 3);
    await log.close();
    const end = log.logEndOffset;
    const snapshots = readdirSync(dir).filter((n) => n.endsWith(".snapshot"));
    expect(snapshots).toEqual([`${String(end).padStart(20, "0")}.snapshot`]);
    // A snapshot from a future that did not happen: producer 1 further on than the log says.
    const future = await PartitionLog.open(options(tempDir()));
    await produce(future, 10);
    await future.close();
    const futureDir = (future as unknown as { dir: string }).dir;
    const futureName = readdirSync(futureDir).find((n) => n.endsWith(".snapshot") && Number(n.slice(0, 20)) === future.logEndOffset)!;
    cpSync(join(futureDir, futureName), join(dir, futureName));
    writeFileSync(join(dir, `${String(end - 1).padStart(20, "0")}.snapshot`), "damaged");
    const again = await PartitionLog.open(options(dir));
    expect(loadOf(again).snapshotOffset).toBe(end);
    expect(readdirSync(dir).filter((n) => n.endsWith(".snapshot"))).toEqual(snapshots.concat(`${String(end - 1).padStart(20, "0")}.snapshot`).sort());
    // Producer 1 continues at sequence 6, as the log (not the foreign snapshot) says.
    expect(await again.append([{ value: "x" }], { producer: p(1, 0, 6) })).toEqual({ baseOffset: end, lastOffset: end });
    await again.close();
  });

  it("keeps producer state when retention deletes the segments it came from, across a crash", async () => {
    const dir = tempDir();
    const opts = { ...options(dir), retentionBytes: 4096 };
    const log = await PartitionLog.open(opts);
    const first = await log.append([{ value: "only" }], { producer: p(9, 2, 0) });
    for (let i = 0; i < 60; i++) await log.append([{ value: `plain${i}`.padEnd(200, ".") }]);
    await log.enforceRetention();
    expect(log.logStartOffset).toBeGreaterThan(first.lastOffset);
    const copy = crashCopy(dir);
    await log.close();
    const again = await PartitionLog.open({ ...opts, dir: copy });
    // The retry is still recognised, with its original (now deleted) offsets; the next sequence appends.
    expect(await again.append([{ value: "only" }], { producer: p(9, 2, 0) })).toEqual({ ...first, duplicate: true });
    expect(await codeOf(again.append([{ value: "x" }], { producer: p(9, 1, 1) }))).toBe("INVALID_PRODUCER_EPOCH");
    expect((await again.append([{ value: "x" }], { producer: p(9, 2, 1) })).baseOffset).toBe(again.logEndOffset - 1);
    await again.close();
  });

  it("expires producers idle past producerIdExpirationMs, also across a restart", async () => {
    const dir = tempDir();
    let now = 1_000_000;
    const clock = { now: () => now };
    const log = await PartitionLog.open({ ...options(dir), clock, producerIdExpirationMs: 60_000 });
    await log.append([{ value: "a" }], { producer: p(1, 0, 0) });
    await log.append([{ value: "b" }], { producer: p(2, 0, 0) });
    now += 30_000;
    await log.append([{ value: "c" }], { producer: p(2, 0, 1) });
    await log.close();
    now += 40_000; // producer 1 idle 70 s, producer 2 idle 40 s
    const again = await PartitionLog.open({ ...options(dir), clock, producerIdExpirationMs: 60_000 });
    expect(await codeOf(again.append([{ value: "d" }], { producer: p(1, 0, 1) }))).toBe("UNKNOWN_PRODUCER_ID");
    expect(await again.append([{ value: "c" }], { producer: p(2, 0, 1) })).toEqual({ baseOffset: 2, lastOffset: 2, duplicate: true });
    await again.close();
  });
});

describe("LogStore.initProducerId", () => {
  it("hands out unique ids with epoch 0, never reusing one after a restart or a crash", async () => {
    const dataDir = tempDir();
    const store = await LogStore.open({ dataDir });
    const ids = await Promise.all(Array.from({ length: 5 }, () => store.initProducerId()));
    expect(ids).toEqual([0, 1, 2, 3, 4].map((producerId) => ({ producerId, producerEpoch: 0 })));
    const crashed = crashCopy(dataDir);
    await store.close();
    // Restart: the rest of the block that was in use is skipped.
    const again = await LogStore.open({ dataDir });
    expect(await again.initProducerId()).toEqual({ producerId: PRODUCER_ID_BLOCK_SIZE, producerEpoch: 0 });
    await again.close();
    const afterCrash = await LogStore.open({ dataDir: crashed });
    expect(await afterCrash.initProducerId()).toEqual({ producerId: PRODUCER_ID_BLOCK_SIZE, producerEpoch: 0 });
    await afterCrash.close();
  });

  it("refuses to guess when the id file is damaged", async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, "__producer_ids"), "{ nope");
    const store = await LogStore.open({ dataDir });
    expect(await codeOf(store.initProducerId())).toBe("KAFKA_STORAGE_ERROR");
    await store.close();
  });

  it("makes idempotent appends through the store, per partition", async () => {
    const store = await LogStore.open({ dataDir: tempDir() });
    await store.createTopic("t", { partitions: 2 });
    const { producerId, producerEpoch } = await store.initProducerId();
    const a = await store.append("t", 0, [{ value: "a" }], { producer: { producerId, producerEpoch, sequence: 0 } });
    // Sequences are per partition: partition 1 starts at 0 too.
    expect(await store.append("t", 1, [{ value: "b" }], { producer: { producerId, producerEpoch, sequence: 0 } })).toEqual({
      baseOffset: 0,
      lastOffset: 0,
    });
    expect(await store.append("t", 0, [{ value: "a" }], { producer: { producerId, producerEpoch, sequence: 0 } })).toEqual({ ...a, duplicate: true });
    expect((await store.read("t", 0, 0)).records.map((r) => text(r.value))).toEqual(["a"]);
    await store.close();
  });
});
