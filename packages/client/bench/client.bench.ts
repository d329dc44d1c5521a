// End-to-end produce → consume through @minikafka/client, beside the same work done with raw `fetch`
// calls to the same broker routes, in the same process and run. From packages/client:
//
//   pnpm bench                                          # the defaults below, about 2 minutes on 2 cores
//   pnpm bench --records=1000000 --rounds=1 --windows=50  # 1,000,000 records per path in each phase, ~5 minutes
//
// Options (--name=value): records (200 000: per throughput run), size (value bytes, 100), partitions (4),
// fsync ("always" | "interval" | "never", default "always"), rounds (3: throughput runs per path,
// interleaved; medians are reported), rate (records/s of the latency windows, 20 000), latencySeconds (1: one
// window's length), windows (10 per path), variants (raw-text,text,raw-bytes,bytes), breakdown (false; true
// also prints, per path, the CPU this process and the broker spent per record in its latency windows, and
// this process's garbage collections and event loop delay). A warm-up comes first, unreported.
//
// The broker runs in a process of its own (bench/broker-child.ts), as it would in production; each path is
// a one-member consumer group reading what a producer writes, both in this process.
// - Throughput: the producer sends every record as fast as it is allowed (1 000 records per send(), 8
//   sends outstanding); records/s = records / (first send → last record handed to the application).
// - Latency: records produced at a fixed rate, in steps every 10 ms, each carrying its send time;
//   end-to-end latency = time the application gets it − send time. Every path keeps one consumer and one
//   producer for all its windows; the paths' windows take turns (the order rotates each time), so a slow
//   moment of the machine (an fsync that stalls, a neighbour) is as likely to hit any path. p50 and p99 are
//   over all of a path's windows together; the median and worst p99 of single windows show the spread.
// Raw fetch does what the client does, by hand: the same batching (one produce request per topic in
// flight, up to 10 000 records / 1 MiB), the same member fetch naming positions with the same limits, the
// same commit after each batch running while the next batch is fetched, heartbeats on the broker's interval.
// "text" reads values as strings (encoding=utf8); "bytes" as bytes (encoding=base64, decoded).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { exited, onLines, spawnTs } from "../../../test-support/spawn-ts.js";
import { createClient } from "../src/index.js";

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => /^--([^=]+)=(.*)$/.exec(a))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]),
);
const RECORDS = Number(args.records ?? 200_000);
const SIZE = Number(args.size ?? 100);
const PARTITIONS = Number(args.partitions ?? 4);
const FSYNC = (args.fsync ?? "always") as "always" | "interval" | "never";
const RATE = Number(args.rate ?? 20_000);
const LATENCY_SECONDS = Number(args.latencySeconds ?? 1);
const WINDOWS = Math.max(1, Number(args.windows ?? 10));
const ROUNDS = Number(args.rounds ?? 3);
const VARIANTS = (args.variants ?? "raw-text,text,raw-bytes,bytes").split(",");
const BREAKDOWN = args.breakdown === "true";

// Shared by both sides, so that they send the same requests.
const SEND_CHUNK = 1_000; // records per send()
const SENDS_IN_FLIGHT = 8; // send() calls outstanding
const MAX_BATCH_RECORDS = 10_000;
const MAX_BATCH_BYTES = 1024 * 1024;
const RECORD_OVERHEAD = 48; // the client's estimate of a record's JSON overhead
const FETCH_MAX_RECORDS = 5_000;
const FETCH_MAX_BYTES = 1024 * 1024;
const WAIT_MS = 500;
const STICKY = 100; // keyless records: 100 to a partition, then the next (the client's sticky default)

type Value = string | Uint8Array;

const now = () => performance.timeOrigin + performance.now();
const pad = "x".repeat(SIZE);
/** A value of exactly SIZE bytes that starts with its send time (ms, 3 decimals). */
const valueAt = (t: number) => (t.toFixed(3) + "|" + pad).slice(0, SIZE);
const decoder = new TextDecoder();
/** The send time a value starts with (bytes are decoded only here, in the latency phase). */
const sentAt = (value: Value) => {
  const text = typeof value === "string" ? value : decoder.decode(value.subarray(0, 24));
  return Number(text.slice(0, text.indexOf("|")));
};

