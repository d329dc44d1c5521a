// Durable Streams benchmark: the broker's /v1/stream routes against the protocol's reference server
// (@durable-streams/server, DurableStreamTestServer with its file-backed store), both on this machine in
// child processes, driven by the same load generator in this process, in one run:
//   A. appends of 100-byte messages (application/octet-stream), 1 writer and 32 concurrent writers, one
//      stream, in alternating windows; every append is answered once its data is fdatasynced by both
//      servers (printed at the start: what each fsyncs)
//   B. a catch-up read of a stream of 1M such messages: from offset -1, following Stream-Next-Offset until
//      Stream-Up-To-Date, every byte counted; both filled through their HTTP API with appends of 1,000 messages
//      (the reference cannot serve 1M one-message appends: see part B below); the broker also with 1M
//      one-message appends (through StreamService)
//   C. SSE fan-out (the broker alone, absolute targets): 1,000 SSE readers of one stream in two reader
//      processes while 1,000 appends/s arrive: p99 append-to-delivery, the broker's peak RSS, deliveries
//      (every reader checks it got every message once, all in the same order); and where the latency goes:
//      each message's latency to its first reader, and the spread from its first reader to its last
//
//   pnpm --filter @minikafka/broker bench:streams
//   # STREAMS_BENCH_SECONDS (A, per case, default 5), STREAMS_BENCH_MESSAGES (B, default 1000000),
//   # STREAMS_BENCH_FANOUT_READERS (C, default 1000), STREAMS_BENCH_FANOUT_RATE (C, appends/s, default 1000),
//   # STREAMS_BENCH_FANOUT_SECONDS (C, default 10, after STREAMS_BENCH_FANOUT_WARMUP_SECONDS, default 2),
//   # STREAMS_BENCH_ONLY (A, B or C: one part)
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { benchChild, firstMatch, fmt, pause, startBenchBroker, stop } from "./support.js";

const SECONDS = Number(process.env.STREAMS_BENCH_SECONDS ?? 5);
const MESSAGES = Number(process.env.STREAMS_BENCH_MESSAGES ?? 1_000_000);
const READERS = Number(process.env.STREAMS_BENCH_FANOUT_READERS ?? 1000);
const RATE = Number(process.env.STREAMS_BENCH_FANOUT_RATE ?? 1000);
const FANOUT_SECONDS = Number(process.env.STREAMS_BENCH_FANOUT_SECONDS ?? 10);
const FANOUT_WARMUP_SECONDS = Number(process.env.STREAMS_BENCH_FANOUT_WARMUP_SECONDS ?? 2);
const ONLY = process.env.STREAMS_BENCH_ONLY;
/** Part A: measured windows per case, alternating the servers. */
const WINDOWS = 5;
const MESSAGE_BYTES = 100;
/** Part B's fill: messages per append, and appends in flight. */
const BATCH = 1000;
const FILL_IN_FLIGHT = 4;

