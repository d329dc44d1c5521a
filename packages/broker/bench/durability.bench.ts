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
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BUILT_BROKER, fmt, freePort, json, pause, post, rawFsyncRate, seedWorkload, startBenchBroker, startBuiltBroker, stop } from "./support.js";

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
const work = mkdtempSync(join(tmpdir(), "minikafka-durability-bench-"));
const children: ChildProcess[] = [];
const report = (...lines: string[]) => console.log(lines.join("\n"));

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
  const broker = await startBenchBroker(children, join(work, "seed-broker"));
  try {
    const ours = await seedWorkload(broker.url, MESSAGES);
    const theirs = await seedWorkload(seedUrl, MESSAGES);
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
  const broker = await startBenchBroker(children, join(work, "commit-broker"));
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
    const raw = rawFsyncRate(join(work, "raw-fsync.log"), SECONDS);
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
  const first = await startBenchBroker(children, dataDir);
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
  const again = await startBenchBroker(children, dataDir);
  await stop(again.proc);
  const warm = await startBenchBroker(children, dataDir);
  await stop(warm.proc);
  // The production start: the built broker command under plain node (what `pnpm start` and the published
  // `minikafka-broker` run), page cache dropped again, spawn → /readyz 200.
  spawnSync("sh", ["-c", "sync && echo 3 > /proc/sys/vm/drop_caches"]);
  const built = await startBuiltBroker(children, dataDir);
  if (built) await stop(built.proc);
  const production = built?.ms;
  report(
    `(C) restart with ${fmt(size)} MiB on disk and 100,000 committed-offset records (${dropped ? "page cache dropped" : "page cache warm"}): ` +
      `startBroker() ${fmt(again.openMs)} ms; process start to /readyz 200 ${fmt(again.ms)} ms (a tsx process from sources; warm: ${fmt(warm.openMs)} / ${fmt(warm.ms)} ms)`,
    production === undefined
      ? `    built broker command: skipped (no ${BUILT_BROKER}; run pnpm build first)`
      : `    built broker command (node dist/bin.js${dropped ? ", page cache dropped" : ""}): spawn to /readyz 200 ${fmt(production)} ms`,
    `    ${(production ?? again.openMs) < 2000 ? "PASS" : "FAIL"}  target < 2 s to /readyz 200 (${production === undefined ? "startBroker only" : "the built command"})`,
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
