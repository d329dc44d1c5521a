// `pnpm --filter @minikafka/demo bench:start`: how fast the broker starts and how much memory it holds, for
// each way of starting it, measured in one run:
//   - `pnpm start` (wall time, pnpm's own start included), the script it runs (`node apps/demo/scripts/start.mjs`,
//     the bundled sources), the published command (`node packages/broker/dist/bin.js`, after `pnpm build`),
//     and, as the baseline, the sources under the tsx loader (how `pnpm start` ran before);
//   - time from spawn to `/readyz` 200 on an empty data dir and with 1,000 topics × 4 partitions on disk;
//   - RSS idle (1 s after ready) and the peak RSS under 10 s of batched produce (8 connections, 1,000 records of
//     100 bytes per request, round-robin over 4 partitions of one topic).
// Medians of ROUNDS starts (default 3). Targets (issue #17): ready < 500 ms empty and < 2 s with 1,000 × 4,
// idle RSS < 80 MiB, RSS under produce < 200 MiB.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const TOPICS = Number(process.env.TOPICS ?? 1000);
const tsx = pathToFileURL(createRequire(join(root, "apps/demo/package.json")).resolve("tsx/esm")).href;

const launchers = [
  { name: "pnpm start", command: "pnpm", args: ["start"], wall: true },
  { name: "node apps/demo/scripts/start.mjs", command: process.execPath, args: [join(root, "apps/demo/scripts/start.mjs")] },
  { name: "node packages/broker/dist/bin.js", command: process.execPath, args: [join(root, "packages/broker/dist/bin.js")] },
  {
    name: "baseline: tsx + sources",
    command: process.execPath,
    args: ["--import", tsx, "--conditions=@minikafka/source", join(root, "apps/demo/src/start.ts")],
  },
];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** RSS in bytes of `pid` and its descendants (pnpm start: pnpm, then node). */
function rssOf(pid) {
  let total = 0;
  try {
    total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) * 1024;
  } catch {
    return 0;
  }
  let children = "";
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8");
  } catch {}
  for (const child of children.split(" ").filter(Boolean)) total += rssOf(Number(child));
  return total;
}

/** The broker process itself: the deepest descendant (for pnpm start, the node under pnpm). */
function brokerPid(pid) {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter(Boolean);
    return children.length === 0 ? pid : brokerPid(Number(children[0]));
  } catch {
    return pid;
  }
}

async function start(launcher, dataDir) {
  const port = await freePort();
  const began = performance.now();
  const child = spawn(launcher.command, [...launcher.args, "--port", String(port), "--data-dir", dataDir], {
    cwd: root,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${launcher.name} exited: ${stderr}`);
    try {
      const answer = await fetch(`${url}/readyz`);
      await answer.body?.cancel();
      if (answer.status === 200) break;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const readyMs = performance.now() - began;
  return {
    url,
    readyMs,
    pid: brokerPid(child.pid),
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

async function createTopics(url, count) {
  const names = Array.from({ length: count }, (_, i) => `t-${String(i).padStart(4, "0")}`);
  for (let i = 0; i < names.length; i += 16) {
    await Promise.all(
      names.slice(i, i + 16).map(async (name) => {
        const answer = await fetch(`${url}/v1/topics`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name, partitions: 4 }),
        });
        if (answer.status !== 201) throw new Error(`create ${name}: ${answer.status} ${await answer.text()}`);
      }),
    );
  }
}

async function producePeakRss(url, pid, seconds) {
  await fetch(`${url}/v1/topics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "load", partitions: 4 }),
  });
  const value = "x".repeat(100);
  const body = JSON.stringify({ records: Array.from({ length: 1000 }, (_, i) => ({ value, partition: i % 4 })) });
  const until = performance.now() + seconds * 1000;
  let peak = 0;
  let records = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (performance.now() < until) {
        const answer = await fetch(`${url}/v1/topics/load/records`, { method: "POST", headers: { "content-type": "application/json" }, body });
        await answer.arrayBuffer();
        if (answer.status !== 200) throw new Error(`produce: ${answer.status}`);
        records += 1000;
      }
    }),
  );
  clearInterval(sampler);
  return { peak: Math.max(peak, rssOf(pid)), perSecond: records / seconds };
}

const scratch = mkdtempSync(join(tmpdir(), "minikafka-start-"));
const available = launchers.filter((l) => l.command !== process.execPath || existsSync(l.args.at(-1)));
for (const l of launchers) if (!available.includes(l)) console.log(`skipped ${l.name}: ${l.args.at(-1)} is missing (run pnpm build)`);
// The first start of scripts/start.mjs after a change bundles the sources; do it before timing anything.
execFileSync(process.execPath, [join(root, "apps/demo/scripts/start.mjs"), "--help"], { stdio: "ignore" });

const rows = [];
try {
  const full = join(scratch, "full");
  {
    const broker = await start(
      available.find((l) => !l.wall),
      full,
    );
    await createTopics(broker.url, TOPICS);
    await broker.stop();
  }
  for (const launcher of available) {
    const empty = [];
    const idle = [];
    const loaded = [];
    for (let round = 0; round < ROUNDS; round++) {
      const dir = join(scratch, `empty-${round}`);
      const broker = await start(launcher, dir);
      empty.push(broker.readyMs);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      idle.push(rssOf(broker.pid));
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
      const again = await start(launcher, full);
      loaded.push(again.readyMs);
      await again.stop();
    }
    const row = { launcher: launcher.name, empty: median(empty), loaded: median(loaded), idle: median(idle) };
    if (!launcher.wall) {
      const dir = join(scratch, "produce");
      const broker = await start(launcher, dir);
      Object.assign(row, await producePeakRss(broker.url, broker.pid, 10));
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    rows.push(row);
    console.log(
      `  ${launcher.name}: ready ${empty.map((v) => v.toFixed(0)).join("/")} ms empty, ${loaded.map((v) => v.toFixed(0)).join("/")} ms with ${TOPICS} × 4`,
    );
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

console.log(
  `\nbench:start — node ${process.version}, load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(" ")}, medians of ${ROUNDS}\n`,
);
console.log(
  `| start | ready, empty (< 500 ms) | ready, ${TOPICS} × 4 partitions (< 2 s) | idle RSS (< 80 MiB) | peak RSS, batched produce (< 200 MiB) |`,
);
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  const produce = r.peak === undefined ? "—" : `${mib(r.peak)} (${Math.round(r.perSecond).toLocaleString("en-US")} rec/s)`;
  console.log(`| ${r.launcher} | ${r.empty.toFixed(0)} ms | ${r.loaded.toFixed(0)} ms | ${mib(r.idle)} | ${produce} |`);
}
