// Broker benchmark: the broker and a trivial Hono route (the yardstick) each run in their own process;
// load comes from wrk (stateless cases) and from separate Node processes (stateful consumers).
//
//   pnpm --filter @minikafka/broker bench
//   BROKER_BENCH_SECONDS=5 (per case)  BROKER_BENCH_FLAT_SECONDS=60 (the seed-produce run checked for flatness)
//   BROKER_BENCH_FSYNC=always|interval|never (the broker's policy; default "always", the broker's default)
//
// Needs wrk (Debian: apt-get install wrk). Prints ratios against the trivial route measured in this run.
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { benchChild, firstMatch, fmt, json, post as postRaw, rawFsyncRate, wrk as runWrk } from "./support.js";

const SECONDS = Number(process.env.BROKER_BENCH_SECONDS ?? 5);
const FLAT_SECONDS = Number(process.env.BROKER_BENCH_FLAT_SECONDS ?? 60);
const FLAT_WINDOW = 10;

if (spawnSync("wrk", ["--version"]).error) {
  console.log("this benchmark needs wrk as its load generator (Debian/Ubuntu: apt-get install wrk); nothing measured");
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), "minikafka-broker-bench-"));
const children: ChildProcess[] = [];
const child = (args: string[]) => benchChild(children, args);
const serve = async (role: string, ...args: string[]) => (await firstMatch(child([role, ...args]), /listening (\S+)\n/))[1]!;
const wrk = (url: string, connections: number, seconds: number, body?: string) => runWrk(work, url, connections, seconds, body);
const post = async (url: string, body: unknown) => json(await postRaw(url, body));

