// Idempotent producer across power cuts, on the simulated disk (helpers/crash-fs.ts). For each seed one
// producer appends batches with sequences (up to 5 in flight) to a partition with small segments (rolls,
// roll snapshots, retention-free), the power fails at a random operation, the disk comes back with only what
// was fsynced (plus torn sector-aligned tails), the store is reopened and the producer *retries its
// unacknowledged batches with the same sequences*, then goes on; several cuts per seed, then a last retry
// without a cut. The partition must then hold every batch the producer sent exactly once, in order,
// byte-exact, with no gap, each acknowledged batch at the offsets it was acknowledged with (a retry that
// found its batch stored must get the original offsets).
//
// Replay one seed: IDEM_SEED=<seed> pnpm vitest run packages/log-store/test/idempotent-power-loss.test.ts
// More: IDEM_SEEDS=2000.
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { LogStore } from "../src/log-store.js";
import { isLogStoreError } from "../src/errors.js";
import { CrashFs, random } from "./helpers/crash-fs.js";
import { text } from "./helpers/text.js";

interface Batch {
  values: string[];
  sequence: number;
  acked?: { baseOffset: number; lastOffset: number };
}

const OPTIONS = { segmentBytes: 1024, indexIntervalBytes: 128, retentionCheckIntervalMs: 0, now: () => 1_700_000_000_000 } as const;

/**
 * One producer session against `store`: resends every unacknowledged batch (same sequences), then sends
 * new ones, up to `window` in flight, until an append fails (the power is off) or `limit` batches exist.
 * Returns problems seen (an offset that changed between acknowledgements, a refusal other than EIO).
 */
async function produce(store: LogStore, producerId: number, batches: Batch[], rand: () => number, limit: number): Promise<string[]> {
  const problems: string[] = [];
  const window = 1 + Math.floor(rand() * 5);
  const inflight = new Set<Promise<void>>();
  let failed = false;
  for (let i = 0; !failed; i++) {
    if (i === batches.length) {
      if (batches.length >= limit) break;
      const previous = batches.at(-1);
      const count = 1 + Math.floor(rand() * 3);
      const values = Array.from({ length: count }, (_, k) => `${i}/${k}/${"v".repeat(Math.floor(rand() * 90))}`);
      batches.push({ values, sequence: previous ? previous.sequence + previous.values.length : 0 });
    }
    const batch = batches[i]!;
    if (batch.acked) continue;
    const sent = store
      .append(
        "t",
        0,
        batch.values.map((value) => ({ value })),
        { producer: { producerId, producerEpoch: 0, sequence: batch.sequence } },
      )
      .then(
        ({ baseOffset, lastOffset }) => {
          if (batch.acked && (batch.acked.baseOffset !== baseOffset || batch.acked.lastOffset !== lastOffset))
            problems.push(`batch ${i}: acknowledged at ${batch.acked.baseOffset}..${batch.acked.lastOffset}, then at ${baseOffset}..${lastOffset}`);
          batch.acked = { baseOffset, lastOffset };
        },
        (error: unknown) => {
          failed = true;
          // The power is off (EIO, surfacing as a storage error or a closed store): expected. Anything else is not.
          const code = isLogStoreError(error) ? error.code : String(error);
          if (code !== "KAFKA_STORAGE_ERROR" && code !== "STORE_CLOSED")
            problems.push(`batch ${i} (seq ${batch.sequence}): ${code}: ${(error as Error).message}`);
        },
      )
      .finally(() => inflight.delete(sent));
    inflight.add(sent);
    if (inflight.size >= window) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  return problems;
}

async function runSeed(dataDir: string, seed: number, cuts: number): Promise<void> {
  const rand = random(seed);
  let fs = new CrashFs(random(seed * 7 + 1));
  fs.mkdirSync(dataDir, { recursive: true });
  const setup = await LogStore.openWith({ dataDir, ...OPTIONS }, fs);
  await setup.createTopic("t", { partitions: 1 });
  const { producerId } = await setup.initProducerId();
  await setup.close();
  fs.syncAll();
  const batches: Batch[] = [];
  const problems: string[] = [];
  const trace: string[] = [];
  for (let cut = 0; cut <= cuts; cut++) {
    const last = cut === cuts;
    if (!last) fs.crashAt = fs.ops + 1 + Math.floor(rand() * 300);
    let store: LogStore | undefined;
    try {
      store = await LogStore.openWith({ dataDir, ...OPTIONS }, fs);
    } catch (error) {
      if (last || !fs.poweredOff) throw new Error(`seed ${seed} cut ${cut}: reopen failed: ${(error as Error).message}`, { cause: error });
    }
    if (store) {
      // Until the power fails; in the last session, only the retries.
      problems.push(...(await produce(store, producerId, batches, rand, last ? batches.length : Infinity)).map((p) => `cut ${cut}: ${p}`));
      if (!last && !fs.poweredOff) throw new Error(`seed ${seed}: the producer stopped in cut ${cut} with the power on`);
      await store.close();
    }
    trace.push(`cut ${cut}: ${batches.filter((b) => b.acked).length}/${batches.length} acked`);
    if (!last) fs = fs.afterPowerLoss(random(seed * 31 + cut));
  }
  const context = `seed ${seed} (replay: IDEM_SEED=${seed}): ${trace.join("; ")}`;
  expect(problems, context).toEqual([]);
  expect(
    batches.every((b) => b.acked),
    context,
  ).toBe(true);
  const store = await LogStore.openWith({ dataDir, ...OPTIONS }, fs);
  const stored: Array<[number, string]> = [];
  for (let offset = 0; offset < store.describeTopic("t").partitions[0]!.highWatermark;) {
    const { records, nextOffset } = await store.read("t", 0, offset, { maxRecords: 10_000 });
    for (const r of records) stored.push([r.offset, text(r.value)!]);
    offset = nextOffset;
  }
  await store.close();
  const expected: Array<[number, string]> = [];
  for (const b of batches) b.values.forEach((value, k) => expected.push([b.acked!.baseOffset + k, value]));
  // Exactly once, in order, byte-exact, no gap; and each batch where it was acknowledged.
  expect(stored, context).toEqual(expected.map((_, i) => [i, expected[i]![1]]));
  expect(stored, context).toEqual(expected);
}

describe("idempotent producer across power cuts on a simulated disk", () => {
  const only = process.env.IDEM_SEED;
  const count = Number(process.env.IDEM_SEEDS ?? 60);
  it(`retries after each cut store every sent batch exactly once (${only ? `seed ${only}` : `${count} seeds × 4 cuts`})`, async () => {
    const seeds = only ? [Number(only)] : Array.from({ length: count }, (_, i) => i + 1);
    for (const seed of seeds) await runSeed(tempDir(), seed, 4);
  }, 120_000);
});
