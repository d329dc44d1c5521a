// Durability benchmarks (issue 11), each against a baseline measured in the same run:
//   (A) the seed's poll + ack loop (3 consumers, 3 partitions, one message per poll, an ack each) on
//       minikafka and on the tutorial's own Python server (../shared/baselines/seed_v2), same driver;
//   (B) /v1 commits: 32 concurrent committers, one partition each, against this disk's fdatasync rate;
//   (C) restart time with ~1 GiB of log and 100,000 committed-offset records, to /readyz 200.
//
//   pnpm --filter @minikafka/broker bench:durability
//   SEED_BENCH_MESSAGES=3000 (A)  DURABILITY_BENCH_SECONDS=5 (B)  RESTART_BENCH_MIB=1024 (C)
//   SEED_V2_DIR=<dir of server.py> (default: shared/baselines/seed_v2 beside the repository or a parent)
// (B) needs wrk (apt-get install wrk).
//
// (A) needs Debian's python3-fastapi, python3-uvicorn (it is skipped, saying so, without them).
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnTs } from "../../../test-support/spawn-ts.js";

const MESSAGES = Number(process.env.SEED_BENCH_MESSAGES ?? 3000);
const SECONDS = Number(process.env.DURABILITY_BENCH_SECONDS ?? 5);
const RESTART_MIB = Number(process.env.RESTART_BENCH_MIB ?? 1024);
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
/** The first `shared/baselines/seed_v2` beside the repository or one of its parents (worktrees live deeper). */
const seedDir = resolve(
  process.env.SEED_V2_DIR ??
    [1, 2, 3].map((up) => join(repoRoot, "../".repeat(up), "shared/baselines/seed_v2")).find((dir) => existsSync(join(dir, "server.py"))) ??
    join(repoRoot, "../shared/baselines/seed_v2"),
);
const childScript = fileURLToPath(new URL("./bench-child.ts", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "minikafka-durability-bench-"));
const children: ChildProcess[] = [];
const report = (...lines: string[]) => console.log(lines.join("\n"));

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** A broker (bench-child serve-broker, fsync "always") over `dataDir`; resolves with its URL and the ms it took to listen. */
async function startBroker(dataDir: string): Promise<{ url: string; proc: ChildProcess; ms: number; openMs: number }> {
  const started = performance.now();
  const proc = spawnTs(childScript, ["serve-broker", dataDir]);
  children.push(proc);
  proc.stderr.on("data", (d) => process.stderr.write(d));
  const [url, openMs] = await new Promise<[string, number]>((resolveUrl, reject) => {
    let out = "";
    proc.stdout.on("data", (d) => {
      out += String(d);
      const match = /listening (\S+)\nopened in ([\d.]+) ms\n/.exec(out);
      if (match) resolveUrl([match[1]!, Number(match[2])]);
    });
    proc.once("exit", (code) => reject(new Error(`broker exited (${code}): ${out}`)));
  });
  for (;;) {
    const ready = await fetch(`${url}/readyz`).catch(() => undefined);
    if (ready?.ok) break;
    await pause(5);
  }
  return { url, proc, ms: performance.now() - started, openMs };
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await done;
}

