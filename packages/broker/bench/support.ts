// Shared by the broker's benchmarks: child processes (a broker, the yardstick route), wrk, the disk's own
// fsync rate, and the seed tutorial's poll + ack workload (one driver for every server that speaks it).
import { execFile, spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from "node:child_process";
import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { spawnTs } from "../../../test-support/spawn-ts.js";
import { HttpConnection } from "./http-connection.js";

import { freePort } from "../../../test-support/free-port.js";
export { freePort };

/** A number with thousands separators. */
export const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The body of an answer, parsed; throws on a non-2xx status. */
export async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.url}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
export const post = (url: string, body?: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
export const q = (p: Record<string, string>) => new URLSearchParams(p).toString();

const childScript = fileURLToPath(new URL("./bench-child.ts", import.meta.url));

/** Starts a bench-child role (its stderr passed through), remembered in `children` for the final cleanup. */
export function benchChild(children: ChildProcess[], args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  const proc = spawnTs(childScript, args, { env: { ...process.env, ...env } });
  children.push(proc);
  proc.stderr.on("data", (d) => process.stderr.write(d));
  return proc;
}

/** The first match of `pattern` in what `proc` prints. */
export function firstMatch(proc: ChildProcessWithoutNullStreams, pattern: RegExp): Promise<RegExpExecArray> {
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

/** A broker (bench-child serve-broker) over `dataDir`, ready; its URL, process, ms to /readyz and ms in startBroker(). */
export async function startBenchBroker(
  children: ChildProcess[],
  dataDir: string,
  fsync: "always" | "interval" | "never" = "always",
  env: Record<string, string> = {},
): Promise<{ url: string; proc: ChildProcess; ms: number; openMs: number }> {
  const started = performance.now();
  const proc = benchChild(children, ["serve-broker", dataDir], { BROKER_BENCH_FSYNC: fsync, ...env });
  const match = await firstMatch(proc, /listening (\S+)\nopened in ([\d.]+) ms\n/);
  const url = match[1]!;
  for (;;) {
    const ready = await fetch(`${url}/readyz`).catch(() => undefined);
    if (ready?.ok) break;
    await pause(5);
  }
  return { url, proc, ms: performance.now() - started, openMs: Number(match[2]) };
}

/** The built `minikafka-broker` command (`pnpm build`): the production start, plain node, no TypeScript loader. */
export const BUILT_BROKER = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

/**
 * Spawns the built broker command over `dataDir` on a free port (fsync "always", warnings only, then
 * `extraArgs`); resolves once
 * `/readyz` answers 200, with the ms from spawn to then. `undefined` when the command is not built.
 */
export async function startBuiltBroker(
  children: ChildProcess[],
  dataDir: string,
  extraArgs: readonly string[] = [],
): Promise<{ url: string; proc: ChildProcess; ms: number } | undefined> {
  if (!existsSync(BUILT_BROKER)) return undefined;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const proc = spawn(
    process.execPath,
    [BUILT_BROKER, "--port", String(port), "--data-dir", dataDir, "--fsync", "always", "--log-level", "warn", ...extraArgs],
    {
      stdio: "ignore",
    },
  );
  children.push(proc);
  for (;;) {
    const ready = await fetch(`${url}/readyz`).catch(() => undefined);
    if (ready?.ok) return { url, proc, ms: performance.now() - started };
    if (proc.exitCode !== null) throw new Error(`${BUILT_BROKER} exited (${proc.exitCode}) before /readyz answered 200`);
    await pause(5);
  }
}

/** SIGTERMs `proc` and waits for it to exit. */
export async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await done;
}

/** What wrk measured. */
export interface WrkResult {
  rps: number;
  p99ms: number;
  /** Requests completed in the run. */
  requests: number;
}

/**
 * CPU time in ms (user + system, all threads) process `pid` has used so far, from `/proc/<pid>/stat`;
 * `undefined` where there is no such file (not Linux, or the process is gone). Clock ticks are taken as
 * 100 per second (`CLK_TCK` on every Linux this runs on).
 */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis): utime, stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Runs wrk against `url`; `body` makes it a POST with that JSON body (its Lua script goes into `work`).
 * Asynchronous, so this process's own keep-alive connections see the server close them while wrk runs
 * (blocked in a synchronous call, fetch would reuse a socket the server closed meanwhile).
 */
