// A history run: producers and a consumer group work against a real broker process while the broker and the
// consumers are killed with SIGKILL at seeded random moments (the broker restarted at once on the same port and
// data directory, a killed consumer replaced by a new process). At the end the whole log is read back and
// `checkHistory` looks for lost, phantom, duplicated and reordered records, records handed out wrongly, skipped
// by the group, or handed out again after a commit covered them.
//
// Short by default (part of `pnpm test`). The long run: `pnpm chaos` at the root (HISTORY_MS, default 5 min;
// HISTORY_SEED to replay a seed).
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ERRORS, type ErrorCode } from "@minikafka/protocol/errors";
import { describe, expect, it } from "vitest";
import { exited, onLines, spawnTs } from "../../../../test-support/spawn-ts.js";
import { tempDir } from "../../../../test-support/temp-dir.js";
import { createClient } from "../../src/index.js";
import { BrokerProcess } from "../helpers/broker-process.js";
import { until } from "../helpers/until.js";
import { checkHistory, type Commit, type Delivery, type History, type ProduceAttempt } from "./checker.js";

const consumerChild = fileURLToPath(new URL("./consumer-child.ts", import.meta.url));

const DURATION_MS = Number(process.env.HISTORY_MS ?? 10_000);
const SEED = Number(process.env.HISTORY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TOPIC = "history";
const GROUP = "checker";
const PARTITIONS = 4;
const PRODUCERS = 4;
const CONSUMERS = 3;
const SESSION_MS = 1_500;
const PER_REQUEST = 5;

/** mulberry32: a small seeded PRNG, so that a failing schedule can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A consumer process, replaced by a fresh one whenever it dies or is killed. */
class ConsumerSlot {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private incarnation = 0;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly broker: BrokerProcess,
    private readonly history: History,
  ) {}

  start(): void {
    const consumer = `${this.name}.${this.incarnation++}`;
    const proc = spawnTs(consumerChild, [JSON.stringify({ url: this.broker.url, topic: TOPIC, groupId: GROUP, sessionTimeoutMs: SESSION_MS })]);
    this.proc = proc;
    proc.stderr.resume();
    onLines(proc, (line) => {
      const parts = line.split(" ");
      if (parts[0] === "d") {
        this.history.deliveries.push({
          consumer,
          partition: Number(parts[1]),
          offset: Number(parts[2]),
          value: parts[3]!,
          at: Number(parts[4]),
        } satisfies Delivery);
      } else if (parts[0] === "c") {
        this.history.commits.push({ consumer, partition: Number(parts[1]), offset: Number(parts[2]), at: Number(parts[3]) } satisfies Commit);
      }
    });
    proc.once("exit", () => {
      if (!this.stopped && this.proc === proc) setTimeout(() => !this.stopped && this.start(), 100);
    });
  }

  async kill(): Promise<void> {
    const proc = this.proc!;
    proc.kill("SIGKILL");
    await exited(proc);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.kill();
  }
}

/** How a produce attempt ended, from the error `fetch` threw or the broker's answer. */
function outcomeOfError(error: unknown): ProduceAttempt["outcome"] {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  // No connection was made: nothing can have been stored.
  return code === "ECONNREFUSED" ? "failed" : "unknown";
}

/** One producer: sends `<name>-<seq>` values to its partition, one request at a time, until `done()`. */
async function produce(name: string, partition: number, broker: BrokerProcess, history: History, done: () => boolean): Promise<void> {
  let seq = 0;
  while (!done()) {
    const values = Array.from({ length: PER_REQUEST }, () => `${name}-${seq++}`);
    // Re-sent, with the same values, for as long as the broker says for certain that it stored nothing.
    for (;;) {
      const attempt: ProduceAttempt = { producer: name, partition, values, outcome: "unknown" };
      history.produces.push(attempt);
      try {
        const res = await fetch(`${broker.url}/v1/topics/${TOPIC}/records`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ records: values.map((value) => ({ value, partition })) }),
          signal: AbortSignal.timeout(5_000),
        });
        const body = (await res.json()) as { offsets?: Array<{ offset: number }>; error?: { code: ErrorCode } };
        if (res.ok) {
          attempt.outcome = "acked";
          attempt.offsets = body.offsets!.map((o) => o.offset);
        } else {
          const row = body.error ? (ERRORS[body.error.code] as { partialWrite?: true } | undefined) : undefined;
          attempt.outcome = row && !row.partialWrite ? "failed" : "unknown";
        }
      } catch (error) {
        attempt.outcome = outcomeOfError(error);
      }
      if (attempt.outcome !== "failed" || done()) break;
      await pause(50);
    }
    await pause(10); // a steady trickle rather than a flood: the run is about faults, not throughput
  }
}