async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.url}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
const post = (url: string, body?: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
const q = (p: Record<string, string>) => new URLSearchParams(p).toString();

/** This disk's rate of small durable appends (4 KiB + fdatasync), for `seconds`. */
function rawFsyncRate(seconds: number): number {
  const fd = openSync(join(work, "raw-fsync.log"), "a");
  try {
    const start = performance.now();
    let syncs = 0;
    while (performance.now() - start < seconds * 1000) {
      writeSync(fd, Buffer.alloc(4096, 0x6d));
      fdatasyncSync(fd);
      syncs++;
    }
    return syncs / ((performance.now() - start) / 1000);
  } finally {
    closeSync(fd);
  }
}

/**
 * The seed's workload on a server speaking the seed's routes: `MESSAGES` produced one per request (keys spread
 * them over 3 partitions), then 3 consumers of one group polling and acking one message at a time, in one
 * process with keep-alive connections (the same driver for both servers). Returns messages/s of each phase.
 */
async function seedWorkload(url: string): Promise<{ produce: number; pollAck: number; acked: number }> {
  const topic = `seed-${Date.now()}`;
  await json(await post(`${url}/topics/${topic}/create?num_partitions=3`));
  let started = performance.now();
  // One producer, as in the tutorial (the seed server picks offsets racily under concurrent produces).
  for (let i = 0; i < MESSAGES; i++) {
    await json(await post(`${url}/topics/${topic}/messages?${q({ message: `m${i}-`.padEnd(100, "x"), key: `k${i}` })}`));
  }
  const produce = MESSAGES / ((performance.now() - started) / 1000);
  const consumers = ["c0", "c1", "c2"];
  for (const consumer of consumers) await json(await post(`${url}/topics/${topic}/groups/g/subscribe?${q({ consumer_id: consumer })}`));
  let acked = 0;
  const deadline = performance.now() + 60_000;
  started = performance.now();
  await Promise.all(
    consumers.map(async (consumer) => {
      while (acked < MESSAGES && performance.now() < deadline) {
        const polled = await fetch(`${url}/topics/${topic}/messages?${q({ consumer_id: consumer, group_id: "g" })}`);
        const messages = polled.status === 404 ? [] : await json<Array<{ message_offset: number; partition_id: number }>>(polled);
        if (messages.length === 0) await pause(2); // assignment moving, or its partitions drained
        for (const m of messages) {
          const ack = `${url}/topics/${topic}/messages/${m.message_offset}/ack?${q({ consumer_id: consumer, partition_id: String(m.partition_id) })}`;
          await json(await post(ack));
          acked++;
        }
      }
    }),
  );
  return { produce, pollAck: acked / ((performance.now() - started) / 1000), acked };
}

async function benchSeed(): Promise<void> {
  const python = spawnSync("/usr/bin/python3", ["-c", "import fastapi, uvicorn"]).status === 0;
  if (!python || !existsSync(join(seedDir, "server.py"))) {
    report(`(A) skipped: needs /usr/bin/python3 with fastapi + uvicorn (apt-get install python3-fastapi python3-uvicorn) and ${seedDir}/server.py`);
    return;
  }
  const port = await freePort();
  const seed = spawn(
    "/usr/bin/python3",
    ["-m", "uvicorn", "server:app", "--host", "127.0.0.1", "--port", String(port), "--workers", "1", "--no-access-log"],
    {
      cwd: seedDir,
      env: { ...process.env, SEED_QUIET: "1", SEED_DATA_DIR: join(work, "seed-data") },
      stdio: "ignore",
    },
  );
  children.push(seed);
  const seedUrl = `http://127.0.0.1:${port}`;
  while (!(await fetch(`${seedUrl}/docs`).catch(() => undefined))) await pause(20);
  const broker = await startBroker(join(work, "seed-broker"));
  try {
    const ours = await seedWorkload(broker.url);
    const theirs = await seedWorkload(seedUrl);
    const ratio = ours.pollAck / theirs.pollAck;
    report(
      `(A) seed poll + ack, 3 consumers, ${fmt(MESSAGES)} messages: minikafka ${fmt(ours.pollAck)} msg/s, seed server ${fmt(theirs.pollAck)} msg/s: ${ratio.toFixed(1)}× ` +
        `(produce one per request: ${fmt(ours.produce)} vs ${fmt(theirs.produce)} msg/s, ${(ours.produce / theirs.produce).toFixed(1)}×)`,
      `    ${ratio >= 10 ? "PASS" : "FAIL"}  target ≥ 10× the seed server`,
    );
  } finally {
    await stop(broker.proc);
    await stop(seed);
  }
}

async function benchCommits(): Promise<void> {
  const broker = await startBroker(join(work, "commit-broker"));
  try {
    const topic = "commits";
    await json(await post(`${broker.url}/v1/topics`, { name: topic, partitions: 32 }));
    await json(
      await post(`${broker.url}/v1/topics/${topic}/records`, { records: Array.from({ length: 32 }, (_, partition) => ({ value: "v", partition })) }),
    );
    // 32 groups of one member each; member i commits partition i, over and over (offset 0 and 1 in turn).
    const members = await Promise.all(
      Array.from({ length: 32 }, async (_, i) => {
        const m = await json<{ memberId: string; memberEpoch: number }>(
          await post(`${broker.url}/v1/groups/committer-${i}/members`, { topics: [topic] }),
        );
        return { group: `committer-${i}`, partition: i, ...m };
      }),
    );
    // Load from wrk (a process of its own, cheap per request), 32 connections cycling through the 32 members.
    const script = join(work, "commits.lua");
    const entries = members.map((m) => {
      const body = JSON.stringify({ memberId: m.memberId, memberEpoch: m.memberEpoch, offsets: [{ topic, partition: m.partition, offset: 1 }] });
      return `{ path = ${JSON.stringify(`/v1/groups/${m.group}/offsets`)}, body = ${JSON.stringify(body)} }`;
    });
    writeFileSync(
      script,
      `local members = { ${entries.join(", ")} }\nlocal i = 0\n` +
        `request = function()\n  i = i + 1\n  local m = members[(i % #members) + 1]\n` +
        `  return wrk.format("POST", m.path, { ["Content-Type"] = "application/json" }, m.body)\nend\n`,
    );
    const out = execFileSync("wrk", ["-t", "2", "-c", "32", "-d", `${SECONDS}s`, "-s", script, broker.url], { encoding: "utf8" });
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
    if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses: ${out}`);
    const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    const raw = rawFsyncRate(SECONDS);
    report(
      `(B) /v1 commits, 32 committers (wrk): ${fmt(rate)} commits/s; this disk's fdatasync rate ${fmt(raw)}/s: ${(rate / raw).toFixed(1)} commits per fsync`,
      `    ${rate / raw >= 5 ? "PASS" : "FAIL"}  target ≥ 5 commits per fsync`,
    );
  } finally {
    await stop(broker.proc);
  }
}