interface Throughput {
  recordsPerSecond: number;
  /** CPU time of this process (the producer and the consumer) per record, µs. */
  cpuPerRecord: number;
  /** CPU time of the broker's process per record, µs. */
  brokerCpuPerRecord: number;
}

/** The broker, in a process of its own (bench/broker-child.ts). */
interface BrokerProcess {
  url: string;
  /** Its CPU time so far, µs. */
  cpu(): Promise<number>;
  close(): Promise<void>;
}

async function startBrokerProcess(dataDir: string): Promise<BrokerProcess> {
  const child = spawnTs(fileURLToPath(new URL("./broker-child.ts", import.meta.url)), [dataDir, FSYNC]);
  child.stderr.pipe(process.stderr);
  const lines: string[] = [];
  const waiting: Array<() => void> = [];
  onLines(child, (line) => {
    lines.push(line);
    waiting.shift()?.();
  });
  const gone = exited(child);
  const next = async () => {
    if (lines.length === 0) await Promise.race([new Promise<void>((resolve) => waiting.push(resolve)), gone]);
    const line = lines.shift();
    if (line === undefined) throw new Error("the broker process exited");
    return line;
  };
  const url = /^listening (\S+)$/.exec(await next())?.[1];
  if (url === undefined) throw new Error("the broker process did not print its URL");
  return {
    url,
    cpu: async () => {
      child.stdin.write("cpu\n");
      return Number(/^cpu (\d+)$/.exec(await next())?.[1]);
    },
    close: async () => {
      child.stdin.end();
      await gone;
    },
  };
}

interface Producer {
  /** Resolves once `values` are stored. */
  send(values: string[]): Promise<void>;
  close(): Promise<void>;
}

interface Variant {
  name: string;
  /** Starts a one-member group consuming `topic`, handing each value to `onRecord`; resolves once joined. */
  consume(topic: string, groupId: string, onRecord: (value: Value) => void): Promise<() => Promise<void>>;
  /** A producer for `topic`. */
  producer(topic: string): Producer;
}

// ---- raw fetch ---------------------------------------------------------------------------------------

