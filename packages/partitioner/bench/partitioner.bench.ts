// Partition decisions per second for 16-byte keys: murmur2 (partitionForKey) against md5 over the same keys in
// the same process, as a yardstick. Run: pnpm --filter @minikafka/partitioner bench
// Figures on a shared machine are noisy; the ratios are what to compare.
import { createHash } from "node:crypto";
import { cpus } from "node:os";
import { createDefaultPartitioner, partitionForKey } from "@minikafka/partitioner";

const KEY_COUNT = 10_000;
const KEY_BYTES = 16;
const PARTITIONS = 12;
const WARMUP_ROUNDS = 2;
const ROUNDS = 7;
const FAST_PASSES = 100; // 1,000,000 decisions per round for murmur2
const MD5_PASSES = 10; // 100,000 decisions per round for md5

// Seeded so every run hashes the same keys (mulberry32).
let seed = 0x12345678;
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const byteKeys = Array.from({ length: KEY_COUNT }, () => {
  const key = new Uint8Array(KEY_BYTES);
  for (let i = 0; i < KEY_BYTES; i++) key[i] = Math.floor(random() * 256);
  return key;
});
// 16 ASCII characters = 16 UTF-8 bytes, like "order-0000012345".
const stringKeys = Array.from({ length: KEY_COUNT }, (_, i) => `order-${String(i * 7919).padStart(10, "0")}`);

let sink = 0;

interface Case {
  name: string;
  passes: number;
  run: (passes: number) => void;
}

const defaultPartitioner = createDefaultPartitioner();
const cases: Case[] = [
  {
    name: "murmur2 partitionForKey, Uint8Array keys",
    passes: FAST_PASSES,
    run: (passes) => {
      for (let p = 0; p < passes; p++) for (const key of byteKeys) sink += partitionForKey(key, PARTITIONS);
    },
  },
  {
    name: "md5 partition, Uint8Array keys",
    passes: MD5_PASSES,
    run: (passes) => {
      for (let p = 0; p < passes; p++) for (const key of byteKeys) sink += createHash("md5").update(key).digest().readUInt32BE(0) % PARTITIONS;
    },
  },
  {
    name: "murmur2 partitionForKey, string keys",
    passes: FAST_PASSES,
    run: (passes) => {
      for (let p = 0; p < passes; p++) for (const key of stringKeys) sink += partitionForKey(key, PARTITIONS);
    },
  },
  {
    name: "md5 partition, string keys",
    passes: MD5_PASSES,
    run: (passes) => {
      for (let p = 0; p < passes; p++)
        for (const key of stringKeys) sink += createHash("md5").update(key, "utf8").digest().readUInt32BE(0) % PARTITIONS;
    },
  },
  {
    name: "createDefaultPartitioner, keyed records",
    passes: FAST_PASSES,
    run: (passes) => {
      for (let p = 0; p < passes; p++) for (const key of byteKeys) sink += defaultPartitioner({ topic: "orders", key, partitionCount: PARTITIONS });
    },
  },
];

function measure(c: Case): number {
  const start = performance.now();
  c.run(c.passes);
  const seconds = (performance.now() - start) / 1000;
  return (c.passes * KEY_COUNT) / seconds;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

for (let r = 0; r < WARMUP_ROUNDS; r++) for (const c of cases) measure(c);
// Interleave the cases within each round so that noise from other processes hits them all alike.
const samples = new Map<Case, number[]>(cases.map((c) => [c, []]));
for (let r = 0; r < ROUNDS; r++) for (const c of cases) samples.get(c)!.push(measure(c));

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const medians = new Map(cases.map((c) => [c.name, median(samples.get(c)!)]));
console.log(`node ${process.version}, ${cpus()[0]?.model ?? "unknown cpu"} x${cpus().length}`);
console.log(
  `${KEY_COUNT} distinct ${KEY_BYTES}-byte keys, ${PARTITIONS} partitions, median of ${ROUNDS} rounds after ${WARMUP_ROUNDS} warm-up rounds\n`,
);
console.log(`${"case".padEnd(44)} ${"decisions/s (median)".padStart(22)} ${"min .. max".padStart(28)}`);
for (const c of cases) {
  const xs = samples.get(c)!;
  console.log(`${c.name.padEnd(44)} ${fmt(medians.get(c.name)!).padStart(22)} ${`${fmt(Math.min(...xs))} .. ${fmt(Math.max(...xs))}`.padStart(28)}`);
}
const ratio = (a: string, b: string) => (medians.get(a)! / medians.get(b)!).toFixed(1);
console.log(`\nmurmur2 / md5, Uint8Array keys: ${ratio("murmur2 partitionForKey, Uint8Array keys", "md5 partition, Uint8Array keys")}x`);
console.log(`murmur2 / md5, string keys:     ${ratio("murmur2 partitionForKey, string keys", "md5 partition, string keys")}x`);
console.log(`(checksum ${sink})`);