/** The topic's record count once two reads 200 ms apart agree (appends in flight have finished). */
async function settledRecordCount(topicUrl: string): Promise<number> {
  let last = -1;
  for (;;) {
    const described = (await (await fetch(topicUrl)).json()) as { partitions: Array<{ highWatermark: number }> };
    const total = described.partitions.reduce((sum, p) => sum + p.highWatermark, 0);
    if (total === last) return total;
    last = total;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The disk's own rate of small durable appends, measured between the flatness windows: how much of a change in
 * the broker's rate the disk made itself (4 KiB, about one group commit of the seed-produce run; the file keeps
 * growing across calls, like the log). */
const rawAppendFile = join(work, "raw-fsync.log");
const diskRate = (seconds: number) => rawFsyncRate(rawAppendFile, seconds);

const rows: string[][] = [];
const targets: string[] = [];
const row = (...cells: string[]) => rows.push(cells);

try {
  const trivial = await serve("serve-trivial");
  const broker = await serve("serve-broker", join(work, "data"));
  console.log(
    `broker bench: node ${process.version}, ${cpus().length}× ${cpus()[0]?.model.trim()}; wrk; ${SECONDS}s per case, flatness over ${FLAT_SECONDS}s`,
  );
  console.log(`broker ${broker} (fsync "${process.env.BROKER_BENCH_FSYNC ?? "always"}"), yardstick ${trivial}/ping\n`);

  // Yardstick: a trivial Hono route (POST with a tiny JSON body, like the produce calls), 1 and 32 clients.
  const t1 = await wrk(`${trivial}/ping`, 1, SECONDS, "{}");
  const t32 = await wrk(`${trivial}/ping`, 32, SECONDS, "{}");
  row("trivial Hono route", "1", fmt(t1.rps), "", fmt(t1.p99ms, 2), "1.00×");
  row("trivial Hono route", "32", fmt(t32.rps), "", fmt(t32.p99ms, 2), "1.00×");

  // (1) Seed-compatible produce, one message per request.
  await post(`${broker}/topics/seed/create?num_partitions=3`, {});
  const seedUrl = `${broker}/topics/seed/messages?message=${"m".repeat(100)}&key=`;
  const s1 = await wrk(seedUrl, 1, SECONDS, "");
  const s32 = await wrk(seedUrl, 32, SECONDS, "");
  row("(1) seed produce, 1 msg/request", "1", fmt(s1.rps), fmt(s1.rps), fmt(s1.p99ms, 2), `${(s1.rps / t1.rps).toFixed(2)}×`);
  row("(1) seed produce, 1 msg/request", "32", fmt(s32.rps), fmt(s32.rps), fmt(s32.p99ms, 2), `${(s32.rps / t32.rps).toFixed(2)}×`);
  // Flatness: 10 s windows of the same load, with a 2 s probe of the disk's own fsync rate before each window
  // and after the last (the probe's file grows like the log does).
  const windows: number[] = [];
  const disk: number[] = [diskRate(2)];
  for (let t = 0; t < FLAT_SECONDS; t += FLAT_WINDOW) {
    windows.push((await wrk(seedUrl, 32, Math.min(FLAT_WINDOW, FLAT_SECONDS - t), "")).rps);
    disk.push(diskRate(2));
  }
  // Flatness compares the median of the last three windows with the median of the first three: a single
  // 10 s window swings by ±20% with the disk's fsync latency on a shared VM (see the disk probe below),
  // while a slowdown as the log grows would move every later window.
  const edge = Math.max(1, Math.min(3, Math.floor(windows.length / 2)));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const flat = median(windows.slice(-edge)) / median(windows.slice(0, edge));
  const lastFirst = windows.at(-1)! / windows[0]!;
  // The disk around the first window and around the last one: the mean of the probes on either side.
  const diskFlat = (disk.at(-1)! + disk.at(-2)!) / (disk[0]! + disk[1]!);
  targets.push(
    `${s32.rps / t32.rps >= 0.25 ? "PASS" : "FAIL"}  (1) seed produce at 32 clients: ${(s32.rps / t32.rps).toFixed(2)}× the trivial route (target ≥ 0.25×)`,
  );
  targets.push(
    `${flat >= 0.8 ? "PASS" : "FAIL"}  (1) flat over ${FLAT_SECONDS}s: req/s per ${FLAT_WINDOW}s window ${windows.map((w) => fmt(w)).join(", ")}; median of the last ${edge} / median of the first ${edge}: ${flat.toFixed(2)} (target ≥ 0.8; last/first window ${lastFirst.toFixed(2)})`,
  );
  targets.push(
    `      the disk in the same run (4 KiB append + fdatasync, 2 s before each window and after the last): ${disk.map((d) => fmt(d)).join(", ")} fsyncs/s; ` +
      `last/first ${diskFlat.toFixed(2)}, so the last/first window relative to the disk: ${(lastFirst / diskFlat).toFixed(2)}`,
  );

  // (2) /v1 produce, batches of 1000 × 100 B, default fsync policy.
  await post(`${broker}/v1/topics`, { name: "batch", partitions: 3 });
  const batchBody = JSON.stringify({ records: Array.from({ length: 1000 }, () => ({ value: "v".repeat(100) })) });
  const b = await wrk(`${broker}/v1/topics/batch/records`, 8, SECONDS, batchBody);
  row("(2) /v1 produce, 1000 × 100 B/request", "8", fmt(b.rps), fmt(b.rps * 1000), fmt(b.p99ms, 2), `${(b.rps / t32.rps).toFixed(2)}× (req)`);
  targets.push(`${b.rps * 1000 >= 300_000 ? "PASS" : "FAIL"}  (2) /v1 batched produce: ${fmt(b.rps * 1000)} records/s (target ≥ 300,000)`);

  // (3) Group consume of the 3-partition topic, in batches (3 members, one partition each, commit per batch).
  // wrk stops when its time is up, but requests it had sent may still be appending: count once the topic is still.
  const total = await settledRecordCount(`${broker}/v1/topics/batch`);
  const consumer = child(["consume", broker, "batch", String(total)]);
  const consumed = JSON.parse((await firstMatch(consumer, /(\{.*\})\n/))[1]!) as { consumed: number; seconds: number };
  const consumeRate = consumed.consumed / consumed.seconds;
  row(`(3) group consume, 3 members, ≤5000/fetch (${fmt(consumed.consumed)} records)`, "3", "", fmt(consumeRate), "", "");
  if (consumed.consumed !== total) throw new Error(`consumed ${consumed.consumed} of ${total} records`);
  targets.push(`${consumeRate >= 400_000 ? "PASS" : "FAIL"}  (3) group consume: ${fmt(consumeRate)} records/s (target ≥ 400,000)`);

  // (4) Seed-compatible poll + ack per message (2 requests per message, one consumer).
  const pollAck = child(["poll-ack", broker, "seed", String(SECONDS)]);
  const pa = JSON.parse((await firstMatch(pollAck, /(\{.*\})\n/))[1]!) as { messages: number; seconds: number };
  const paRate = pa.messages / pa.seconds;
  row("(4) seed poll + ack per message", "1", fmt(paRate * 2), fmt(paRate), "", `${((paRate * 2) / t1.rps).toFixed(2)}× (req)`);

  const header = ["case", "clients", "requests/s", "records/s", "p99 ms", "vs trivial"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const r of rows) console.log(line(r));
  console.log(`\nTargets\n${targets.join("\n")}`);
} finally {
  for (const proc of children) proc.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 500));
  rmSync(work, { recursive: true, force: true });
}