function rawVariant(url: string, format: "text" | "bytes"): Variant {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  return {
    name: `raw fetch (${format})`,
    async consume(topic, groupId, onRecord) {
      const g = `/v1/groups/${groupId}`;
      const joined = (await post(`${g}/members`, { topics: [topic] })) as {
        memberId: string;
        memberEpoch: number;
        assignment: unknown;
        heartbeatIntervalMs: number;
      };
      let { memberEpoch, assignment } = joined;
      let running = true;
      const stop = new AbortController();
      const heartbeats = (async () => {
        while (running) {
          await new Promise((resolve) => setTimeout(resolve, joined.heartbeatIntervalMs));
          if (!running) break;
          const answer = (await post(`${g}/members/${joined.memberId}/heartbeat`, { memberEpoch, ownedPartitions: assignment })) as typeof joined;
          ({ memberEpoch, assignment } = answer);
        }
      })();
      const positions = new Map<number, number>();
      let committing: Promise<void> | undefined;
      let commitAgain = false;
      const commit = () => {
        if (committing) return void (commitAgain = true);
        committing = (async () => {
          do {
            commitAgain = false;
            const offsets = [...positions].map(([partition, offset]) => ({ topic, partition, offset }));
            await post(`${g}/offsets`, { memberId: joined.memberId, memberEpoch, offsets });
          } while (commitAgain);
          committing = undefined;
        })();
      };
      const query = `maxRecords=${FETCH_MAX_RECORDS}&maxBytes=${FETCH_MAX_BYTES}&waitMs=${WAIT_MS}&encoding=${format === "text" ? "utf8" : "base64"}`;
      const loop = (async () => {
        while (running) {
          let body: { records: Array<{ partition: number; offset: number; value: string }> };
          try {
            const at = [...positions].map(([partition, offset]) => `${topic}:${partition}:${offset}`).join(",");
            const res = await fetch(`${url}${g}/members/${joined.memberId}/records?${query}${at ? `&positions=${at}` : ""}`, { signal: stop.signal });
            body = (await res.json()) as typeof body;
          } catch {
            break;
          }
          if (body.records.length === 0) continue;
          for (const r of body.records) {
            onRecord(format === "text" ? r.value : Buffer.from(r.value, "base64"));
            positions.set(r.partition, r.offset + 1);
          }
          commit();
        }
      })();
      return async () => {
        running = false;
        stop.abort();
        await loop;
        await committing;
        await heartbeats.catch(() => {});
        await fetch(`${url}${g}/members/${joined.memberId}`, { method: "DELETE" });
      };
    },
    producer(topic) {
      // As the client's producer does: sends queue up; one request per topic in flight carries what is queued.
      const queue: Array<{ records: Array<{ value: string; partition: number }>; done: () => void; fail: (e: unknown) => void }> = [];
      let inFlight = false;
      let made = 0;
      const pump = async () => {
        if (inFlight || queue.length === 0) return;
        inFlight = true;
        const batch = [queue.shift()!];
        let count = batch[0]!.records.length;
        while (
          queue.length > 0 &&
          count + queue[0]!.records.length <= MAX_BATCH_RECORDS &&
          (count + queue[0]!.records.length) * (SIZE + RECORD_OVERHEAD) <= MAX_BATCH_BYTES
        ) {
          count += queue[0]!.records.length;
          batch.push(queue.shift()!);
        }
        try {
          await post(`/v1/topics/${topic}/records`, { records: batch.flatMap((b) => b.records) });
          for (const b of batch) b.done();
        } catch (error) {
          for (const b of batch) b.fail(error);
        }
        inFlight = false;
        void pump();
      };
      return {
        send: (values) =>
          new Promise<void>((done, fail) => {
            queue.push({ records: values.map((value) => ({ value, partition: Math.floor(made++ / STICKY) % PARTITIONS })), done, fail });
            queueMicrotask(() => void pump());
          }),
        close: async () => {},
      };
    },
  };
}

// ---- @minikafka/client -------------------------------------------------------------------------------

function clientVariant(url: string, messageFormat: "text" | "bytes"): Variant {
  const kafka = createClient({ brokers: url });
  return {
    name: `client (${messageFormat})`,
    async consume(topic, groupId, onRecord) {
      const consumer = kafka.consumer({
        groupId,
        fromBeginning: true,
        maxRecords: FETCH_MAX_RECORDS,
        maxBytes: FETCH_MAX_BYTES,
        maxWaitTimeMs: WAIT_MS,
        messageFormat,
      });
      await consumer.subscribe({ topics: [topic] });
      await consumer.run({ eachMessage: async ({ message }) => onRecord(message.value!) });
      return () => consumer.disconnect();
    },
    producer(topic) {
      const producer = kafka.producer({ maxBatchRecords: MAX_BATCH_RECORDS, maxBatchBytes: MAX_BATCH_BYTES });
      return {
        send: async (values) => {
          await producer.send({ topic, messages: values.map((value) => ({ value })) });
        },
        close: () => producer.disconnect(),
      };
    },
  };
}

// ---- the run -----------------------------------------------------------------------------------------

