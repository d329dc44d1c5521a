// Throughput of @minikafka/log-store against the raw file system, measured in the same run.
// Run: pnpm --filter @minikafka/log-store bench   (LOG_STORE_BENCH_SECONDS=2 for longer measurements)
//
// Cases (100-byte record values, one partition):
//   - appends in batches of 1, 100 and 1000 under each fsync policy; baseline: fs.writeSync of the same
//     bytes per batch (taken from the store's own metrics), with fdatasync per batch for "always", every
//     fsyncIntervalMs for "interval", never for "never";
//   - a sequential read of a whole partition; baseline: fs.readSync of its segment files in the same
//     bytes per call, decoding nothing;
//   - 32 concurrent single-record appenders under fsync "always" (group commit); baseline: one raw writer
//     doing writeSync + fdatasync per record.
// Figures on a shared machine are noisy: the store/raw ratios of one run are what to compare. Exit code is
// 0 even when a target is missed (this is a report); it is 1 only if the bench itself breaks.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { LogStore, type FsyncPolicy, type LogStoreMetrics, type RecordInput } from "@minikafka/log-store";
import { crc32c, crc32cImplementation } from "../src/crc32c.js";

const VALUE_BYTES = 100;
const BATCH_SIZES = [1, 100, 1000] as const;
const POLICIES: readonly FsyncPolicy[] = ["always", "interval", "never"];
/** The store's default; the raw "interval" baseline fsyncs on the same period. */
const FSYNC_INTERVAL_MS = 100;
/** Wall time of one measurement; each case measures store and raw ROUNDS times each (see measurePair). */
const SECONDS = Number(process.env.LOG_STORE_BENCH_SECONDS ?? "") || 1;
const ROUNDS = 3;
/** Caps the bytes one run writes (~220 MB): each run deletes its files at once, so dirty pages are dropped
 * before writeback and fast cases stay a CPU + page-cache measurement, not a disk-bandwidth one. */
const MAX_RECORDS_PER_RUN = 2_000_000;
/** Even on a very slow disk, time enough batches for a meaningful rate. */
const MIN_BATCHES = 20;
/** A sequential appender awaits nothing real under "interval"/"never" (append resolves in a microtask), so
 * timers would never fire; a server yields between requests, so we yield to the event loop this often. */
const YIELD_EVERY_MS = 1;
const READ_RECORDS = 300_000;
const READ_MAX_RECORDS = 5000;
/** The store's default maxBytes; 5000 records (~555 KB) fit, so maxRecords is what limits each read. */
const READ_MAX_BYTES = 1 << 20;
const CONCURRENT_APPENDERS = 32;
const TOPIC = "bench";
const TARGET_BATCH_1000_RATIO = 0.5;
const TARGET_RECORDS_PER_FSYNC = 10;

/** One timed run of either side: what it moved and how long it took. */
interface Run {
  records: number;
  bytes: number;
  /** Batches written or read calls made. */
  ops: number;
  fsyncs: number;
  seconds: number;
  /** Store appends: the longest one `append()` call kept the event loop (its synchronous part), ms. */
  slowestCallMs?: number;
}

interface Pair {
  /** The fastest store run. */
  store: Run;
  /** The fastest raw run. */
  raw: Run;
  /** Every run, in round order: checks that must hold in each round, and the spread of per-round ratios. */
  storeRounds: Run[];
  rawRounds: Run[];
}

const rootDir = fs.mkdtempSync(join(tmpdir(), "log-store-bench-"));
let dirSeq = 0;
const freshPath = (name: string): string => join(rootDir, `${name}-${dirSeq++}`);

const recordsPerSecond = (run: Run): number => run.records / run.seconds;
const bytesPerSecond = (run: Run): number => run.bytes / run.seconds;
const faster = (a: Run, b: Run): Run => (recordsPerSecond(a) >= recordsPerSecond(b) ? a : b);
const ratio = (pair: Pair): number => recordsPerSecond(pair.store) / recordsPerSecond(pair.raw);

/**
 * Measures store and raw ROUNDS times each, alternating which goes first (store raw | raw store | ...), and
 * reports the fastest run of each side: noise from other processes only slows a run down, and neither side
 * always runs right after the other has dirtied the disk. The raw side replays what the first store run
 * wrote (`rawFor`).
 */
