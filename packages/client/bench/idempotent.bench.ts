// Idempotent vs plain produce through the client's producer, against a real broker process (fsync
// "always" by default), in the same run: `pnpm --filter @minikafka/client bench:idempotent`.
//
// Two workloads, each on a fresh topic per run: "batched" sends 1 000 records of 100 bytes per send() with 8
// sends outstanding (throughput; one request per topic in flight carries what is queued), "single" awaits
// one one-record send() at a time (the per-request cost: the producer fields in the body, the broker's
// producer-state check). The idempotent producer's one-time POST /v1/producers happens before the clock
// starts. Runs alternate (on, off, off, on, ...) so a loaded machine's drift hits both; each figure is the
// best of `rounds`, and "per round" is the range of on/off over back-to-back pairs.
//
// Options: --records=200000 --singles=2000 --rounds=4 --partitions=4 --fsync=always|interval|never
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exited, onLines, spawnTs } from "../../../test-support/spawn-ts.js";
import { createClient } from "../src/index.js";

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith("--"))
    .map((a) => a.slice(2).split("=") as [string, string]),
);
const RECORDS = Number(args.records ?? 200_000);
const SINGLES = Number(args.singles ?? 2_000);
const ROUNDS = Number(args.rounds ?? 4);
const PARTITIONS = Number(args.partitions ?? 4);
const FSYNC = args.fsync ?? "always";
const SEND_CHUNK = 1_000;
const SENDS_IN_FLIGHT = 8;
const pad = "x".repeat(100);

async function startBroker(dataDir: string): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawnTs(fileURLToPath(new URL("./broker-child.ts", import.meta.url)), [dataDir, FSYNC]);
  child.stderr.pipe(process.stderr);
  const url = await new Promise<string>((resolve, reject) => {
    onLines(child, (line) => line.startsWith("listening ") && resolve(line.slice(10)));
    child.once("exit", () => reject(new Error("the broker process exited")));
  });
  return {
    url,
    close: async () => {
      child.stdin.end();
      await exited(child);
    },
  };
}

let topics = 0;
async function run(url: string, idempotent: boolean, workload: "batched" | "single"): Promise<number> {
  const topic = `bench-${topics++}`;
  const res = await fetch(`${url}/v1/topics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: topic, partitions: PARTITIONS }),
  });
  if (res.status !== 201) throw new Error(`create ${topic}: ${res.status}`);
  const producer = createClient({ brokers: url }).producer({ idempotent });
  await producer.send({ topic, messages: [{ value: "warm-up" }] }); // producer id, metadata, connection
  const start = performance.now();
  let records = 0;
  if (workload === "single") {
    for (; records < SINGLES; records++) await producer.send({ topic, messages: [{ value: pad }] });
  } else {
    const inFlight = new Set<Promise<unknown>>();
    for (; records < RECORDS; records += SEND_CHUNK) {
      while (inFlight.size >= SENDS_IN_FLIGHT) await Promise.race(inFlight);
      const send: Promise<unknown> = producer
        .send({ topic, messages: Array.from({ length: SEND_CHUNK }, () => ({ value: pad })) })
        .finally(() => inFlight.delete(send));
      inFlight.add(send);
    }
    await Promise.all(inFlight);
  }
  const seconds = (performance.now() - start) / 1000;
  await producer.disconnect();
  return records / seconds;
}

const dataDir = mkdtempSync(join(tmpdir(), "minikafka-idempotent-bench-"));
const broker = await startBroker(dataDir);
try {
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  console.log(`Idempotent vs plain produce (client producer → broker process, fsync ${FSYNC}, ${PARTITIONS} partitions, 100-byte values)`);
  console.log("workload  records/run  idempotent rec/s  plain rec/s  idempotent/plain  per round");
  console.log("--------  -----------  ----------------  -----------  ----------------  ---------");
  for (const workload of ["batched", "single"] as const) {
    const on: number[] = [];
    const off: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // on, off | off, on | ...: each pair back to back, the order alternating.
      if (round % 2 === 0) {
        on.push(await run(broker.url, true, workload));
        off.push(await run(broker.url, false, workload));
      } else {
        off.push(await run(broker.url, false, workload));
        on.push(await run(broker.url, true, workload));
      }
    }
    const ratios = on.map((r, i) => r / off[i]!);
    const best = (xs: number[]) => Math.max(...xs);
    console.log(
      [
        workload.padEnd(8),
        fmt(workload === "single" ? SINGLES : RECORDS).padStart(11),
        fmt(best(on)).padStart(16),
        fmt(best(off)).padStart(11),
        `${(best(on) / best(off)).toFixed(2)}×`.padStart(16),
        `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`.padStart(9),
      ].join("  "),
    );
  }
} finally {
  await broker.close();
  rmSync(dataDir, { recursive: true, force: true });
}
