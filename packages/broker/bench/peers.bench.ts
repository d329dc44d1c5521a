// Per-request cost (issue 17): what a naive HTTP producer or consumer gets (one record per request; poll and
// ack one message at a time), beside a trivial Hono route (the HTTP ceiling) and the brokers people compare
// against, Redis streams and NATS JetStream, all measured in this run on this machine.
//
//   pnpm --filter @minikafka/broker bench:peers
//   PEERS_BENCH_ROUNDS=3 (every case once per round; medians)  PEERS_BENCH_SECONDS=3 (per load case and round)
//   PEERS_BENCH_MESSAGES=3000 (per poll + ack case and round)  PEERS_BENCH_WARMUP=1 (0: no warm-up pass)
// Each minikafka case also runs against the same broker with the Node lane and produce merging turned off
// ("before": every request through the Hono app, one batch per call), side by side. Beside the rates, each
// server's own CPU time per request or message (all its threads, from /proc on Linux): what the request
// costs, which the disk's and the other jobs' swings on a shared machine move far less than the rates.
//
// Needs wrk. Redis (`redis-server`, `redis-benchmark`: apt-get install redis-server) and NATS
// (`nats-server`: apt-get install nats-server) are measured where installed and skipped, saying so, where not.
// Durability as configured: minikafka fsync "always" (its default: answered once fsynced, group commit);
// Redis `appendonly yes` + `appendfsync always` (fsync before answering, group commit across clients);
// NATS JetStream file storage as it ships (2.9: acknowledged once written, fsynced every `sync_interval`,
// 2 min by default, so weaker than the other two: its figures are an upper bound for a durable NATS).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { HttpConnection } from "./http-connection.js";
import { fmt, freePort, json, pause, post, processCpuMs, seedWorkload, startBenchBroker, stop, wrk, benchChild, firstMatch } from "./support.js";

const SECONDS = Number(process.env.PEERS_BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.PEERS_BENCH_ROUNDS ?? 3);
const MESSAGES = Number(process.env.PEERS_BENCH_MESSAGES ?? 3000);
const WARMUP = process.env.PEERS_BENCH_WARMUP !== "0";
const VALUE = "v".repeat(100);

if (spawnSync("wrk", ["--version"]).error) {
  console.log("this benchmark needs wrk as its load generator (Debian/Ubuntu: apt-get install wrk); nothing measured");
  process.exit(0);
}
const has = (command: string) => spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
const work = mkdtempSync(join(tmpdir(), "minikafka-peers-bench-"));
const children: ChildProcess[] = [];

// ---- A minimal RESP client (one request at a time per connection, which is what the workloads do) ----

type Resp = string | number | null | Resp[];