async function measurePair(store: () => Promise<Run>, rawFor: (storeRun: Run) => Run): Promise<Pair> {
  const storeRounds: Run[] = [];
  const rawRounds: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      storeRounds.push(await store());
      rawRounds.push(rawFor(storeRounds[0]!));
    } else {
      rawRounds.push(rawFor(storeRounds[0]!));
      storeRounds.push(await store());
    }
  }
  return { store: storeRounds.reduce(faster), raw: rawRounds.reduce(faster), storeRounds, rawRounds };
}

/** Lowest and highest store/raw ratio of runs made back to back (same round): how far noise moved the ratio. */
function roundRatioRange(pair: Pair): string {
  const ratios = pair.storeRounds.map((run, i) => recordsPerSecond(run) / recordsPerSecond(pair.rawRounds[i]!));
  return `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
}

function metricsDelta(before: LogStoreMetrics, after: LogStoreMetrics, ops: number, seconds: number): Run {
  return {
    records: after.appendedRecords - before.appendedRecords,
    bytes: after.appendedBytes - before.appendedBytes,
    ops,
    fsyncs: after.fsyncs - before.fsyncs,
    seconds,
  };
}

/** Records with distinct 100-byte values (views into one random buffer), no key, no headers. */
function makeRecords(count: number): RecordInput[] {
  const values = randomBytes(count * VALUE_BYTES);
  return Array.from({ length: count }, (_, i) => ({ value: values.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES) }));
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Opens a store with one single-partition topic in a fresh directory, runs `body`, then closes and deletes it. */
async function withStore<T>(fsync: FsyncPolicy, body: (store: LogStore, dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = freshPath(`store-${fsync}`);
  const store = await LogStore.open({ dataDir, fsync, fsyncIntervalMs: FSYNC_INTERVAL_MS, retentionCheckIntervalMs: 0 });
  try {
    await store.createTopic(TOPIC, { partitions: 1 });
    return await body(store, dataDir);
  } finally {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One producer appending `batchSize`-record batches back to back, each awaited, for about `seconds`. */
function runStoreAppends(fsync: FsyncPolicy, batchSize: number, seconds: number): Promise<Run> {
  return withStore(fsync, async (store) => {
    const batch = makeRecords(batchSize);
    const maxBatches = Math.max(MIN_BATCHES, Math.floor(MAX_RECORDS_PER_RUN / batchSize));
    const before = store.metrics;
    const start = performance.now();
    const deadline = start + seconds * 1000;
    let yieldAt = start + YIELD_EVERY_MS;
    let batches = 0;
    let slowestCallMs = 0;
    for (;;) {
      const called = performance.now();
      const appended = store.append(TOPIC, 0, batch);
      slowestCallMs = Math.max(slowestCallMs, performance.now() - called);
      await appended;
      batches++;
      const now = performance.now();
      if (batches >= maxBatches || (now >= deadline && batches >= MIN_BATCHES)) break;
      if (now >= yieldAt) {
        await yieldToEventLoop();
        yieldAt = performance.now() + YIELD_EVERY_MS;
      }
    }
    // The metrics are read before close(): its final flush is not part of the measured window.
    return { ...metricsDelta(before, store.metrics, batches, (performance.now() - start) / 1000), slowestCallMs };
  });
}

/** `appenders` concurrent producers, each appending single records back to back until the deadline. */
function runConcurrentAppends(appenders: number, seconds: number): Promise<Run> {
  return withStore("always", async (store) => {
    const record = makeRecords(1);
    const before = store.metrics;
    const start = performance.now();
    const deadline = start + seconds * 1000;
    let batches = 0;
    const appender = async (): Promise<void> => {
      while (performance.now() < deadline) {
        await store.append(TOPIC, 0, record);
        batches++;
      }
    };
    await Promise.all(Array.from({ length: appenders }, appender));
    return metricsDelta(before, store.metrics, batches, (performance.now() - start) / 1000);
  });
}

interface RawWritePlan {
  batchBytes: number;
  recordsPerBatch: number;
  /** Stop after this many batches or `seconds`, whichever comes first. */
  maxBatches: number;
  seconds: number;
  fsync: FsyncPolicy;
}

function writeFully(fd: number, buf: Uint8Array, position: number): void {
  for (let done = 0; done < buf.length;) done += fs.writeSync(fd, buf, done, buf.length - done, position + done);
}

/** The floor for the store: positional writeSync of ready-made bytes, fdatasync as the policy says. */
function runRawWrites(plan: RawWritePlan): Run {
  const path = freshPath("raw.log");
  const fd = fs.openSync(path, "w");
  const buf = randomBytes(plan.batchBytes);
  try {
    const start = performance.now();
    const deadline = start + plan.seconds * 1000;
    let lastSync = start;
    let position = 0;
    let batches = 0;
    let fsyncs = 0;
    while (batches < plan.maxBatches && performance.now() < deadline) {
      writeFully(fd, buf, position);
      position += buf.length;
      batches++;
      if (plan.fsync === "always") {
        fs.fdatasyncSync(fd);
        fsyncs++;
      } else if (plan.fsync === "interval" && performance.now() - lastSync >= FSYNC_INTERVAL_MS) {
        fs.fdatasyncSync(fd);
        fsyncs++;
        lastSync = performance.now();
      }
    }
    const seconds = (performance.now() - start) / 1000;
    return { records: batches * plan.recordsPerBatch, bytes: position, ops: batches, fsyncs, seconds };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(path, { force: true });
  }
}

/**
 * The least work any log with per-batch checksums must add to raw writes: copy each record's value into the
 * batch buffer and compute CRC-32C over the batch (the same implementation the store uses), then write it.
 * No varints, no validation, no bookkeeping: an upper bound for the store, measured against the same raw run.
 */
function runFloorWrites(plan: RawWritePlan, values: readonly Uint8Array[]): Run {
  const path = freshPath("floor.log");
  const fd = fs.openSync(path, "w");
  const buf = Buffer.allocUnsafeSlow(plan.batchBytes);
  const stride = Math.floor((plan.batchBytes - 61) / values.length);
  try {
    const start = performance.now();
    let position = 0;
    let batches = 0;
    while (batches < plan.maxBatches) {
      for (let i = 0, at = 61; i < values.length; i++, at += stride) buf.set(values[i]!, at);
      buf.writeUInt32BE(crc32c(buf, 21, buf.length), 17);
      writeFully(fd, buf, position);
      position += buf.length;
      batches++;
    }
    const seconds = (performance.now() - start) / 1000;
    return { records: batches * plan.recordsPerBatch, bytes: position, ops: batches, fsyncs: 0, seconds };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(path, { force: true });
  }
}

/** Bytes of one encoded batch, from a store run's metrics (every batch of a run has the same size). */
function batchBytesOf(run: Run): number {
  return Math.round(run.bytes / run.ops);
}

function measureAppends(fsync: FsyncPolicy, batchSize: number): Promise<Pair> {
  return measurePair(
    () => runStoreAppends(fsync, batchSize, SECONDS),
    // Same batch bytes and batch count as the store wrote, so both sides move the same data.
    (storeRun) =>
      runRawWrites({ batchBytes: batchBytesOf(storeRun), recordsPerBatch: batchSize, maxBatches: storeRun.ops, seconds: Infinity, fsync }),
  );
}

function measureConcurrentAppends(): Promise<Pair> {
  return measurePair(
    () => runConcurrentAppends(CONCURRENT_APPENDERS, SECONDS),
    (storeRun) => runRawWrites({ batchBytes: batchBytesOf(storeRun), recordsPerBatch: 1, maxBatches: Infinity, seconds: SECONDS, fsync: "always" }),
  );
}

/** Reads the whole partition from offset 0 in `READ_MAX_RECORDS` steps, repeating passes for about `seconds`. */
async function runStoreReads(store: LogStore, highWatermark: number, partitionBytes: number, seconds: number): Promise<Run> {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let records = 0;
  let calls = 0;
  let passes = 0;
  do {
    for (let offset = 0; offset < highWatermark; calls++) {
      const result = await store.read(TOPIC, 0, offset, { maxRecords: READ_MAX_RECORDS, maxBytes: READ_MAX_BYTES });
      records += result.records.length;
      offset = result.nextOffset;
    }
    passes++;
  } while (performance.now() < deadline);
  return { records, bytes: passes * partitionBytes, ops: calls, fsyncs: 0, seconds: (performance.now() - start) / 1000 };
}

/** Reads the segment files front to back with readSync in `chunkBytes` pieces into one reused buffer. */
function runRawReads(segmentPaths: readonly string[], chunkBytes: number, recordsPerPass: number, seconds: number): Run {
  const buf = Buffer.allocUnsafe(chunkBytes);
  const fds = segmentPaths.map((path) => fs.openSync(path, "r"));
  try {
    const start = performance.now();
    const deadline = start + seconds * 1000;
    let bytes = 0;
    let calls = 0;
    let passes = 0;
    do {
      for (const fd of fds) {
        for (let position = 0; ; calls++) {
          const n = fs.readSync(fd, buf, 0, chunkBytes, position);
          if (n === 0) break;
          position += n;
          bytes += n;
        }
      }
      passes++;
    } while (performance.now() < deadline);
    return { records: passes * recordsPerPass, bytes, ops: calls, fsyncs: 0, seconds: (performance.now() - start) / 1000 };
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}

/** Fills one partition (batches of 1000, untimed), then times reading all of it back: warm page cache on both sides. */
function measureReads(): Promise<Pair> {
  return withStore("never", async (store, dataDir) => {
    const batch = makeRecords(1000);
    for (let n = 0; n < READ_RECORDS; n += batch.length) await store.append(TOPIC, 0, batch);
    const { highWatermark, sizeBytes } = store.describeTopic(TOPIC).partitions[0]!;
    const partitionDir = join(dataDir, TOPIC, "0");
    const segmentPaths = fs
      .readdirSync(partitionDir)
      .filter((name) => name.endsWith(".log"))
      .sort()
      .map((name) => join(partitionDir, name));
    await runStoreReads(store, highWatermark, sizeBytes, 0); // warm-up pass (JIT, page cache)
    return measurePair(
      () => runStoreReads(store, highWatermark, sizeBytes, SECONDS),
      // The same bytes per call as the store returns per read; how much the store itself reads from disk to
      // serve a call (its chunking) is part of what is measured.
      (storeRun) => runRawReads(segmentPaths, Math.ceil(storeRun.bytes / storeRun.ops), highWatermark, SECONDS),
    );
  });
}

/** Runs the code paths once so the timed runs see JIT-compiled code. */
async function warmUp(): Promise<void> {
  for (const batchSize of BATCH_SIZES) await runStoreAppends("never", batchSize, 0.15);
  await runStoreAppends("always", 1, 0.1);
  await runConcurrentAppends(CONCURRENT_APPENDERS, 0.1);
  runRawWrites({ batchBytes: 4096, recordsPerBatch: 1, maxBatches: 1000, seconds: 0.1, fsync: "always" });
}

/** The file system type of `path` (fsync cost depends on it), from `df -PT`. */
function fileSystemOf(path: string): string {
  try {
    const lines = execFileSync("df", ["-PT", path], { encoding: "utf8" }).trim().split("\n");
    const [device, type] = lines[lines.length - 1]!.split(/\s+/);
    return `${type ?? "?"} on ${device ?? "?"}`;
  } catch {
    return "unknown";
  }
}

const count = (n: number): string => Math.round(n).toLocaleString("en-US");
const megabytes = (bytesPerSec: number): string => (bytesPerSec / 1e6).toFixed(1);
const times = (x: number): string => `${x.toFixed(2)}×`;

function printTable(title: string, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`@minikafka/log-store bench: node ${process.version}, ${cpus()[0]?.model.trim() ?? "unknown cpu"} x${cpus().length}`);
  console.log(`data in ${rootDir} (${fileSystemOf(rootDir)}); ${VALUE_BYTES}-byte values, no key/headers; fsyncIntervalMs ${FSYNC_INTERVAL_MS}`);
  console.log(`each figure: the fastest of ${ROUNDS} runs of ~${SECONDS}s, store and raw alternating; "per round": store/raw of back-to-back runs`);
  console.log("MB = 10^6 bytes of encoded batches (what both sides write)");
  await warmUp();

  const appends = new Map<string, Pair>();
  const appendRows: string[][] = [];
  for (const fsync of POLICIES) {
    for (const batchSize of BATCH_SIZES) {
      const pair = await measureAppends(fsync, batchSize);
      appends.set(`${fsync}/${batchSize}`, pair);
      appendRows.push([
        fsync,
        String(batchSize),
        count(recordsPerSecond(pair.store)),
        megabytes(bytesPerSecond(pair.store)),
        String(pair.store.fsyncs),
        count(recordsPerSecond(pair.raw)),
        String(pair.raw.fsyncs),
        times(ratio(pair)),
        roundRatioRange(pair),
        Math.max(...pair.storeRounds.map((run) => run.slowestCallMs ?? 0)).toFixed(1),
      ]);
    }
  }
  printTable(
    "Append (one producer, each append awaited; raw = writeSync of the same batch bytes + fdatasync per policy; " +
      "slowest call = the longest the synchronous part of one append() call held the event loop, over all rounds)",
    ["fsync", "batch", "store rec/s", "store MB/s", "store fsyncs", "raw rec/s", "raw fsyncs", "store/raw", "per round", "slowest call ms"],
    appendRows,
  );

  // The floor for batch 1000 without fsync (what "never", and "interval" between its fsyncs, can approach at best).
  const never1000 = appends.get("never/1000")!.store;
  const floorPlan = {
    batchBytes: batchBytesOf(never1000),
    recordsPerBatch: 1000,
    maxBatches: never1000.ops,
    seconds: Infinity,
    fsync: "never" as const,
  };
  const floorValues = makeRecords(1000).map((record) => record.value as Uint8Array);
  const floor = await measurePair(
    async () => runFloorWrites(floorPlan, floorValues),
    () => runRawWrites(floorPlan),
  );
  printTable(
    `Floor for batch 1000 without fsync (copy each value into the batch + CRC-32C (${crc32cImplementation}) + write; raw = write only)`,
    ["case", "", "floor rec/s", "raw rec/s", "floor/raw", "per round", "store/floor"],
    [
      [
        "floor",
        "1000",
        count(recordsPerSecond(floor.store)),
        count(recordsPerSecond(floor.raw)),
        times(ratio(floor)),
        roundRatioRange(floor),
        times(recordsPerSecond(never1000) / recordsPerSecond(floor.store)),
      ],
    ],
  );

  const reads = await measureReads();
  printTable(
    `Sequential read (${count(READ_RECORDS)} records from offset 0, maxRecords ${READ_MAX_RECORDS}; raw = readSync of the segment files, no decoding)`,
    ["case", "", "store rec/s", "store MB/s", "raw MB/s", "store/raw", "per round"],
    [
      [
        "read",
        "",
        count(recordsPerSecond(reads.store)),
        megabytes(bytesPerSecond(reads.store)),
        megabytes(bytesPerSecond(reads.raw)),
        times(ratio(reads)),
        roundRatioRange(reads),
      ],
    ],
  );

  const concurrent = await measureConcurrentAppends();
  const perFsync = (run: Run): number => run.records / Math.max(1, run.fsyncs);
  printTable(
    `Group commit (${CONCURRENT_APPENDERS} concurrent single-record appenders, fsync "always"; raw = one writer, writeSync + fdatasync per record)`,
    ["case", "", "store rec/s", "store fsyncs", "records/fsync", "raw rec/s", "store/raw", "per round"],
    [
      [
        `${CONCURRENT_APPENDERS} appenders`,
        "",
        count(recordsPerSecond(concurrent.store)),
        String(concurrent.store.fsyncs),
        perFsync(concurrent.store).toFixed(1),
        count(recordsPerSecond(concurrent.raw)),
        times(ratio(concurrent)),
        roundRatioRange(concurrent),
      ],
    ],
  );

  // Targets from the issue, one line per check. The group-commit check takes the worst store round.
  console.log("\nTargets");
  const checks = POLICIES.map((fsync) => {
    const r = ratio(appends.get(`${fsync}/1000`)!);
    return {
      ok: r >= TARGET_BATCH_1000_RATIO,
      text: `batch 1000, fsync ${fsync.padEnd(8)} store/raw ${times(r)} (target ≥ ${TARGET_BATCH_1000_RATIO}×)`,
    };
  });
  const worstPerFsync = Math.min(...concurrent.storeRounds.map(perFsync));
  checks.push({
    ok: worstPerFsync >= TARGET_RECORDS_PER_FSYNC,
    text: `${CONCURRENT_APPENDERS} concurrent appenders, fsync always: ${worstPerFsync.toFixed(1)} records per fsync (worst of ${ROUNDS} rounds; target ≥ ${TARGET_RECORDS_PER_FSYNC})`,
  });
  for (const check of checks) console.log(`${check.ok ? "PASS" : "FAIL"}  ${check.text}`);
  const missed = checks.filter((check) => !check.ok).length;
  console.log(missed === 0 ? "All targets met." : `${missed} of ${checks.length} target checks MISSED (exit code stays 0: this bench is a report).`);
  console.log(`(bench took ${((performance.now() - started) / 1000).toFixed(0)}s)`);
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  fs.rmSync(rootDir, { recursive: true, force: true });
}
