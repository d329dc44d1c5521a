// Auth + ACL benchmark: /v1 produce (one small record per request, 32 connections, wrk) against a broker
// without auth and one with auth (20 principals) and 61 ACL entries, in the same run, alternating
// off/on/off/on… so that the machine's load drifts over both alike. Prints each pair's ratio and the median.
//
//   pnpm --filter @minikafka/broker bench:auth
//   BROKER_BENCH_SECONDS=5 (per case)  BROKER_BENCH_ROUNDS=3  BROKER_BENCH_FSYNC=never (default here: the
//   check's cost, not the disk's, is what is compared)
//
// Needs wrk (Debian: apt-get install wrk).
import { execFile, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { benchChild, firstMatch, fmt } from "./support.js";

const SECONDS = Number(process.env.BROKER_BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BROKER_BENCH_ROUNDS ?? 3);
const FSYNC = process.env.BROKER_BENCH_FSYNC ?? "never";

if (spawnSync("wrk", ["--version"]).error) {
  console.log("this benchmark needs wrk as its load generator (Debian/Ubuntu: apt-get install wrk); nothing measured");
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), "minikafka-auth-bench-"));
const children: ChildProcess[] = [];
const TOKEN = "bench-token";
const BODY = JSON.stringify({ records: [{ key: "k", value: "v".repeat(100) }] });

async function serve(name: string, auth: boolean): Promise<string> {
  const proc = benchChild(children, ["serve-broker", join(work, name)], { BROKER_BENCH_FSYNC: FSYNC, BROKER_BENCH_AUTH: auth ? "1" : "0" });
  const url = (await firstMatch(proc, /listening (\S+)\n/))[1]!;
  const headers = { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${TOKEN}` } : {}) };
  const created = await fetch(`${url}/v1/topics`, { method: "POST", headers, body: JSON.stringify({ name: "bench-produce", partitions: 3 }) });
  if (created.status !== 201) throw new Error(`topic creation: ${created.status} ${await created.text()}`);
  return url;
}

async function wrk(url: string, auth: boolean): Promise<{ rps: number; p99ms: number }> {
  const script = join(work, `produce-${auth}.lua`);
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(BODY)}\nwrk.headers["Content-Type"] = "application/json"\n` +
      (auth ? `wrk.headers["Authorization"] = "Bearer ${TOKEN}"\n` : ""),
  );
  const args = ["-t", "2", "-c", "32", "-d", `${SECONDS}s`, "--latency", "-s", script, `${url}/v1/topics/bench-produce/records`];
  const { stdout } = await promisify(execFile)("wrk", args, { encoding: "utf8" });
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses (auth ${auth})`);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const unit = p99?.[2] === "us" ? 0.001 : p99?.[2] === "s" ? 1000 : 1;
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]), p99ms: Number(p99?.[1]) * unit };
}

try {
  console.log(
    `auth bench: node ${process.version}, ${cpus().length}× ${cpus()[0]?.model.trim()}; wrk 32 connections, ${SECONDS}s per case, fsync "${FSYNC}"`,
  );
  const off = await serve("off", false);
  const on = await serve("on", true);
  // Warm both up (JIT, first segment files).
  await wrk(off, false);
  await wrk(on, true);
  const ratios: number[] = [];
  console.log("round  off req/s  on req/s  off p99 ms  on p99 ms  on/off");
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate which goes first, so a drift in the machine's load favours neither.
    let a: { rps: number; p99ms: number };
    let b: { rps: number; p99ms: number };
    if (round % 2 === 1) {
      a = await wrk(off, false);
      b = await wrk(on, true);
    } else {
      b = await wrk(on, true);
      a = await wrk(off, false);
    }
    ratios.push(b.rps / a.rps);
    console.log(
      `${String(round).padEnd(7)}${fmt(a.rps).padEnd(11)}${fmt(b.rps).padEnd(10)}${fmt(a.p99ms, 2).padEnd(12)}${fmt(b.p99ms, 2).padEnd(11)}${(b.rps / a.rps).toFixed(3)}×`,
    );
  }
  const sorted = [...ratios].sort((x, y) => x - y);
  console.log(`median on/off: ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)}× (target ≥ 0.95×)`);
} finally {
  for (const c of children) c.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 300));
  rmSync(work, { recursive: true, force: true });
}