async function createTopic(url: string, name: string) {
  const res = await fetch(`${url}/v1/topics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, partitions: PARTITIONS }),
  });
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status}`);
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** Sends `count` values, `SEND_CHUNK` per send, at most `SENDS_IN_FLIGHT` sends outstanding. */
async function produceAll(variant: Variant, topic: string, count: number): Promise<void> {
  const producer = variant.producer(topic);
  const inFlight = new Set<Promise<void>>();
  for (let made = 0; made < count; made += SEND_CHUNK) {
    while (inFlight.size >= SENDS_IN_FLIGHT) await Promise.race(inFlight);
    const send: Promise<void> = producer.send(new Array<string>(Math.min(SEND_CHUNK, count - made)).fill(pad)).finally(() => inFlight.delete(send));
    inFlight.add(send);
  }
  await Promise.all(inFlight);
  await producer.close();
}

/** Sends `total` values at `RATE` per second, a step every 10 ms, each stamped with its send time. */
async function producePaced(producer: Producer, total: number): Promise<void> {
  const step = Math.max(1, Math.round(RATE / 100));
  const sends: Promise<void>[] = [];
  const t0 = now();
  for (let tick = 0, sent = 0; sent < total; tick++) {
    const wait = t0 + tick * 10 - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const n = Math.min(step, total - sent);
    const values = new Array<string>(n);
    for (let i = 0; i < n; i++) values[i] = valueAt(now());
    sends.push(producer.send(values));
    sent += n;
  }
  await Promise.all(sends);
}

/** What this process (and the broker's CPU) spent during a path's latency windows (`breakdown=true`). */
interface Breakdown {
  cpuMicros: number;
  brokerCpuMicros: number;
  records: number;
  scavenges: number;
  scavengeMs: number;
  major: number;
  majorMs: number;
  longestPauseMs: number;
  loopDelayP99Ms: number[];
}

/**
 * Starts watching the process (CPU, garbage collections, event loop delay); the function it returns stops
 * and adds what it saw to a variant's {@link Breakdown}.
 */
function watchProcess(): (into: Breakdown, records: number) => Promise<void> {
  const cpu = process.cpuUsage();
  const collections: Array<{ kind: number; ms: number }> = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      collections.push({ kind: (entry as PerformanceEntry & { detail: { kind: number } }).detail.kind, ms: entry.duration });
  });
  observer.observe({ entryTypes: ["gc"] });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  return async (into, records) => {
    const used = process.cpuUsage(cpu);
    delay.disable();
    await new Promise((resolve) => setImmediate(resolve)); // the last collections' entries
    observer.disconnect();
    into.cpuMicros += used.user + used.system;
    into.records += records;
    for (const c of collections) {
      if (c.kind === 1) {
        // 1: scavenge (young generation)
        into.scavenges++;
        into.scavengeMs += c.ms;
      } else {
        into.major++;
        into.majorMs += c.ms;
      }
      into.longestPauseMs = Math.max(into.longestPauseMs, c.ms);
    }
    into.loopDelayP99Ms.push(delay.percentile(99) / 1e6);
  };
}

function describe(b: Breakdown): string {
  const loop = [...b.loopDelayP99Ms].sort((x, y) => x - y);
  return (
    `${(b.cpuMicros / b.records).toFixed(1)} µs CPU/record (broker ${(b.brokerCpuMicros / b.records).toFixed(1)}); ${b.scavenges} scavenges (${b.scavengeMs.toFixed(0)} ms), ` +
    `${b.major} other GC events (${b.majorMs.toFixed(0)} ms), longest pause ${b.longestPauseMs.toFixed(1)} ms; ` +
    `event loop delay p99 per window: median ${loop[Math.floor(loop.length / 2)]!.toFixed(1)} ms, worst ${loop[loop.length - 1]!.toFixed(1)} ms`
  );
}

/** Throughput: `records` values sent as fast as allowed, until the consumer has handed over the last one. */
async function measureThroughput(broker: BrokerProcess, variant: Variant, run: string, records: number): Promise<Throughput> {
  const { url } = broker;
  const topic = `bench-${run}-${variant.name.replace(/\W+/g, "-")}`;
  await createTopic(url, topic);
  let received = 0;
  let allIn!: () => void;
  const finished = new Promise<void>((resolve) => (allIn = resolve));
  const stop = await variant.consume(topic, `${topic}-g`, () => {
    if (++received === records) allIn();
  });
  const start = now();
  const cpu = process.cpuUsage();
  const brokerCpu = await broker.cpu();
  await produceAll(variant, topic, records);
  await finished;
  const recordsPerSecond = records / ((now() - start) / 1000);
  const used = process.cpuUsage(cpu);
  const brokerUsed = (await broker.cpu()) - brokerCpu;
  await stop();
  return { recordsPerSecond, cpuPerRecord: (used.user + used.system) / records, brokerCpuPerRecord: brokerUsed / records };
}

