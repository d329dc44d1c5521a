// Issue 14's throughput target: produce requests of 1000 records spread round-robin over 1, 10, 100 and
// 1000 partitions of one topic, fsync "always", CONCURRENCY requests in flight. A request appends one batch
// per partition it touches (1000 / N records each) and is answered when every batch is durable, as the
// broker's produce route does. Measured in one run, so the ratio 1000 : 10 partitions is what to compare;
// also a batched consume of every partition (records read per second) after each produce case.
//
//   pnpm --filter @minikafka/log-store bench:partitions      # PARTITIONS=1,10,100,1000 BENCH_SECONDS=3 ROUNDS=2
//
// Exit code 0 even when the target is missed (a report).
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import * as published from "@minikafka/log-store";
import type { RecordInput } from "@minikafka/log-store";

// This checkout with the store-wide journal off (the default) and on, each request as one append per
// partition (`Promise.all` of `append`) and as one `appendMany` call, interleaved in one run (same load).
// JOURNAL=0 or JOURNAL=1 measures only one mode; MANY=0 or MANY=1 only one API. BASELINE=<path to another
// checkout's packages/log-store/src/index.ts>: measures that implementation too (journal off;
// BASELINE_JOURNAL=1: on; one append per partition), interleaved.
const baseline = process.env.BASELINE ? ((await import(process.env.BASELINE)) as typeof published) : undefined;
interface Variant {
  name: string;
  impl: typeof published;
  journal: boolean;
  many: boolean;
}
const implementations: Variant[] = [];
for (const journal of [false, true]) {
  if (process.env.JOURNAL === (journal ? "0" : "1")) continue;
  for (const many of [false, true]) {
    if (process.env.MANY === (many ? "0" : "1")) continue;
    implementations.push({ name: `journal ${journal ? "on" : "off"}${many ? ", appendMany" : ""}`, impl: published, journal, many });
  }
}
if (baseline)
  implementations.push({ name: `baseline (${process.env.BASELINE})`, impl: baseline, journal: process.env.BASELINE_JOURNAL === "1", many: false });

const COUNTS = (process.env.PARTITIONS ?? "1,10,100,1000").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const RECORDS_PER_REQUEST = 1000;
const VALUE_BYTES = 100;
const TARGET = 0.5;

const root = fs.mkdtempSync(join(tmpdir(), "log-store-partitions-"));
let seq = 0;

interface Result {
  partitions: number;
  recordsPerSecond: number;
  p50Ms: number;
  fsyncsPerRequest: number;
  /** CPU of the whole process (all threads, user + system) per record produced. */
  cpuUsPerRecord: number;
  consumeRecordsPerSecond: number;
}

async function measure({ impl, journal, many }: Variant, partitions: number): Promise<Result> {
  const dataDir = join(root, `s${seq++}`);
  const store = await impl.LogStore.open({ dataDir, fsync: "always", retentionCheckIntervalMs: 0, journal });
  try {
    await store.createTopic("bench", { partitions });
    const values = randomBytes(RECORDS_PER_REQUEST * VALUE_BYTES);
    // Per partition, the records of one request that go to it (round-robin: record i → partition i % N).
    const perPartition: RecordInput[][] = Array.from({ length: Math.min(partitions, RECORDS_PER_REQUEST) }, () => []);
    for (let i = 0; i < RECORDS_PER_REQUEST; i++)
      perPartition[i % perPartition.length]!.push({ value: values.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES) });
    let next = 0; // first partition of the next request (rotates when partitions > records per request)
    const latencies: number[] = [];
    const before = store.metrics;
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    const deadline = start + SECONDS * 1000;
    let records = 0;
    const producer = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        const base = next;
        next = (next + perPartition.length) % partitions;
        if (many)
          await store.appendMany(
            "bench",
            perPartition.map((records, i) => ({ partition: (base + i) % partitions, records })),
          );
        else await Promise.all(perPartition.map((batch, i) => store.append("bench", (base + i) % partitions, batch)));
        latencies.push(performance.now() - sent);
        records += RECORDS_PER_REQUEST;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, producer));
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const fsyncs = store.metrics.fsyncs - before.fsyncs;
    latencies.sort((a, b) => a - b);
    // Batched consume: every partition read from 0 to its end, 5000 records per read.
    const readStart = performance.now();
    let read = 0;
    for (let p = 0; p < partitions; p++) {
      for (let offset = 0; ;) {
        const result = await store.read("bench", p, offset, { maxRecords: 5000, maxBytes: 8 << 20 });
        read += result.records.length;
        if (result.nextOffset >= result.highWatermark) break;
        offset = result.nextOffset;
      }
    }
    const readSeconds = (performance.now() - readStart) / 1000;
    return {
      partitions,
      recordsPerSecond: records / seconds,
      p50Ms: latencies[Math.floor(latencies.length / 2)] ?? 0,
      fsyncsPerRequest: fsyncs / latencies.length,
      cpuUsPerRecord: (cpu.user + cpu.system) / records,
      consumeRecordsPerSecond: read / readSeconds,
    };
  } finally {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
const best = new Map<string, Result>();
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of round % 2 === 0 ? COUNTS : [...COUNTS].reverse()) {
      for (const variant of round % 2 === 0 ? implementations : [...implementations].reverse()) {
        const r = await measure(variant, n);
        const known = best.get(`${variant.name}/${n}`);
        if (!known || r.recordsPerSecond > known.recordsPerSecond) best.set(`${variant.name}/${n}`, r);
      }
    }
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
console.log(
  `\n${RECORDS_PER_REQUEST}-record requests round-robin over N partitions, fsync "always", ${CONCURRENCY} in flight, best of ${ROUNDS} × ${SECONDS} s (Node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")})`,
);
for (const { name } of implementations) {
  console.log(`\n${name}`);
  console.log("partitions  records/s    p50 ms  fsyncs/request  CPU µs/record  consume records/s");
  for (const n of COUNTS) {
    const r = best.get(`${name}/${n}`)!;
    console.log(
      `${String(n).padStart(10)}  ${fmt(r.recordsPerSecond).padStart(9)}  ${r.p50Ms.toFixed(1).padStart(8)}  ${r.fsyncsPerRequest.toFixed(2).padStart(14)}  ${r.cpuUsPerRecord.toFixed(2).padStart(13)}  ${fmt(r.consumeRecordsPerSecond).padStart(17)}`,
    );
  }
  const ten = best.get(`${name}/10`);
  const thousand = best.get(`${name}/1000`);
  if (ten && thousand) {
    const ratio = thousand.recordsPerSecond / ten.recordsPerSecond;
    console.log(`1000 : 10 partitions = ${ratio.toFixed(2)}× (target ≥ ${TARGET}×) ${ratio >= TARGET ? "met" : "MISSED"}`);
  }
}
const ratios = (title: string, a: string, b: string): void => {
  if (!implementations.some((v) => v.name === a) || !implementations.some((v) => v.name === b)) return;
  console.log(`\n${title}, records/s`);
  for (const n of COUNTS)
    console.log(`${String(n).padStart(10)}  ${(best.get(`${a}/${n}`)!.recordsPerSecond / best.get(`${b}/${n}`)!.recordsPerSecond).toFixed(2)}×`);
};
ratios("journal on : off", "journal on", "journal off");
ratios("journal on, appendMany : journal off", "journal on, appendMany", "journal off");
ratios("journal on, appendMany : append", "journal on, appendMany", "journal on");
