// kill -9 of the broker while an idempotent producer sends: the broker (a real process, fsync "always") is
// killed at random moments with requests in flight and restarted at once on the same port and data
// directory; the producer resends what it has no answer for, with the same sequences. Every send must be
// acknowledged, and the final log must hold every message exactly once, in send order per partition, at
// the offset its send was given. With `idempotent: false` (MINIKAFKA_TEST_IDEMPOTENT=false) sends fail on the
// first kill, which makes this test fail.
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { createClient, type FetchFunction, type RecordMetadata } from "../src/index.js";
import { BrokerProcess } from "./helpers/broker-process.js";

const SEED = Number(process.env.IDEMPOTENT_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const KILLS = Number(process.env.IDEMPOTENT_CRASH_KILLS ?? 2);
const PARTITIONS = 3;
const PER_SEND = 4;
const OUTSTANDING = 8;
const TOPIC = "exactly";

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

async function readLog(url: string, partition: number): Promise<string[]> {
  const values: string[] = [];
  for (;;) {
    const res = await fetch(`${url}/v1/topics/${TOPIC}/partitions/${partition}/records?offset=${values.length}&maxRecords=5000`);
    const body = (await res.json()) as { records: Array<{ offset: number; value: string }>; highWatermark: number };
    for (const r of body.records) {
      expect(r.offset).toBe(values.length);
      values.push(r.value);
    }
    if (values.length >= body.highWatermark) return values;
  }
}

describe(`idempotent producer under kill -9 of the broker (seed ${SEED})`, () => {
  it("stores every acknowledged message exactly once, in order, across restarts", async () => {
    const random = prng(SEED);
    const broker = new BrokerProcess(tempDir());
    await broker.start();
    const created = await fetch(`${broker.url}/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: TOPIC, partitions: PARTITIONS }),
    });
    expect(created.status).toBe(201);

    // Counts what the faults did to produce requests: attempts without an answer, and answers saying "duplicate".
    const seen = { lost: 0, duplicates: 0 };
    const counting: FetchFunction = async (input, init) => {
      const produce = (input as Request).url.endsWith("/records");
      try {
        const response = await fetch(input, init);
        if (produce && response.ok)
          seen.duplicates += ((await response.clone().json()) as { duplicatePartitions?: number[] }).duplicatePartitions?.length ?? 0;
        return response;
      } catch (error) {
        if (produce) seen.lost++;
        throw error;
      }
    };
    const kafka = createClient({
      brokers: broker.url,
      fetch: counting,
      timeoutMs: 5_000,
      retry: { retries: 40, initialRetryTimeMs: 50, maxRetryTimeMs: 500 },
    });
    const producer = kafka.producer({ idempotent: process.env.MINIKAFKA_TEST_IDEMPOTENT !== "false" });

    const sent: string[][] = Array.from({ length: PARTITIONS }, () => []);
    const sends: Array<{ values: string[]; partitions: number[]; result: Promise<RecordMetadata[]> }> = [];
    const failures: unknown[] = [];
    let producing = true;
    let n = 0;
    const loop = (async () => {
      const outstanding = new Set<Promise<unknown>>();
      while (producing) {
        const values: string[] = [];
        const partitions: number[] = [];
        for (let i = 0; i < PER_SEND; i++, n++) {
          values.push(`m-${n}`);
          partitions.push(n % PARTITIONS);
          sent[n % PARTITIONS]!.push(`m-${n}`);
        }
        const result = producer.send({ topic: TOPIC, messages: values.map((value, i) => ({ value, partition: partitions[i]! })) });
        sends.push({ values, partitions, result });
        const tracked = result.then(
          () => undefined,
          (error: unknown) => void failures.push(error),
        );
        outstanding.add(tracked);
        void tracked.finally(() => outstanding.delete(tracked));
        if (outstanding.size >= OUTSTANDING) await Promise.race(outstanding);
      }
      await Promise.all(outstanding);
    })();

    const restarts: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      // Wait for some acknowledged traffic since the last restart, then kill at a random moment.
      const before = sends.length;
      await new Promise((resolve) => setTimeout(resolve, 200 + random() * 600));
      if (sends.length === before) await sends.at(-1)?.result.catch(() => undefined);
      await broker.kill();
      const down = Date.now();
      await broker.start();
      restarts.push(Date.now() - down);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    producing = false;
    const stopped = Date.now();
    await loop;
    const drained = Date.now() - stopped;
    await producer.disconnect();

    const summary = `seed ${SEED}: ${sends.length} sends, ${n} messages, ${seen.lost} produce attempts without an answer, ${seen.duplicates} batches answered as duplicates, restarts took ${restarts.join("/")} ms, the last sends ${drained} ms`;
    if (process.env.IDEMPOTENT_CRASH_VERBOSE) console.log(summary);
    expect(
      failures.map((e) => String((e as Error).message)),
      summary,
    ).toEqual([]);
    expect(seen.lost, summary).toBeGreaterThan(0); // the kills did cut requests off
    // Exactly once, in send order, per partition.
    for (let p = 0; p < PARTITIONS; p++) expect(await readLog(broker.url, p), `${summary}: partition ${p}`).toEqual(sent[p]);
    // Each send was told where its messages are.
    const logs = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => readLog(broker.url, p)));
    for (const { values, result } of sends) {
      const metadata = await result;
      values.forEach((value, i) => expect(logs[metadata[i]!.partition]![metadata[i]!.offset], summary).toBe(value));
    }
    await broker.kill();
  }, 90_000);
});