/**
 * The latency phase of one variant: a consumer that stays in its group for every window, and the
 * end-to-end latencies of all its windows, pooled.
 */
interface LatencyRun {
  variant: Variant;
  latencies: Float64Array;
  seen: number;
  /** Resolves when the latency of record number `target` (exclusive) has been taken. */
  reached(target: number): Promise<void>;
  producer: Producer;
  stop(): Promise<void>;
  breakdown: Breakdown;
}

async function startLatencyRun(url: string, variant: Variant, total: number): Promise<LatencyRun> {
  const topic = `bench-paced-${variant.name.replace(/\W+/g, "-")}`;
  await createTopic(url, topic);
  let target = 0;
  let wake: (() => void) | undefined;
  const run: LatencyRun = {
    variant,
    latencies: new Float64Array(total),
    seen: 0,
    reached: (at) => {
      if (run.seen >= at) return Promise.resolve();
      target = at;
      return new Promise<void>((resolve) => (wake = resolve));
    },
    producer: variant.producer(topic),
    stop: async () => {},
    breakdown: {
      cpuMicros: 0,
      brokerCpuMicros: 0,
      records: 0,
      scavenges: 0,
      scavengeMs: 0,
      major: 0,
      majorMs: 0,
      longestPauseMs: 0,
      loopDelayP99Ms: [],
    },
  };
  const stopConsumer = await variant.consume(topic, `${topic}-g`, (value) => {
    run.latencies[run.seen++] = now() - sentAt(value);
    if (run.seen === target && wake !== undefined) {
      const resolve = wake;
      wake = undefined;
      resolve();
    }
  });
  run.stop = async () => {
    await run.producer.close();
    await stopConsumer();
  };
  return run;
}

/**
 * One latency window: `records` records for `run` at `RATE`, until the consumer has handed over the last;
 * with `broker`, the process is watched for the breakdown.
 */
async function latencyWindow(run: LatencyRun, records: number, broker: BrokerProcess | undefined): Promise<void> {
  const done = run.reached(run.seen + records);
  const brokerCpu = await broker?.cpu();
  const watch = broker === undefined ? undefined : watchProcess();
  await producePaced(run.producer, records);
  await done;
  if (watch !== undefined) {
    await watch(run.breakdown, records);
    run.breakdown.brokerCpuMicros += (await broker!.cpu()) - brokerCpu!;
  }
}