/** Parses one RESP reply at `pos`; `undefined` while it is incomplete. */
function parseResp(buf: Buffer, pos: number): [Resp, number] | undefined {
  const eol = buf.indexOf("\r\n", pos);
  if (eol < 0) return undefined;
  const line = buf.toString("latin1", pos + 1, eol);
  const next = eol + 2;
  switch (buf[pos]) {
    case 0x2b: // +
      return [line, next];
    case 0x2d: // -
      throw new Error(`redis: ${line}`);
    case 0x3a: // :
      return [Number(line), next];
    case 0x24: {
      // $
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buf.length < next + length + 2) return undefined;
      return [buf.toString("utf8", next, next + length), next + length + 2];
    }
    case 0x2a: {
      // *
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: Resp[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseResp(buf, at);
        if (item === undefined) return undefined;
        items.push(item[0]);
        at = item[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`redis: unexpected reply byte ${buf[pos]}`);
  }
}

class RedisConnection {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #waiting: ((reply: Resp) => void) | undefined;
  #failed: ((error: Error) => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      try {
        const parsed = parseResp(this.#buffer, 0);
        if (parsed === undefined) return;
        this.#buffer = this.#buffer.subarray(parsed[1]);
        this.#waiting?.(parsed[0]);
      } catch (error) {
        this.#failed?.(error as Error);
      }
    });
  }

  static open(port: number): Promise<RedisConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => resolve(new RedisConnection(socket)));
      socket.setNoDelay(true);
      socket.once("error", reject);
    });
  }

  call(...args: string[]): Promise<Resp> {
    let out = `*${args.length}\r\n`;
    for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
    return new Promise((resolve, reject) => {
      this.#waiting = resolve;
      this.#failed = reject;
      this.#socket.write(out);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

async function startRedis(): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const dir = join(work, "redis");
  mkdirSync(dir);
  const proc = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
    { stdio: "ignore" },
  );
  children.push(proc);
  for (;;) {
    const conn = await RedisConnection.open(port).catch(() => undefined);
    if (conn && (await conn.call("PING").catch(() => undefined)) === "PONG") {
      conn.close();
      return { port, proc };
    }
    conn?.close();
    await pause(20);
  }
}

/** XADD of one 100-byte field per request from 32 clients (redis-benchmark, its own process, like wrk). */
function redisXadd(port: number): { rate: number; requests: number } {
  // About SECONDS at the rate a durable Redis reaches here; redis-benchmark runs a count, not a time.
  const n = String(Math.round(SECONDS * 25_000));
  const out = spawnSync("redis-benchmark", ["-h", "127.0.0.1", "-p", String(port), "-c", "32", "-n", n, "--csv", "XADD", "bench", "*", "v", VALUE], {
    encoding: "utf8",
  });
  const row = out.stdout
    .trim()
    .split("\n")
    .find((l) => l.startsWith('"XADD'));
  if (row === undefined) throw new Error(`redis-benchmark printed no XADD row: ${out.stdout}${out.stderr}`);
  return { rate: Number(JSON.parse(`[${row}]`)[1]), requests: Number(n) };
}

/**
 * 3 consumers of one group, each XREADGROUP COUNT 1 then XACK, until `MESSAGES` are acked; messages/s and
 * the server's (`pid`) CPU µs per message meanwhile.
 */
async function redisPollAck(port: number, pid: number | undefined): Promise<{ rate: number; cpuUs: number }> {
  const admin = await RedisConnection.open(port);
  const stream = `pollack-${Date.now()}`;
  for (let i = 0; i < MESSAGES; i++) await admin.call("XADD", stream, "*", "v", VALUE);
  await admin.call("XGROUP", "CREATE", stream, "g", "0");
  admin.close();
  const consumers = await Promise.all(["c0", "c1", "c2"].map(async (name) => ({ name, conn: await RedisConnection.open(port) })));
  let acked = 0;
  const cpuBefore = processCpuMs(pid);
  const started = performance.now();
  await Promise.all(
    consumers.map(async ({ name, conn }) => {
      for (;;) {
        const reply = (await conn.call("XREADGROUP", "GROUP", "g", name, "COUNT", "1", "STREAMS", stream, ">")) as
          [string, [string, string[]][]][] | null;
        const entry = reply?.[0]?.[1]?.[0];
        if (entry === undefined) break;
        await conn.call("XACK", stream, "g", entry[0]);
        acked++;
      }
      conn.close();
    }),
  );
  if (acked !== MESSAGES) throw new Error(`redis: acked ${acked} of ${MESSAGES}`);
  return { rate: acked / ((performance.now() - started) / 1000), cpuUs: cpuPerItem(cpuBefore, processCpuMs(pid), acked) };
}

/** CPU µs per item between two {@link processCpuMs} readings; NaN where either is missing. */
function cpuPerItem(before: number | undefined, after: number | undefined, items: number): number {
  return before === undefined || after === undefined ? NaN : ((after - before) * 1000) / items;
}

// ---- NATS JetStream, over its text protocol ----

class NatsConnection {
  readonly #socket: Socket;
  #buffer = "";
  #pending = new Map<string, (payload: string) => void>();
  #seq = 0;
  readonly #inbox = `_INBOX.${Math.random().toString(36).slice(2)}`;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.#buffer += chunk;
      for (;;) {
        const eol = this.#buffer.indexOf("\r\n");
        if (eol < 0) return;
        const line = this.#buffer.slice(0, eol);
        if (line.startsWith("MSG ")) {
          // MSG <subject> <sid> [reply] <bytes>
          const parts = line.split(" ");
          const bytes = Number(parts.at(-1));
          if (this.#buffer.length < eol + 2 + bytes + 2) return;
          const payload = this.#buffer.slice(eol + 2, eol + 2 + bytes);
          this.#buffer = this.#buffer.slice(eol + 2 + bytes + 2);
          const resolve = this.#pending.get(parts[1]!);
          this.#pending.delete(parts[1]!);
          resolve?.(payload);
          continue;
        }
        this.#buffer = this.#buffer.slice(eol + 2);
        if (line === "PING") socket.write("PONG\r\n");
        else if (line.startsWith("-ERR")) throw new Error(`nats: ${line}`);
      }
    });
  }

  static open(port: number): Promise<NatsConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        const conn = new NatsConnection(socket);
        socket.write(`CONNECT {"verbose":false,"pedantic":false}\r\nSUB ${conn.#inbox}.* 1\r\n`);
        resolve(conn);
      });
      socket.setNoDelay(true);
      socket.once("error", reject);
    });
  }

  /** Publishes with a reply subject and resolves with the reply (JetStream's ack). */
  request(subject: string, payload: string): Promise<string> {
    const reply = `${this.#inbox}.${++this.#seq}`;
    return new Promise((resolve) => {
      this.#pending.set(reply, resolve);
      this.#socket.write(`PUB ${subject} ${reply} ${Buffer.byteLength(payload)}\r\n${payload}\r\n`);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

async function startNats(): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", join(work, "nats")], { stdio: "ignore" });
  children.push(proc);
  for (;;) {
    const conn = await NatsConnection.open(port).catch(() => undefined);
    if (conn) {
      const created = await conn.request("$JS.API.STREAM.CREATE.BENCH", JSON.stringify({ name: "BENCH", subjects: ["bench"], storage: "file" }));
      conn.close();
      if (created.includes('"error"')) throw new Error(`nats: ${created}`);
      return { port, proc };
    }
    await pause(20);
  }
}

/** 32 publishers, each waiting for JetStream's ack of one 100-byte message before sending the next; messages/s. */
async function natsPublish(port: number): Promise<{ rate: number; requests: number }> {
  const conns = await Promise.all(Array.from({ length: 32 }, () => NatsConnection.open(port)));
  let sent = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  await Promise.all(
    conns.map(async (conn) => {
      while (performance.now() < until) {
        const ack = await conn.request("bench", VALUE);
        if (!ack.includes('"seq"')) throw new Error(`nats: ${ack}`);
        sent++;
      }
      conn.close();
    }),
  );
  return { rate: sent / ((performance.now() - started) / 1000), requests: sent };
}

// ---- minikafka's /v1 consumer, one message per fetch, each commit awaited ----

type Assignment = Array<{ topic: string; partitions: number[] }>;
type Member = { memberId: string; memberEpoch: number; assignment: Assignment };

/**
 * 3 group members on a 3-partition topic: member fetch of 1 record, then its commit, until `messages`;
 * messages/s and the broker's (`pid`) CPU µs per message meanwhile.
 */
async function v1PollCommit(url: string, pid: number | undefined, messages = MESSAGES): Promise<{ rate: number; cpuUs: number }> {
  const topic = `v1-pollack-${Date.now()}`;
  await json(await post(`${url}/v1/topics`, { name: topic, partitions: 3 }));
  for (let sent = 0; sent < messages; sent += 1000) {
    const records = Array.from({ length: Math.min(1000, messages - sent) }, (_, i) => ({ key: `k${sent + i}`, value: VALUE }));
    await json(await post(`${url}/v1/topics/${topic}/records`, { records }));
  }
  const group = `g-${Date.now()}`;
  const members: Member[] = [];
  for (let i = 0; i < 3; i++) members.push(await json<Member>(await post(`${url}/v1/groups/${group}/members`, { topics: [topic] })));
  // Converge (revoke before assign): heartbeat until every member owns exactly one partition.
  while (!members.every((m) => m.assignment.flatMap((a) => a.partitions).length === 1)) {
    for (const m of members) {
      const r = await json<Member>(
        await post(`${url}/v1/groups/${group}/members/${m.memberId}/heartbeat`, { memberEpoch: m.memberEpoch, ownedPartitions: m.assignment }),
      );
      m.memberEpoch = r.memberEpoch;
      m.assignment = r.assignment;
    }
  }
  let acked = 0;
  // One raw keep-alive connection per member (see support.ts's seedWorkload).
  const connections = await Promise.all(members.map(() => HttpConnection.open(url)));
  const cpuBefore = processCpuMs(pid);
  const started = performance.now();
  await Promise.all(
    members.map(async (m, i) => {
      const conn = connections[i]!;
      const partition = m.assignment[0]!.partitions[0]!;
      let position = 0;
      for (;;) {
        const fetched = await conn.json<{ records: Array<{ offset: number }> }>(
          "GET",
          `/v1/groups/${group}/members/${m.memberId}/records?maxRecords=1&positions=${topic}:${partition}:${position}`,
        );
        const record = fetched.records[0];
        if (record === undefined) break;
        position = record.offset + 1;
        await conn.json("POST", `/v1/groups/${group}/offsets`, {
          memberId: m.memberId,
          memberEpoch: m.memberEpoch,
          offsets: [{ topic, partition, offset: position }],
        });
        acked++;
      }
      conn.close();
    }),
  );
  if (acked !== messages) throw new Error(`/v1: acked ${acked} of ${messages}`);
  return { rate: acked / ((performance.now() - started) / 1000), cpuUs: cpuPerItem(cpuBefore, processCpuMs(pid), acked) };
}

const rows: string[][] = [];
const targets: string[] = [];
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const target = (ok: boolean, text: string) => targets.push(`${ok ? "PASS" : "FAIL"}  ${text}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const each = (xs: number[]) => xs.map((x) => fmt(x)).join(" / ");

try {
  const trivialProc = benchChild(children, ["serve-trivial"]);
  const trivial = (await firstMatch(trivialProc, /listening (\S+)\n/))[1]!;
  // The broker as it is, and the same code with the per-request work of issue 17 turned off (every request
  // through the Hono app, one batch per produce call): old and new side by side, under the same load.
  const broker = await startBenchBroker(children, join(work, "broker"));
  const before = await startBenchBroker(children, join(work, "baseline"), "always", { BROKER_BENCH_BASELINE: "1" });
  const brokers = [broker.url, before.url];
  console.log(
    `peers bench: node ${process.version}, ${cpus().length}× ${cpus()[0]?.model.trim()}; ${ROUNDS} rounds of ${SECONDS}s per load case and ${fmt(MESSAGES)} messages per poll + ack case, medians`,
  );
  console.log(`load average at the start: ${loadavg().map((l) => l.toFixed(2)).join(", ")}\n`);

  for (const url of brokers) {
    await json(await post(`${url}/v1/topics`, { name: "one", partitions: 3 }));
    await json(await post(`${url}/topics/seed/create?num_partitions=3`));
  }
  let redis: { port: number; proc: ChildProcess } | undefined;
  if (has("redis-server") && has("redis-benchmark")) redis = await startRedis();
  let nats: { port: number; proc: ChildProcess } | undefined;
  if (has("nats-server")) nats = await startNats();

  // A warm-up pass over the trivial route and every minikafka case, not measured: the broker is a long-running JIT-compiled
  // process, and its first few thousand requests of a route cost several times the steady state (V8
  // compiling the route's code on the main thread and its helper threads), which a 3 s round would
  // otherwise mostly measure. Redis and NATS are compiled ahead of time.
  if (WARMUP) {
    const v1Warm = JSON.stringify({ records: [{ value: VALUE }] });
    await wrk(work, `${trivial}/ping`, 32, 1, "{}");
    for (const url of brokers) {
      await wrk(work, `${url}/v1/topics/one/records`, 32, 1, v1Warm);
      await wrk(work, `${url}/topics/seed/messages?message=${VALUE}&key=`, 32, 1, "");
      await seedWorkload(url, 1000);
      await v1PollCommit(url, undefined, 1000);
    }
  }

  // One record per request, 32 connections; every case once per round, so that drift in the machine's
  // load and disk (other jobs share it) spreads over all of them alike. Each case also records its
  // server's CPU µs per request.
  const load: Record<string, number[]> = { trivial: [], v1: [], v1Before: [], seed: [], seedBefore: [], xadd: [], nats: [] };
  const loadCpu: Record<string, number[]> = Object.fromEntries(Object.keys(load).map((k) => [k, []]));
  const measure = async (key: string, pid: number | undefined, run: () => Promise<{ rate: number; requests: number }>) => {
    const before = processCpuMs(pid);
    const { rate, requests } = await run();
    load[key]!.push(rate);
    loadCpu[key]!.push(cpuPerItem(before, processCpuMs(pid), requests));
  };
  const wrkCase = (url: string, body: string) => async () => {
    const r = await wrk(work, url, 32, SECONDS, body);
    return { rate: r.rps, requests: r.requests };
  };
  const v1Body = JSON.stringify({ records: [{ value: VALUE }] });
  for (let round = 0; round < ROUNDS; round++) {
    await measure("trivial", trivialProc.pid, wrkCase(`${trivial}/ping`, "{}"));
    await measure("v1", broker.proc.pid, wrkCase(`${broker.url}/v1/topics/one/records`, v1Body));
    await measure("v1Before", before.proc.pid, wrkCase(`${before.url}/v1/topics/one/records`, v1Body));
    await measure("seed", broker.proc.pid, wrkCase(`${broker.url}/topics/seed/messages?message=${VALUE}&key=`, ""));
    await measure("seedBefore", before.proc.pid, wrkCase(`${before.url}/topics/seed/messages?message=${VALUE}&key=`, ""));
    if (redis) await measure("xadd", redis.proc.pid, async () => redisXadd(redis.port));
    if (nats) await measure("nats", nats.proc.pid, () => natsPublish(nats.port));
  }
  const med = (xs: number[]) => (xs.length > 0 ? median(xs) : NaN);
  const m = Object.fromEntries(Object.entries(load).map(([k, v]) => [k, med(v)]));
  const cpu = (xs: number[] | undefined) => (xs === undefined || xs.length === 0 || xs.some(Number.isNaN) ? "" : fmt(med(xs), 1));
  const loadRow = (label: string, key: string) =>
    rows.push([label, fmt(m[key]!), ratio(m[key]!, m.trivial!), "", cpu(loadCpu[key]), each(load[key]!)]);
  loadRow("trivial Hono route (the HTTP ceiling)", "trivial");
  loadRow("minikafka /v1 produce, 1 record/request", "v1");
  loadRow("  before (Hono only, a batch per call)", "v1Before");
  loadRow("minikafka seed produce, 1 message/request", "seed");
  loadRow("  before (Hono only, a batch per call)", "seedBefore");
  target(m.v1! / m.trivial! >= 0.5, `/v1 one-record produce at 32 connections: ${ratio(m.v1!, m.trivial!)} the trivial route (target ≥ 0.5×)`);
  target(m.seed! / m.trivial! >= 0.6, `seed produce at 32 connections: ${ratio(m.seed!, m.trivial!)} the trivial route (target ≥ 0.6×)`);
  if (redis) {
    loadRow("Redis XADD, appendfsync always (redis-benchmark)", "xadd");
    target(m.v1! / m.xadd! >= 0.5, `/v1 one-record produce: ${ratio(m.v1!, m.xadd!)} Redis XADD with appendfsync always (target ≥ 0.5×)`);
  } else rows.push(["Redis: skipped (apt-get install redis-server)", "", "", "", "", ""]);
  if (nats) {
    loadRow("NATS JetStream publish + ack (file store, default sync)", "nats");
    await stop(nats.proc);
  } else rows.push(["NATS: skipped (apt-get install nats-server)", "", "", "", "", ""]);

  // Poll + ack, one message at a time, 3 consumers (on 3 partitions where the broker has them), the
  // cases interleaved round by round as above.
  const polls: Record<string, number[]> = { seed: [], v1: [], seedBefore: [], v1Before: [], redis: [] };
  const pollCpu: Record<string, number[]> = Object.fromEntries(Object.keys(polls).map((k) => [k, []]));
  const pollCase = async (key: string, run: Promise<{ rate: number; cpuUs: number }>) => {
    const { rate, cpuUs } = await run;
    polls[key]!.push(rate);
    pollCpu[key]!.push(cpuUs);
  };
  const seedCase = (url: string, pid: number | undefined) =>
    seedWorkload(url, MESSAGES, pid).then((r) => ({ rate: r.pollAck, cpuUs: r.pollAckCpuUs ?? NaN }));
  for (let round = 0; round < ROUNDS; round++) {
    await pollCase("seed", seedCase(broker.url, broker.proc.pid));
    await pollCase("v1", v1PollCommit(broker.url, broker.proc.pid));
    await pollCase("seedBefore", seedCase(before.url, before.proc.pid));
    await pollCase("v1Before", v1PollCommit(before.url, before.proc.pid));
    if (redis) await pollCase("redis", redisPollAck(redis.port, redis.proc.pid));
  }
  const p = Object.fromEntries(Object.entries(polls).map(([k, v]) => [k, med(v)]));
  const pollRow = (label: string, key: string) => rows.push([label, "", "", fmt(p[key]!), cpu(pollCpu[key]), each(polls[key]!)]);
  pollRow("minikafka seed poll + ack, 3 consumers", "seed");
  pollRow("  before (Hono only)", "seedBefore");
  pollRow("minikafka /v1 member fetch (1) + commit, 3 members", "v1");
  pollRow("  before (Hono only)", "v1Before");
  if (redis) {
    pollRow("Redis XREADGROUP COUNT 1 + XACK, 3 consumers, always", "redis");
    target(p.seed! / p.redis! >= 1, `seed poll + ack: ${ratio(p.seed!, p.redis!)} Redis XREADGROUP + XACK (target ≥ 1×)`);
    target(p.v1! / p.redis! >= 1, `/v1 fetch + commit: ${ratio(p.v1!, p.redis!)} Redis XREADGROUP + XACK (target ≥ 1×)`);
    await stop(redis.proc);
  }

  const header = ["case (32 connections unless said)", "requests/s", "vs trivial", "messages/s", "server CPU µs", "each round"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log([line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n"));
  console.log("\nserver CPU µs: the server process's CPU time (user + system, all threads) per request, or per message acked");
  console.log(`\nTargets (medians)\n${targets.join("\n")}`);
  console.log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(2)).join(", ")}`);
  await stop(broker.proc);
  await stop(before.proc);
} finally {
  for (const proc of children) if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
}
