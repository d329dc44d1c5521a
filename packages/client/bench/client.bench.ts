// End-to-end produce → consume through @minikafka/client, beside the same work done with raw `fetch`
// calls to the same broker routes, in the same process and run. From packages/client:
//
//   pnpm bench                                   # the defaults below, about 2 minutes on 2 cores
//   pnpm bench --records=1000000 --rounds=1      # the issue's volume
//
// Options (--name=value): records (200 000), size (value bytes, 100), partitions (4), fsync ("always" |
// "interval" | "never", default "always"), rate (records/s of the paced latency phase, 20 000),
// latencySeconds (2), rounds (3: runs per variant, interleaved; medians are reported), variants
// (raw-text,text,raw-bytes,bytes). A warm-up round at a tenth of the volume comes first, unreported.
//
// Each variant: a one-member consumer group reads what a producer writes, in the same process as the broker.
// - Throughput: the producer sends every record as fast as it is allowed (1 000 records per send(), 8
//   sends outstanding); records/s = records / (first send → last record handed to the application).
// - Latency: records produced at a fixed rate, in steps every 10 ms, each carrying its send time;
//   end-to-end latency = time the application gets it − send time; p50 and p99 over the phase.
// Raw fetch does what the client does, by hand: the same batching (one produce request per topic in
// flight, up to 10 000 records / 1 MiB), the same member fetch naming positions with the same limits, the
// same commit after each batch running while the next batch is fetched, heartbeats on the broker's interval.
// "text" reads values as strings (encoding=utf8); "bytes" as bytes (encoding=base64, decoded).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker } from "@minikafka/broker";
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
const LATENCY_SECONDS = Number(args.latencySeconds ?? 2);
const ROUNDS = Number(args.rounds ?? 3);
const VARIANTS = (args.variants ?? "raw-text,text,raw-bytes,bytes").split(",");

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

interface Sample {
  recordsPerSecond: number;
  /** CPU time of the whole process (broker included) per record in the throughput phase, µs. */
  cpuPerRecord: number;
  p50: number;
  p99: number;
}

interface Variant {
  name: string;
  /** Starts a one-member group consuming `topic`, handing each value to `onRecord`; resolves once joined. */
  consume(topic: string, groupId: string, onRecord: (value: Value) => void): Promise<() => Promise<void>>;
  /** A producer for `topic`: `send(values)` resolves once they are stored. */
  producer(topic: string): { send(values: string[]): Promise<void>; close(): Promise<void> };
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
async function producePaced(variant: Variant, topic: string, total: number): Promise<void> {
  const producer = variant.producer(topic);
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
  await producer.close();
}

async function measure(url: string, variant: Variant, run: string, records: number, latencySeconds: number): Promise<Sample> {
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
  await produceAll(variant, topic, records);
  await finished;
  const recordsPerSecond = records / ((now() - start) / 1000);
  const used = process.cpuUsage(cpu);
  const cpuPerRecord = (used.user + used.system) / records;
  await stop();

  const paced = `${topic}-paced`;
  await createTopic(url, paced);
  const total = RATE * latencySeconds;
  const latencies = new Float64Array(total);
  let seen = 0;
  let allSeen!: () => void;
  const pacedDone = new Promise<void>((resolve) => (allSeen = resolve));
  const stopPaced = await variant.consume(paced, `${paced}-g`, (value) => {
    latencies[seen++] = now() - sentAt(value);
    if (seen === total) allSeen();
  });
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the consumer settle into its long poll
  await producePaced(variant, paced, total);
  await pacedDone;
  await stopPaced();
  latencies.sort();
  return { recordsPerSecond, cpuPerRecord, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const dataDir = mkdtempSync(join(tmpdir(), "minikafka-client-bench-"));
const broker = await startBroker({ port: 0, dataDir, fsync: FSYNC, logger: { error() {} }, shutdownTimeoutMs: 500 });
try {
  console.log(
    `minikafka client bench: ${RECORDS.toLocaleString("en")} records × ${SIZE} B, ${PARTITIONS} partitions, fsync ${FSYNC}; ` +
      `latency phase ${RATE.toLocaleString("en")} records/s for ${LATENCY_SECONDS} s; node ${process.version}`,
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
  for (const variant of variants) await measure(broker.url, variant, "warmup", Math.ceil(RECORDS / 10), 1);
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const variant of variants) {
      const sample = await measure(broker.url, variant, String(round), RECORDS, LATENCY_SECONDS);
      samples.get(variant.name)!.push(sample);
      const rate = Math.round(sample.recordsPerSecond).toLocaleString("en").padStart(9);
      console.log(
        `  round ${round}  ${variant.name.padEnd(17)} ${rate} records/s   ${sample.cpuPerRecord.toFixed(2)} µs CPU/record   p50 ${sample.p50.toFixed(1)} ms   p99 ${sample.p99.toFixed(1)} ms`,
      );
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(
    `\nmedians of ${ROUNDS} round(s):\n\n| path | records/s | vs raw fetch | CPU µs/record (process) | vs raw fetch | p50 e2e (ms) | p99 e2e (ms) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |`,
  );
  const rates = new Map([...samples].map(([name, list]) => [name, median(list.map((s) => s.recordsPerSecond))]));
  const cpus = new Map([...samples].map(([name, list]) => [name, median(list.map((s) => s.cpuPerRecord))]));
  const percent = (value: number, base: number | undefined) => (base === undefined ? "" : `${((value / base) * 100).toFixed(0)}%`);
  for (const [name, list] of samples) {
    const raw = name.replace(/^client/, "raw fetch");
    const p50 = median(list.map((s) => s.p50)).toFixed(1);
    const p99 = median(list.map((s) => s.p99)).toFixed(1);
    const rate = rates.get(name)!;
    const cpu = cpus.get(name)!;
    const cells = [Math.round(rate).toLocaleString("en"), percent(rate, rates.get(raw)), cpu.toFixed(2), percent(cpu, cpus.get(raw)), p50, p99];
    console.log(`| ${name} | ${cells.join(" | ")} |`);
  }
} finally {
  await broker.close();
  rmSync(dataDir, { recursive: true, force: true });
}
