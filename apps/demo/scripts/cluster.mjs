// `pnpm cluster`: a local cluster in one command — an etcd (Debian's etcd-server, from the PATH) and three
// brokers in cluster mode on ports 8001–8003, with their data under ./data/cluster (etcd's too). Prints the
// brokers' URLs; Ctrl-C stops the brokers gracefully, then etcd.
//
// Environment: CLUSTER_BASE_PORT (default 8001: the brokers take it and the next two), CLUSTER_ETCD_PORT
// (default 2379; etcd's peer port is the next one), CLUSTER_DATA_DIR (default ./data/cluster, relative to
// where `pnpm cluster` was typed). Extra arguments go to every broker (e.g. --fsync interval).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const START = fileURLToPath(new URL("./start.mjs", import.meta.url));
const BROKERS = 3;
const basePort = Number(process.env.CLUSTER_BASE_PORT ?? 8001);
const etcdPort = Number(process.env.CLUSTER_ETCD_PORT ?? 2379);
const dataDir = resolve(process.env.INIT_CWD ?? process.cwd(), process.env.CLUSTER_DATA_DIR ?? "data/cluster");
const extra = process.argv.slice(2);

if (spawnSync("etcd", ["--version"], { stdio: "ignore" }).status !== 0) {
  process.stderr.write("pnpm cluster: needs etcd on the PATH (Debian and Ubuntu: apt-get install etcd-server)\n");
  process.exit(1);
}

const children = [];
let stopping = false;

/** Starts `command`, prefixing its output lines with `name`; resolves once a line matches `ready`. */
function run(name, command, args, ready) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, INIT_CWD: dataDir } });
  children.push({ name, child });
  const prefix = (stream, out) => {
    let pending = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        out.write(`[${name}] ${line}\n`);
        if (ready?.test(line)) ((ready = undefined), child.emit("ready"));
      }
    });
  };
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  child.once("exit", (code, signal) => {
    if (!stopping) {
      process.stderr.write(`pnpm cluster: ${name} exited (${signal ?? code}); stopping the others\n`);
      void stop(1);
    }
  });
  return new Promise((resolveReady, reject) => {
    child.once("ready", resolveReady);
    child.once("exit", () => reject(new Error(`${name} exited before it was ready`)));
  });
}

async function stop(code) {
  if (stopping) return;
  stopping = true;
  const exited = (c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once("exit", r)));
  const brokers = children.filter((c) => c.name !== "etcd");
  for (const { child } of brokers) child.kill("SIGTERM");
  await Promise.all(brokers.map(({ child }) => exited(child)));
  for (const { child } of children.filter((c) => c.name === "etcd")) {
    child.kill("SIGTERM");
    await exited(child);
  }
  process.exit(code);
}
// A terminal's Ctrl-C reaches the whole process group (the brokers too); stop() sends SIGTERM anyway, for a kill of this process alone.
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

try {
  mkdirSync(dataDir, { recursive: true });
  const etcd = `http://127.0.0.1:${etcdPort}`;
  const peer = `http://127.0.0.1:${etcdPort + 1}`;
  const etcdUp = run(
    "etcd",
    "etcd",
    [
      "--name=minikafka",
      `--data-dir=${resolve(dataDir, "etcd")}`,
      `--listen-client-urls=${etcd}`,
      `--advertise-client-urls=${etcd}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=minikafka=${peer}`,
      "--logger=zap",
      "--log-level=error",
    ],
    undefined,
  );
  etcdUp.catch(() => undefined); // it never says "ready": its health endpoint does (below)
  // etcd has no readiness signal but its health endpoint: ask it until it answers.
  for (let deadline = Date.now() + 15_000; ;) {
    const health = await fetch(`${etcd}/health`).then(
      (r) => r.json(),
      () => undefined,
    );
    if (health?.health === "true") break;
    if (stopping) throw new Error("stopped while etcd was starting");
    if (Date.now() > deadline) throw new Error(`etcd did not become healthy on ${etcd} (is the port taken?)`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const broker = (i) =>
    run(
      `broker ${i}`,
      process.execPath,
      [START, "--port", String(basePort + i - 1), "--node-id", String(i), "--etcd", etcd, "--data-dir", resolve(dataDir, String(i)), ...extra],
      /listening on /,
    );
  // The first start may build the broker bundle: the others start after it, from the built file.
  await broker(1);
  await Promise.all(Array.from({ length: BROKERS - 1 }, (_, i) => broker(i + 2)));
  process.stdout.write(
    `minikafka cluster: ${Array.from({ length: BROKERS }, (_, i) => `http://127.0.0.1:${basePort + i}`).join(" ")} (etcd ${etcd}, data in ${dataDir}); Ctrl-C stops it\n`,
  );
} catch (error) {
  process.stderr.write(`pnpm cluster: ${error.message}\n`);
  await stop(1);
}