const children: ChildProcess[] = [];
const work = mkdtempSync(join(tmpdir(), "minikafka-streams-bench-"));
const load = () =>
  `load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** One HTTP request with keep-alive; resolves with status, headers and (when `sink` is not given) the body. */
function request(
  url: string,
  method: string,
  headers: Record<string, string> = {},
  body?: Uint8Array,
  sink?: (chunk: Buffer) => void,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => (sink ? sink(d) : chunks.push(d)));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function startReference(dataDir: string): Promise<{ url: string; proc: ChildProcess }> {
  const proc = benchChild(children, ["serve-ds-reference", dataDir]);
  const match = await firstMatch(proc, /listening (\S+)\n/);
  return { url: match[1]!, proc };
}

async function createStream(url: string): Promise<void> {
  const r = await request(url, "PUT", { "content-type": "application/octet-stream" });
  if (r.status !== 201 && r.status !== 200) throw new Error(`PUT ${url}: ${r.status} ${r.body}`);
}

/** `writers` loops appending 100-byte messages for `seconds`; appends per second (all answered 2xx). */
async function appends(url: string, writers: number, seconds: number): Promise<number> {
  const message = Buffer.alloc(MESSAGE_BYTES, 0x61);
  const headers = { "content-type": "application/octet-stream", "content-length": String(MESSAGE_BYTES) };
  let done = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < end) {
        const r = await request(url, "POST", headers, message);
        if (r.status !== 204 && r.status !== 200) throw new Error(`POST ${url}: ${r.status} ${r.body}`);
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** Reads the stream from -1 until up to date; ms taken, and the bytes and answers it took. */
async function catchUp(url: string): Promise<{ ms: number; bytes: number; answers: number }> {
  let offset = "-1";
  let bytes = 0;
  let answers = 0;
  const started = performance.now();
  for (;;) {
    const r = await request(`${url}?offset=${offset}`, "GET", {}, undefined, (chunk) => (bytes += chunk.length));
    if (r.status !== 200) throw new Error(`GET ${url}: ${r.status}`);
    answers++;
    offset = String(r.headers["stream-next-offset"]);
    if (r.headers["stream-up-to-date"] === "true") break;
  }
  return { ms: performance.now() - started, bytes, answers };
}

/** How fast one catch-up read went: ms, the answers it took, the server's CPU ms (10 ms ticks) and this process's. */
type CatchUp = { ms: number; answers: number; serverCpuMs: number; clientCpuMs: number };

/** The best of `n` catch-up reads of each of `urls`, in turns (each checked for every byte's arrival). */
async function bestCatchUps(targets: Array<{ url: string; pid: number }>, n: number): Promise<CatchUp[]> {
  const best: Array<CatchUp | undefined> = targets.map(() => undefined);
  for (let i = 0; i < n; i++) {
    for (const [j, { url, pid }] of targets.entries()) {
      const [serverBefore, clientBefore] = [cpuSeconds(pid), process.cpuUsage()];
      const read = await catchUp(url);
      const client = process.cpuUsage(clientBefore);
      const r = { ...read, serverCpuMs: (cpuSeconds(pid) - serverBefore) * 1000, clientCpuMs: (client.user + client.system) / 1000 };
      if (r.bytes !== MESSAGES * MESSAGE_BYTES) throw new Error(`${url}: read ${r.bytes} bytes, expected ${MESSAGES * MESSAGE_BYTES}`);
      if (best[j] === undefined || r.ms < best[j].ms) best[j] = r;
    }
  }
  return best as CatchUp[];
}

/**
 * Fills stream `url` with MESSAGES 100-byte messages through its HTTP API: appends of BATCH messages each
 * (one 100 KB body), FILL_IN_FLIGHT at a time, each answered once durable. Seconds taken.
 */
async function fillOverHttp(url: string): Promise<number> {
  const message = Buffer.alloc(MESSAGE_BYTES, 0x6d);
  const batches = Math.ceil(MESSAGES / BATCH);
  let nextBatch = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: FILL_IN_FLIGHT }, async () => {
      while (nextBatch < batches) {
        const i = nextBatch++;
        const n = Math.min(BATCH, MESSAGES - i * BATCH);
        const body = Buffer.concat(Array.from({ length: n }, () => message));
        const r = await request(url, "POST", { "content-type": "application/octet-stream", "content-length": String(body.length) }, body);
        if (r.status !== 204 && r.status !== 200) throw new Error(`POST ${url}: ${r.status} ${r.body}`);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/** User + system CPU seconds of process `pid` so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Peak RSS (MiB) of `pid` while `during` runs, sampled every 100 ms. */
async function peakRss<T>(pid: number, during: Promise<T>): Promise<{ result: T; peakMiB: number }> {
  let peak = 0;
  let running = true;
  const sampling = (async () => {
    while (running) {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      peak = Math.max(peak, Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
      await pause(100);
    }
  })();
  try {
    const result = await during;
    return { result, peakMiB: peak };
  } finally {
    running = false;
    await sampling;
  }
}

interface ReaderReport {
  readers: number;
  failed: number;
  doubled: number;
  events: number;
  cpuSeconds: number;
  orders: number[];
  received: number;
  minPerReader: number;
  p50: number;
  p99: number;
  max: number;
  /** The reader process's event-loop delay p99 (ms). */
  loopP99: number;
  /** By seq: when the message first and last reached one of the process's readers (ms since the epoch, 0: never). */
  firstArrival: number[];
  lastArrival: number[];
}

/**
 * Part C: READERS SSE readers (two processes) while RATE appends/s arrive for FANOUT_SECONDS; the readers
 * stop once each has every message (or 30 s after the last append). Appends are paced by the clock (a
 * late one is sent at once, up to 256 in flight, as many as the client agent has sockets); each message carries its sequence number and the time it
 * was sent, so latency is from the POST leaving this process (before its fsync) to its SSE chunk arriving.
 */
async function fanOut(brokerUrl: string, broker: ChildProcess): Promise<void> {
  const brokerPid = broker.pid!;
  // The broker's event-loop delay, one line a second (BROKER_BENCH_LOOP_DELAY=1): kept while measuring.
  const loopDelays: Array<{ p50: number; p99: number; max: number }> = [];
  let measuring = false;
  let pending = "";
  broker.stdout!.on("data", (d: Buffer) => {
    pending += String(d);
    for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (measuring && line.startsWith("loop-delay ")) loopDelays.push(JSON.parse(line.slice("loop-delay ".length)));
    }
  });
  const stream = `${brokerUrl}/v1/stream/bench/fanout`;
  const r = await request(stream, "PUT", { "content-type": "text/plain" });
  if (r.status !== 201) throw new Error(`PUT ${stream}: ${r.status}`);
  // The first `warmup` appends (the same rate) warm the broker, the readers and the connections up: they
  // are checked for delivery like the others, but not in the latency figures.
  const warmup = RATE * FANOUT_WARMUP_SECONDS;
  const total = warmup + RATE * FANOUT_SECONDS;
  const groups = [Math.ceil(READERS / 2), Math.floor(READERS / 2)].filter((n) => n > 0);
  const readerProcs = groups.map((n) =>
    benchChild(children, [
      "sse-readers",
      `${stream}?offset=now&live=sse`,
      String(n),
      String(total),
      String(warmup),
      String(FANOUT_WARMUP_SECONDS + FANOUT_SECONDS + 30),
    ]),
  );
  await Promise.all(readerProcs.map((p) => firstMatch(p, /connected\n/)));
  const reports = readerProcs.map((p) => firstMatch(p, /(\{"readers".*\})\n/));
  const headers = { "content-type": "text/plain" };
  let brokerCpuBefore = cpuSeconds(brokerPid);
  const acks: number[] = []; // ms from sending each measured append to its answer
  const sentAt = new Float64Array(total); // by seq: when its POST was sent (ms since the epoch)
  // This process's event-loop delay while appending: a late turn sends an append late, and stamps it late.
  const appenderLoop = monitorEventLoopDelay({ resolution: 1 });
  let measuredFrom = performance.now();
  const appending = (async () => {
    const started = performance.now();
    const inFlight = new Set<Promise<unknown>>();
    for (let seq = 0; seq < total; seq++) {
      const due = started + (seq * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await pause(wait);
      if (seq === warmup) {
        appenderLoop.enable();
        measuring = true;
        measuredFrom = performance.now();
        brokerCpuBefore = cpuSeconds(brokerPid);
      }
      const sent = performance.timeOrigin + performance.now();
      sentAt[seq] = sent;
      const body = Buffer.from(`${seq},${sent.toFixed(3)},`.padEnd(MESSAGE_BYTES - 1, "x") + ";");
      const p = request(stream, "POST", headers, body).then((res) => {
        if (res.status !== 204) throw new Error(`POST ${stream}: ${res.status} ${res.body}`);
        if (seq >= warmup) acks.push(performance.timeOrigin + performance.now() - sent);
      });
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= 256) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    measuring = false;
    appenderLoop.disable();
    return (performance.now() - measuredFrom) / 1000;
  })();
  const { result: seconds, peakMiB } = await peakRss(brokerPid, appending);
  const { peakMiB: drainPeak } = await peakRss(brokerPid, Promise.all(reports));
  const parsed = (await Promise.all(reports)).map((m) => JSON.parse(m[1]!) as ReaderReport);
  const received = parsed.reduce((a, p) => a + p.received, 0);
  const failed = parsed.reduce((a, p) => a + p.failed, 0);
  const doubled = parsed.reduce((a, p) => a + p.doubled, 0);
  const events = parsed.reduce((a, p) => a + p.events, 0);
  const readerCpu = parsed.reduce((a, p) => a + p.cpuSeconds, 0);
  const brokerCpu = cpuSeconds(brokerPid) - brokerCpuBefore;
  const orders = new Set(parsed.flatMap((p) => p.orders)).size;
  const p99 = Math.max(...parsed.map((p) => p.p99));
  const p50 = Math.max(...parsed.map((p) => p.p50));
  const max = Math.max(...parsed.map((p) => p.max));
  const minPerReader = Math.min(...parsed.map((p) => p.minPerReader));
  const rss = Math.max(peakMiB, drainPeak);
  // Where the latency goes, per measured message: its first delivery to any reader (the append, its fsync,
  // the tail's wake and read, the first readers' writes), and the spread from its first to its last reader
  // (the fan-out to all the others, and the reader processes' own delays).
  const firstLatency: number[] = [];
  const spread: number[] = [];
  for (let seq = warmup; seq < total; seq++) {
    const first = Math.min(...parsed.map((p) => p.firstArrival[seq]!).filter((t) => t > 0));
    const last = Math.max(...parsed.map((p) => p.lastArrival[seq]!));
    if (!Number.isFinite(first) || last === 0) continue;
    firstLatency.push(first - sentAt[seq]!);
    spread.push(last - first);
  }
  const pct = (xs: number[], p: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  };
  acks.sort((a, b) => a - b);
  const ack = (p: number) => acks[Math.min(acks.length - 1, Math.floor(p * acks.length))]!.toFixed(1);
  const measured = total - warmup;
  const rate = measured / seconds;
  const verdict = (ok: boolean) => (ok ? "pass" : "FAIL");
  const sortedP99 = loopDelays.map((l) => l.p99).sort((a, b) => a - b);
  const loopDelay =
    loopDelays.length === 0
      ? "not measured"
      : `per-second p99 median ${sortedP99[Math.floor(sortedP99.length / 2)]!.toFixed(0)} ms, worst ${sortedP99.at(-1)!.toFixed(0)} ms, max ${Math.max(...loopDelays.map((l) => l.max)).toFixed(0)} ms`;
  console.log(
    `C. SSE fan-out, ${fmt(READERS)} readers, ${fmt(measured)} appends in ${seconds.toFixed(1)} s after ${fmt(warmup)} in a ${FANOUT_WARMUP_SECONDS} s warm-up (${fmt(rate)}/s; answered in p50 ${ack(0.5)} ms, p99 ${ack(0.99)} ms): ` +
      `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms (worst reader process), broker peak RSS ${rss.toFixed(0)} MiB, ${fmt(events / READERS)} data events per reader, CPU: broker ${brokerCpu.toFixed(1)} s (measured part), readers ${readerCpu.toFixed(1)} s (all), ` +
      `broker event-loop delay (measured part): ${loopDelay}; event-loop delay p99 of the appender ${(appenderLoop.percentile(99) / 1e6).toFixed(0)} ms, of the reader processes ${parsed.map((p) => p.loopP99.toFixed(0)).join(" and ")} ms, ` +
      `delivered ${fmt(received)} of ${fmt(total * READERS)} (fewest to one reader: ${fmt(minPerReader)}), doubled ${doubled}, orders seen ${orders}, failed connections ${failed}  [${load()}]`,
  );
  console.log(
    `   where it goes, per message: to its first reader p50 ${pct(firstLatency, 0.5).toFixed(1)} ms, p99 ${pct(firstLatency, 0.99).toFixed(1)} ms; ` +
      `from its first reader to its last (the fan-out) p50 ${pct(spread, 0.5).toFixed(1)} ms, p99 ${pct(spread, 0.99).toFixed(1)} ms`,
  );
  console.log(
    `   targets: ${fmt(RATE)} appends/s ${verdict(rate >= RATE * 0.98)}, p99 < 50 ms ${verdict(p99 < 50)}, RSS < 300 MB ${verdict(rss * 1.048576 < 300)}, ` +
      `none dropped ${verdict(received === total * READERS && doubled === 0 && orders === 1 && failed === 0)}`,
  );
}

try {
  console.log(`minikafka Durable Streams vs @durable-streams/server 0.3.7 (file-backed store), ${new Date().toISOString()}  [${load()}]`);
  console.log(
    'durability: broker fsync "always": an append is answered after the fdatasync of the log batch that holds its data and its producer state;\n' +
      "            reference: the append's frame is written to the stream's segment file and fdatasynced before the answer, then the stream's\n" +
      "            metadata (offset, producer state) is committed to LMDB, whose flush to disk is not awaited (lmdb-js overlappingSync, on by default on Linux)",
  );
  if (ONLY === undefined || ONLY === "A") {
    const ours = await startBenchBroker(children, join(work, "a-broker"), "always");
    const ref = await startReference(join(work, "a-reference"));
    const targets = { reference: `${ref.url}/bench/appends`, broker: `${ours.url}/v1/stream/bench/appends` };
    for (const url of Object.values(targets)) await createStream(url);
    for (const writers of [1, 32]) {
      // Short warm-ups, then WINDOWS windows of SECONDS / WINDOWS each, alternating which server goes
      // first: on a shared machine the disk's fsync rate swings within seconds, so both see the same swings.
      for (const url of Object.values(targets)) await appends(url, writers, 1);
      const rates = { reference: [] as number[], broker: [] as number[] };
      for (let w = 0; w < WINDOWS; w++) {
        const order = w % 2 === 0 ? (["reference", "broker"] as const) : (["broker", "reference"] as const);
        for (const name of order) rates[name].push(await appends(targets[name], writers, SECONDS / WINDOWS));
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const [broker, reference] = [mean(rates.broker), mean(rates.reference)];
      const windows = rates.broker.map((b, i) => (b / rates.reference[i]!).toFixed(1)).join(", ");
      console.log(
        `A. appends, ${writers} writer${writers > 1 ? "s" : ""}: broker ${fmt(broker)}/s, reference ${fmt(reference)}/s, ratio ${(broker / reference).toFixed(1)}× ` +
          `${broker / reference >= 3 ? "pass" : "FAIL"} (target ≥ 3×; per window ${windows})  [${load()}]`,
      );
    }
    await stop(ours.proc);
    await stop(ref.proc);
  }
  if (ONLY === undefined || ONLY === "B") {
    // Both filled the same way, through their own HTTP API: 1,000-message appends. The reference cannot
    // serve a stream of 1M one-message appends at all: its read() gathers a segment's frames with
    // messages.push(...frames), past ~120k frames a RangeError (Maximum call stack size exceeded, 500).
    // The broker is also read with 1M one-message appends (filled through StreamService: 1M HTTP appends
    // would take minutes), its worst case: 1M records to read instead of 1,000.
    const ours = await startBenchBroker(children, join(work, "b-broker"), "always");
    const ref = await startReference(join(work, "b-reference"));
    const targets = { reference: `${ref.url}/bench/catch-up`, broker: `${ours.url}/v1/stream/bench/catch-up` };
    const fill: Record<string, number> = {};
    for (const [name, url] of Object.entries(targets)) {
      await createStream(url);
      fill[name] = await fillOverHttp(url);
    }
    await stop(ours.proc);
    const single = join(work, "b-broker");
    const filling = benchChild(children, ["fill-stream", single, "bench/catch-up-single", String(MESSAGES), String(MESSAGE_BYTES)]);
    await firstMatch(filling, /"appended"/);
    const again = await startBenchBroker(children, single, "always");
    const brokerUrl = `${again.url}/v1/stream/bench/catch-up`;
    const singleUrl = `${again.url}/v1/stream/bench/catch-up-single`;
    await catchUp(targets.reference); // warm-up (page cache, JIT) for each
    await catchUp(brokerUrl);
    await catchUp(singleUrl);
    // Best of 3, the three reads interleaved (so that each sees the machine's swings).
    const [reference, broker, brokerSingle] = (await bestCatchUps(
      [
        { url: targets.reference, pid: ref.proc.pid! },
        { url: brokerUrl, pid: again.proc.pid! },
        { url: singleUrl, pid: again.proc.pid! },
      ],
      3,
    )) as [CatchUp, CatchUp, CatchUp];
    const rate = (ms: number) => `${fmt(MESSAGES / (ms / 1000))} msg/s`;
    const answers = (n: number) => `${fmt(n)} answer${n > 1 ? "s" : ""}`;
    const cpu = (r: CatchUp) => `server CPU ${fmt(r.serverCpuMs)} ms, client ${fmt(r.clientCpuMs)} ms`;
    console.log(
      `B. catch-up read of ${fmt(MESSAGES)} messages of ${MESSAGE_BYTES} B (best of 3), both filled over HTTP with ${fmt(MESSAGES / BATCH)} appends of ${fmt(BATCH)} ` +
        `(fill: broker ${fill.broker!.toFixed(1)} s, reference ${fill.reference!.toFixed(1)} s): broker ${broker.ms.toFixed(0)} ms (${rate(broker.ms)}, ${answers(broker.answers)}, ${cpu(broker)}), ` +
        `reference ${reference.ms.toFixed(0)} ms (${rate(reference.ms)}, ${answers(reference.answers)}, ${cpu(reference)}), ratio ${(reference.ms / broker.ms).toFixed(1)}× ${reference.ms / broker.ms >= 3 ? "pass" : "FAIL"} (target ≥ 3×)  [${load()}]`,
    );
    console.log(
      `   broker, the same ${fmt(MESSAGES)} messages as ${fmt(MESSAGES)} one-message appends: ${brokerSingle.ms.toFixed(0)} ms (${rate(brokerSingle.ms)}, ${answers(brokerSingle.answers)}, ${cpu(brokerSingle)}), ` +
        `${(reference.ms / brokerSingle.ms).toFixed(1)}× the reference's 1,000-message fill (the reference cannot serve 1M one-message appends: 500, RangeError in its read)  [${load()}]`,
    );
    await stop(again.proc);
    await stop(ref.proc);
  }
  if (ONLY === undefined || ONLY === "C") {
    const ours = await startBenchBroker(children, join(work, "c-broker"), "always", { BROKER_BENCH_LOOP_DELAY: "1" });
    await fanOut(ours.url, ours.proc);
    await stop(ours.proc);
  }
} finally {
  agent.destroy();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
}
