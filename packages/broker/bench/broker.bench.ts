// Broker benchmark: the broker and a trivial Hono route (the yardstick) each run in their own process;
// load comes from wrk (stateless cases) and from separate Node processes (stateful consumers).
//
//   pnpm --filter @minikafka/broker bench
//   BROKER_BENCH_SECONDS=5 (per case)  BROKER_BENCH_FLAT_SECONDS=60 (the seed-produce run checked for flatness)
//   BROKER_BENCH_FSYNC=always|interval|never (the broker's policy; default "always", the broker's default)
//
// Needs wrk (Debian: apt-get install wrk). Prints ratios against the trivial route measured in this run.
import { execFileSync, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnTs } from "../../../test-support/spawn-ts.js";

const SECONDS = Number(process.env.BROKER_BENCH_SECONDS ?? 5);
const FLAT_SECONDS = Number(process.env.BROKER_BENCH_FLAT_SECONDS ?? 60);
const FLAT_WINDOW = 10;

if (spawnSync("wrk", ["--version"]).error) {
  console.log("this benchmark needs wrk as its load generator (Debian/Ubuntu: apt-get install wrk); nothing measured");
  process.exit(0);
}

const childScript = fileURLToPath(new URL("./bench-child.ts", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "minikafka-broker-bench-"));
const children: ChildProcessWithoutNullStreams[] = [];

function child(args: string[]): ChildProcessWithoutNullStreams {
  const proc = spawnTs(childScript, args);
  proc.stderr.on("data", (d) => process.stderr.write(d));
  children.push(proc);
  return proc;
}

function firstLine(proc: ChildProcessWithoutNullStreams, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (d) => {
      out += String(d);
      const match = pattern.exec(out);
      if (match) resolve(match);
    });
    proc.once("exit", (code) => reject(new Error(`child exited (${code}) before printing ${pattern}: ${out}`)));
  });
}

async function serve(role: string, ...args: string[]): Promise<string> {
  return (await firstLine(child([role, ...args]), /listening (\S+)\n/))[1]!;
}

interface WrkResult {
  rps: number;
  p99ms: number;
}

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

/** Runs wrk; `body` makes it a POST with that JSON body. */
function wrk(url: string, connections: number, seconds: number, body?: string): WrkResult {
  const args = ["-t", String(Math.min(connections, 2)), "-c", String(connections), "-d", `${seconds}s`, "--latency"];
  if (body !== undefined) {
    const script = join(work, `post-${body.length}.lua`);
    writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`);
    args.push("-s", script);
  }
  const out = execFileSync("wrk", [...args, url], { encoding: "utf8", maxBuffer: 1 << 20 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses from ${url}`);
  const unit = p99?.[2] === "us" ? 0.001 : p99?.[2] === "s" ? 1000 : 1;
  return { rps, p99ms: Number(p99?.[1]) * unit };
}

/**
 * The disk's own rate of small durable appends: one writer appending 4 KiB (about one group commit of the
 * seed-produce run) and fdatasync-ing, for `seconds`, to a file that keeps growing across calls. Measured
 * between the flatness windows, it shows how much of a change in the broker's rate the disk made itself.
 */
const rawAppendFile = join(work, "raw-fsync.log");
const rawChunk = Buffer.alloc(4096, 0x6d);
function rawFsyncRate(seconds: number): number {
  const fd = openSync(rawAppendFile, "a");
  try {
    const start = performance.now();
    let syncs = 0;
    while (performance.now() - start < seconds * 1000) {
      writeSync(fd, rawChunk);
      fdatasyncSync(fd);
      syncs++;
    }
    return syncs / ((performance.now() - start) / 1000);
  } finally {
    closeSync(fd);
  }
}

async function post(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
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
  const t1 = wrk(`${trivial}/ping`, 1, SECONDS, "{}");
  const t32 = wrk(`${trivial}/ping`, 32, SECONDS, "{}");
  row("trivial Hono route", "1", fmt(t1.rps), "", fmt(t1.p99ms, 2), "1.00×");
  row("trivial Hono route", "32", fmt(t32.rps), "", fmt(t32.p99ms, 2), "1.00×");

  // (1) Seed-compatible produce, one message per request.
  await post(`${broker}/topics/seed/create?num_partitions=3`, {});
  const seedUrl = `${broker}/topics/seed/messages?message=${"m".repeat(100)}&key=`;
  const s1 = wrk(seedUrl, 1, SECONDS, "");
  const s32 = wrk(seedUrl, 32, SECONDS, "");
  row("(1) seed produce, 1 msg/request", "1", fmt(s1.rps), fmt(s1.rps), fmt(s1.p99ms, 2), `${(s1.rps / t1.rps).toFixed(2)}×`);
  row("(1) seed produce, 1 msg/request", "32", fmt(s32.rps), fmt(s32.rps), fmt(s32.p99ms, 2), `${(s32.rps / t32.rps).toFixed(2)}×`);
  // Flatness: 10 s windows of the same load, with a 2 s probe of the disk's own fsync rate before each window
  // and after the last (the probe's file grows like the log does).
  const windows: number[] = [];
  const disk: number[] = [rawFsyncRate(2)];
  for (let t = 0; t < FLAT_SECONDS; t += FLAT_WINDOW) {
    windows.push(wrk(seedUrl, 32, Math.min(FLAT_WINDOW, FLAT_SECONDS - t), "").rps);
    disk.push(rawFsyncRate(2));
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
  const b = wrk(`${broker}/v1/topics/batch/records`, 8, SECONDS, batchBody);
  row("(2) /v1 produce, 1000 × 100 B/request", "8", fmt(b.rps), fmt(b.rps * 1000), fmt(b.p99ms, 2), `${(b.rps / t32.rps).toFixed(2)}× (req)`);
  targets.push(`${b.rps * 1000 >= 300_000 ? "PASS" : "FAIL"}  (2) /v1 batched produce: ${fmt(b.rps * 1000)} records/s (target ≥ 300,000)`);

  // (3) Group consume of the 3-partition topic, in batches (3 members, one partition each, commit per batch).
  // wrk stops when its time is up, but requests it had sent may still be appending: count once the topic is still.
  const total = await settledRecordCount(`${broker}/v1/topics/batch`);
  const consumer = child(["consume", broker, "batch", String(total)]);
  const consumed = JSON.parse((await firstLine(consumer, /(\{.*\})\n/))[1]!) as { consumed: number; seconds: number };
  const consumeRate = consumed.consumed / consumed.seconds;
  row(`(3) group consume, 3 members, ≤5000/fetch (${fmt(consumed.consumed)} records)`, "3", "", fmt(consumeRate), "", "");
  if (consumed.consumed !== total) throw new Error(`consumed ${consumed.consumed} of ${total} records`);
  targets.push(`${consumeRate >= 400_000 ? "PASS" : "FAIL"}  (3) group consume: ${fmt(consumeRate)} records/s (target ≥ 400,000)`);

  // (4) Seed-compatible poll + ack per message (2 requests per message, one consumer).
  const pollAck = child(["poll-ack", broker, "seed", String(SECONDS)]);
  const pa = JSON.parse((await firstLine(pollAck, /(\{.*\})\n/))[1]!) as { messages: number; seconds: number };
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