const dataDir = mkdtempSync(join(tmpdir(), "minikafka-client-bench-"));
const broker = await startBrokerProcess(dataDir);
try {
  console.log(
    `minikafka client bench: ${RECORDS.toLocaleString("en")} records × ${SIZE} B, ${PARTITIONS} partitions, fsync ${FSYNC}; ` +
      `latency: ${WINDOWS} windows of ${LATENCY_SECONDS} s at ${RATE.toLocaleString("en")} records/s per path; node ${process.version}`,
  );
  const all: Record<string, Variant> = {
    "raw-text": rawVariant(broker.url, "text"),
    text: clientVariant(broker.url, "text"),
    "raw-bytes": rawVariant(broker.url, "bytes"),
    bytes: clientVariant(broker.url, "bytes"),
  };
  const variants = VARIANTS.map((name) => {
    const variant = all[name];
    if (variant === undefined) throw new Error(`unknown variant ${name}; known: ${Object.keys(all).join(", ")}`);
    return variant;
  });
  // Warm-up (not reported): JIT, connections, the broker's first segments.
  for (const variant of variants) await measureThroughput(broker, variant, "warmup", Math.ceil(RECORDS / 10));
  const throughputs = new Map<string, Throughput[]>(variants.map((v) => [v.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const variant of variants) {
      const sample = await measureThroughput(broker, variant, String(round), RECORDS);
      throughputs.get(variant.name)!.push(sample);
      const rate = Math.round(sample.recordsPerSecond).toLocaleString("en").padStart(9);
      console.log(
        `  throughput round ${round}  ${variant.name.padEnd(17)} ${rate} records/s   CPU µs/record: ${sample.cpuPerRecord.toFixed(2)} here, ${sample.brokerCpuPerRecord.toFixed(2)} broker`,
      );
    }
  }

  // Latency: every variant's consumer stays joined throughout; the windows take turns, in an order that
  // rotates, so that the machine's slow moments (a slow fsync, a neighbour) fall on every variant alike.
  const perWindow = Math.round(RATE * LATENCY_SECONDS);
  const warmUp = Math.round(RATE / 2);
  const runs: LatencyRun[] = [];
  for (const variant of variants) runs.push(await startLatencyRun(broker.url, variant, warmUp + perWindow * WINDOWS));
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the consumers settle into their long polls
  for (const run of runs) {
    await latencyWindow(run, warmUp, undefined);
    run.seen = 0; // a warm-up window (not reported): the producer's metadata, the paced topic's first segment
  }
  const windowP99 = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let window = 0; window < WINDOWS; window++) {
    for (let i = 0; i < runs.length; i++) {
      const run = runs[(i + window) % runs.length]!;
      const from = run.seen;
      await latencyWindow(run, perWindow, BREAKDOWN ? broker : undefined);
      const latencies = run.latencies.slice(from, run.seen).sort();
      windowP99.get(run.variant.name)!.push(percentile(latencies, 99));
    }
  }
  for (const run of runs) await run.stop();

  const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor((values.length - 1) / 2)]!;
  const rates = new Map([...throughputs].map(([name, list]) => [name, median(list.map((s) => s.recordsPerSecond))]));
  const cpus = new Map([...throughputs].map(([name, list]) => [name, median(list.map((s) => s.cpuPerRecord))]));
  const brokerCpus = new Map([...throughputs].map(([name, list]) => [name, median(list.map((s) => s.brokerCpuPerRecord))]));
  const pooled = new Map(runs.map((run) => [run.variant.name, run.latencies.slice(0, run.seen).sort()]));
  const p99s = new Map([...pooled].map(([name, sorted]) => [name, percentile(sorted, 99)]));
  const percent = (value: number, base: number | undefined) => (base === undefined ? "" : `${((value / base) * 100).toFixed(0)}%`);
  console.log(
    `\nthroughput: medians of ${ROUNDS} round(s); latency: ${WINDOWS} windows of ${perWindow.toLocaleString("en")} records per path, pooled\n\n` +
      "| path | records/s | vs raw fetch | client CPU µs/record | vs raw fetch | broker CPU µs/record | p50 e2e (ms) | p99 e2e (ms) | vs raw fetch | p99 of a window (median, worst) |\n" +
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const run of runs) {
    const name = run.variant.name;
    const raw = name.replace(/^client/, "raw fetch");
    const rate = rates.get(name)!;
    const cpu = cpus.get(name)!;
    const p99 = p99s.get(name)!;
    const windows = windowP99.get(name)!;
    const cells = [
      Math.round(rate).toLocaleString("en"),
      percent(rate, rates.get(raw)),
      cpu.toFixed(2),
      percent(cpu, cpus.get(raw)),
      brokerCpus.get(name)!.toFixed(2),
      percentile(pooled.get(name)!, 50).toFixed(1),
      p99.toFixed(1),
      percent(p99, p99s.get(raw)),
      `${median(windows).toFixed(1)}, ${Math.max(...windows).toFixed(1)}`,
    ];
    console.log(`| ${name} | ${cells.join(" | ")} |`);
  }
  if (BREAKDOWN) {
    console.log("\nlatency windows, the producing and consuming process:");
    for (const run of runs) console.log(`  ${run.variant.name.padEnd(17)} ${describe(run.breakdown)}`);
  }
} finally {
  await broker.close();
  rmSync(dataDir, { recursive: true, force: true });
}