async function benchRestart(): Promise<void> {
  const dataDir = join(work, "restart-broker");
  const first = await startBroker(dataDir);
  try {
    const topic = "big";
    await json(await post(`${first.url}/v1/topics`, { name: topic, partitions: 4 }));
    const value = "x".repeat(1000);
    const body = JSON.stringify({ records: Array.from({ length: 1000 }, () => ({ value })) });
    const requests = Math.ceil((RESTART_MIB * 1024 * 1024) / (1000 * 1050));
    for (let sent = 0; sent < requests; sent += 8) {
      await Promise.all(
        Array.from({ length: Math.min(8, requests - sent) }, () =>
          fetch(`${first.url}/v1/topics/${topic}/records`, { method: "POST", headers: { "content-type": "application/json" }, body }).then(json),
        ),
      );
    }
    // 100,000 committed-offset records: 100 groups × 250 commits of all 4 partitions, heartbeating on the way.
    const members = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const url = `${first.url}/v1/groups/restart-${i}/members`;
        const m = await json<{ memberId: string; memberEpoch: number; assignment: unknown }>(await post(url, { topics: [topic] }));
        return { url: `${url}/${m.memberId}`, group: `restart-${i}`, ...m };
      }),
    );
    await Promise.all(
      members.map(async (m) => {
        for (let n = 0; n < 250; n++) {
          if (n % 25 === 0) {
            const beat = await json<{ memberEpoch: number; assignment: unknown }>(
              await post(`${m.url}/heartbeat`, { memberEpoch: m.memberEpoch, ownedPartitions: m.assignment }),
            );
            Object.assign(m, { memberEpoch: beat.memberEpoch, assignment: beat.assignment });
          }
          const offsets = [0, 1, 2, 3].map((partition) => ({ topic, partition, offset: n }));
          await json(await post(`${first.url}/v1/groups/${m.group}/offsets`, { memberId: m.memberId, memberEpoch: m.memberEpoch, offsets }));
        }
      }),
    );
  } finally {
    await stop(first.proc);
  }
  const size = Number(spawnSync("du", ["-sm", dataDir], { encoding: "utf8" }).stdout.split("\t")[0]);
  // Drop the page cache where we may (root), so the restart reads from the disk as after a reboot.
  const dropped = spawnSync("sh", ["-c", "sync && echo 3 > /proc/sys/vm/drop_caches"]).status === 0;
  const again = await startBroker(dataDir);
  await stop(again.proc);
  const warm = await startBroker(dataDir);
  await stop(warm.proc);
  report(
    `(C) restart with ${fmt(size)} MiB on disk and 100,000 committed-offset records (${dropped ? "page cache dropped" : "page cache warm"}): ` +
      `startBroker() ${fmt(again.openMs)} ms; process start to /readyz 200 ${fmt(again.ms)} ms (a tsx process from sources; warm: ${fmt(warm.openMs)} / ${fmt(warm.ms)} ms)`,
    `    ${again.openMs < 2000 ? "PASS" : "FAIL"}  target < 2 s (startBroker)`,
  );
}

try {
  await benchSeed();
  await benchCommits();
  await benchRestart();
} finally {
  for (const proc of children) if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
}