async function readLog(url: string): Promise<string[][]> {
  const log: string[][] = [];
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const records: string[] = [];
    for (;;) {
      const res = await fetch(`${url}/v1/topics/${TOPIC}/partitions/${partition}/records?offset=${records.length}&maxRecords=5000`);
      const body = (await res.json()) as { records: Array<{ offset: number; value: string }>; highWatermark: number };
      for (const r of body.records) {
        expect(r.offset).toBe(records.length);
        records.push(r.value);
      }
      if (records.length >= body.highWatermark) break;
    }
    log.push(records);
  }
  return log;
}

describe(`history under kill -9 of the broker and of consumers (seed ${SEED}, ${DURATION_MS} ms)`, () => {
  it(
    "loses, invents, doubles, reorders and skips nothing",
    async () => {
      const random = prng(SEED);
      const history: History = { produces: [], log: [], deliveries: [], commits: [] };
      const broker = new BrokerProcess(tempDir(), { sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 150, tickIntervalMs: 50 });
      await broker.start();
      const created = await fetch(`${broker.url}/v1/topics`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: TOPIC, partitions: PARTITIONS }),
      });
      expect(created.status).toBe(201);

      let producing = true;
      const producers = Array.from({ length: PRODUCERS }, (_, i) => produce(`p${i}`, i % PARTITIONS, broker, history, () => !producing));
      const consumers = Array.from({ length: CONSUMERS }, (_, i) => new ConsumerSlot(`c${i}`, broker, history));
      for (const c of consumers) c.start();

      // The faults: at least two broker kills and two consumer kills (however slowly a loaded machine starts
      // processes), more in a longer run.
      const end = Date.now() + DURATION_MS;
      const faults: string[] = [];
      const kills = { broker: 0, consumer: 0 };
      for (let i = 0; Date.now() < end || kills.broker < 2 || kills.consumer < 2; i++) {
        await pause(600 + random() * 1_400);
        if (i % 2 === 0) {
          await broker.kill();
          faults.push(`broker at ${Date.now()}`);
          kills.broker++;
          await broker.start();
        } else {
          const victim = Math.floor(random() * CONSUMERS);
          await consumers[victim]!.kill();
          faults.push(`consumer c${victim} at ${Date.now()}`);
          kills.consumer++;
        }
      }
      producing = false;
      await Promise.all(producers);

      // Let the group catch up with the log end (it commits after each batch), then stop it.
      const admin = createClient({ brokers: broker.url }).admin();
      const log = await readLog(broker.url);
      await until(
        "the group to commit the whole log",
        async () => {
          const [offsets] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }).catch(() => []);
          return offsets?.partitions.every((p) => p.offset === log[p.partition]!.length);
        },
        30_000,
        100,
      );
      await Promise.all(consumers.map((c) => c.stop()));
      history.log = log;
      await broker.kill();

      const acked = history.produces.filter((p) => p.outcome === "acked").length;
      const summary = `seed ${SEED}: ${faults.length} faults (${faults.join(", ")}), ${acked} acknowledged requests, ${history.log.flat().length} records, ${history.deliveries.length} deliveries, ${history.commits.length} commits`;
      if (process.env.HISTORY_VERBOSE) console.log(summary);
      expect(faults.filter((f) => f.startsWith("broker")).length, summary).toBeGreaterThanOrEqual(2);
      expect(faults.filter((f) => f.startsWith("consumer")).length, summary).toBeGreaterThanOrEqual(2);
      expect(acked, summary).toBeGreaterThan(20);
      expect(checkHistory(history), summary).toEqual([]);
    },
    DURATION_MS + 90_000,
  );
});
