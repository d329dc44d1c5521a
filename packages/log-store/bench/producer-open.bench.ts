// Open-time cost of rebuilding idempotent producers' state (producer-snapshots.ts), on one partition with
// many small idempotent batches (1 record of 100 bytes each, 50 producers round-robin, fsync "never" to
// build it quickly; the data is flushed before measuring).
// Run: pnpm --filter @minikafka/log-store exec tsx --conditions=@minikafka/source bench/producer-open.bench.ts
//
// Cases, each the median of 5 opens (warm page cache):
//   - clean close: the close snapshot is at the log end, nothing is scanned;
//   - crash: the files as a kill -9 leaves them (no close snapshot): the last roll's snapshot + a scan of
//     the active segment;
//   - no snapshot: every snapshot deleted, so every segment is scanned (the worst case, e.g. a log written
//     before snapshots existed);
//   - plain: the same number of batches without producer fields, clean close (the open cost without any
//     producer state, for comparison).
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PartitionLog } from "@minikafka/log-store";

const BATCHES = Number(process.env.BATCHES ?? 300_000);
/** Segment size × 4 (the segments are a quarter of it); SEGMENT_MIB=256 gives the default 64 MiB segments. */
const SEGMENT_BYTES = Number(process.env.SEGMENT_MIB ?? 64) * 1024 * 1024;
const value = "v".repeat(100);

async function build(dir: string, idempotent: boolean): Promise<void> {
  const log = await PartitionLog.open({ dir, fsync: "never", segmentBytes: SEGMENT_BYTES / 4 });
  const seq = new Array<number>(50).fill(0);
  for (let i = 0; i < BATCHES; i++) {
    const id = i % 50;
    await log.append([{ value }], idempotent ? { producer: { producerId: id, producerEpoch: 0, sequence: seq[id]!++ } } : undefined);
  }
  await log.flush();
  if (idempotent) {
    // A copy without the close snapshot: what a kill -9 right now would leave.
    fs.cpSync(dir, `${dir}-crash`, { recursive: true, filter: (src) => !src.includes(".lock") });
  }
  await log.close();
}

async function timeOpen(dir: string, settings: object = {}): Promise<{ ms: number; scanned: string }> {
  const times: number[] = [];
  let scanned = "";
  for (let i = 0; i < 5; i++) {
    const started = process.hrtime.bigint();
    const log = await PartitionLog.open({ dir, segmentBytes: SEGMENT_BYTES / 4, ...settings });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    const loaded = (log as unknown as { snapshots: { loaded: { scannedBytes: number; scannedBatches: number } } }).snapshots.loaded;
    scanned = `${loaded.scannedBatches} batches, ${(loaded.scannedBytes / 1e6).toFixed(1)} MB`;
    // Closing writes a snapshot at the log end: put the state back as it was for the next round.
    await log.close();
  }
  times.sort((a, b) => a - b);
  return { ms: times[2]!, scanned };
}

const root = fs.mkdtempSync(join(tmpdir(), "producer-open-"));
try {
  const idem = join(root, "idem");
  const plain = join(root, "plain");
  await build(idem, true);
  await build(plain, false);
  const segments = fs.readdirSync(idem).filter((n) => n.endsWith(".log")).length;
  const size = fs.readdirSync(idem).reduce((n, f) => n + (f.endsWith(".log") ? fs.statSync(join(idem, f)).size : 0), 0);
  console.log(`${BATCHES} batches, ${(size / 1e6).toFixed(1)} MB in ${segments} segments of ≤ ${SEGMENT_BYTES / 4 / 2 ** 20} MiB`);
  const rows: Array<[string, { ms: number; scanned: string }]> = [];
  rows.push(["plain (no producers), clean close", await timeOpen(plain)]);
  rows.push(["idempotent, clean close", await timeOpen(idem)]);
  const crash = `${idem}-crash`;
  // Each measured open of the crash copy closes it, writing a close snapshot: measure on fresh copies.
  const crashTimes: number[] = [];
  let crashScanned = "";
  for (let i = 0; i < 5; i++) {
    const copy = `${crash}-${i}`;
    fs.cpSync(crash, copy, { recursive: true });
    const r = await timeOpenOnce(copy);
    crashTimes.push(r.ms);
    crashScanned = r.scanned;
  }
  crashTimes.sort((a, b) => a - b);
  rows.push(["idempotent, after kill -9", { ms: crashTimes[2]!, scanned: crashScanned }]);
  const noSnapTimes: number[] = [];
  let noSnapScanned = "";
  for (let i = 0; i < 5; i++) {
    const copy = `${idem}-nosnap-${i}`;
    fs.cpSync(idem, copy, { recursive: true, filter: (src) => !src.endsWith(".snapshot") && !src.includes(".lock") });
    const r = await timeOpenOnce(copy);
    noSnapTimes.push(r.ms);
    noSnapScanned = r.scanned;
  }
  noSnapTimes.sort((a, b) => a - b);
  rows.push(["idempotent, no snapshot (full scan)", { ms: noSnapTimes[2]!, scanned: noSnapScanned }]);
  for (const [name, { ms, scanned }] of rows) console.log(`${name.padEnd(40)} ${ms.toFixed(1).padStart(8)} ms   scanned ${scanned}`);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}

async function timeOpenOnce(dir: string): Promise<{ ms: number; scanned: string }> {
  const started = process.hrtime.bigint();
  const log = await PartitionLog.open({ dir, segmentBytes: SEGMENT_BYTES / 4 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const loaded = (log as unknown as { snapshots: { loaded: { scannedBytes: number; scannedBatches: number } } }).snapshots.loaded;
  await log.close();
  return { ms, scanned: `${loaded.scannedBatches} batches, ${(loaded.scannedBytes / 1e6).toFixed(1)} MB` };
}