export async function wrk(work: string, url: string, connections: number, seconds: number, body?: string): Promise<WrkResult> {
  const args = ["-t", String(Math.min(connections, 2)), "-c", String(connections), "-d", `${seconds}s`, "--latency"];
  if (body !== undefined) {
    const script = join(work, `post-${body.length}.lua`);
    writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`);
    args.push("-s", script);
  }
  const { stdout: out } = await promisify(execFile)("wrk", [...args, url], { encoding: "utf8", maxBuffer: 1 << 20 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const requests = Number(/(\d+) requests in /.exec(out)?.[1]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses from ${url}`);
  const unit = p99?.[2] === "us" ? 0.001 : p99?.[2] === "s" ? 1000 : 1;
  return { rps, p99ms: Number(p99?.[1]) * unit, requests };
}

/** This disk's rate of small durable appends: 4 KiB appended to `file` and fdatasynced, for `seconds`. */
export function rawFsyncRate(file: string, seconds: number): number {
  const fd = openSync(file, "a");
  const chunk = Buffer.alloc(4096, 0x6d);
  try {
    const start = performance.now();
    let syncs = 0;
    while (performance.now() - start < seconds * 1000) {
      writeSync(fd, chunk);
      fdatasyncSync(fd);
      syncs++;
    }
    return syncs / ((performance.now() - start) / 1000);
  } finally {
    closeSync(fd);
  }
}

/**
 * The seed's workload on a server speaking the seed's routes: `messages` produced one per request (keys spread
 * them over 3 partitions), then 3 consumers of one group polling and acking one message at a time, in one
 * process with keep-alive connections (the same driver for every server). Returns messages/s of each phase
 * and, given the server's `pid` (Linux), the server's CPU µs per message of the poll + ack phase.
 */
export async function seedWorkload(
  url: string,
  messages: number,
  pid?: number,
): Promise<{ produce: number; pollAck: number; acked: number; pollAckCpuUs?: number | undefined }> {
  const topic = `seed-${Date.now()}`;
  // A group of its own per run, as the Redis case makes a stream and group per run: the seed's consumer ids
  // are static members, so in a group reused across runs each consumer stays subscribed to every earlier
  // topic, and the coordinator (balancing partitions over all of them) may leave one without a partition of
  // this run's topic (polling empty, 2 ms apart) while another holds two.
  const group = `g-${topic}`;
  // One raw keep-alive connection per client (HttpConnection), as the Redis side uses a minimal RESP client:
  // the load generator's own cost per request stays a few µs, so the loop measures the server.
  const producer = await HttpConnection.open(url);
  await producer.json("POST", `/topics/${topic}/create?num_partitions=3`);
  let started = performance.now();
  // One producer, as in the tutorial (the seed server picks offsets racily under concurrent produces).
  for (let i = 0; i < messages; i++) {
    await producer.json("POST", `/topics/${topic}/messages?${q({ message: `m${i}-`.padEnd(100, "x"), key: `k${i}` })}`);
  }
  const produce = messages / ((performance.now() - started) / 1000);
  const consumers = await Promise.all(["c0", "c1", "c2"].map(async (id) => ({ id, conn: await HttpConnection.open(url) })));
  for (const { id } of consumers) await producer.json("POST", `/topics/${topic}/groups/${group}/subscribe?${q({ consumer_id: id })}`);
  producer.close();
  let acked = 0;
  const deadline = performance.now() + 60_000;
  const cpuBefore = processCpuMs(pid);
  started = performance.now();
  await Promise.all(
    consumers.map(async ({ id, conn }) => {
      while (acked < messages && performance.now() < deadline) {
        const polled = await conn.request("GET", `/topics/${topic}/messages?${q({ consumer_id: id, group_id: group })}`);
        if (polled.status !== 404 && polled.status !== 200) throw new Error(`poll: ${polled.status} ${polled.body}`);
        const batch = polled.status === 404 ? [] : (JSON.parse(polled.body) as Array<{ message_offset: number; partition_id: number }>);
        if (batch.length === 0) await pause(2); // assignment moving, or its partitions drained
        for (const m of batch) {
          await conn.json(
            "POST",
            `/topics/${topic}/messages/${m.message_offset}/ack?${q({ consumer_id: id, partition_id: String(m.partition_id) })}`,
          );
          acked++;
        }
      }
      conn.close();
    }),
  );
  const pollAck = acked / ((performance.now() - started) / 1000);
  const cpuAfter = processCpuMs(pid);
  const pollAckCpuUs = cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1000) / acked;
  return { produce, pollAck, acked, pollAckCpuUs };
}
