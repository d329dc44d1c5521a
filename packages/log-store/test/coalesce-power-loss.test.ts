// Appends that the store-wide journal coalesces (those without a producer that arrive for a partition while
// its journal round is open become one batch) under simulated power loss, on the disk of
// helpers/crash-fs.ts, which keeps only what was fsynced. Each turn makes many concurrent appends to a few
// partitions — now and then an idempotent one, a new leader epoch, or one too big to share a batch; in some
// turns the plain ones grouped into appendMany calls — and awaits them all; a clean restart halfway. After
// the power fails at one operation of the run, every partition must hold a prefix of what was asked, in
// call order, each append once and whole, and at least every acknowledged append.
//
// Replay one seed: COALESCE_SEED=<seed> pnpm vitest run packages/log-store/test/coalesce-power-loss.test.ts
// More: COALESCE_SEEDS=500.
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { LogStore } from "../src/log-store.js";
import type { AppendOptions } from "../src/types.js";
import { runCrashPoints, type Session } from "./helpers/crash-points.js";
import type { CrashFs } from "./helpers/crash-fs.js";
import { text } from "./helpers/text.js";

const PARTITIONS = 3;
const NOW = 1_700_000_000_000;
const OPTIONS = { segmentBytes: 4096, indexIntervalBytes: 256, retentionCheckIntervalMs: 0, now: () => NOW, journal: true } as const;
// Small journal files and write-back threshold: checkpoints and write-backs run inside every seed.
const INTERNAL = { journal: { journalBytes: 16 * 1024, writeBackBytes: 4096 } };

interface PartitionModel {
  /** Per append, in call order: its record values (the offsets follow from the order). */
  appends: string[][];
  /** Per append: acknowledged. */
  acked: boolean[];
  epoch: number;
  /** The idempotent producer's next sequence in this partition. */
  sequence: number;
}

interface Model {
  /** The topic's creation was acknowledged. */
  created: boolean;
  partitions: PartitionModel[];
  violations: string[];
}

async function workload(session: Session, rand: () => number, model: Model): Promise<void> {
  for (let p = 0; p < PARTITIONS; p++) model.partitions.push({ appends: [], acked: [], epoch: 0, sequence: 0 });
  await session.store.createTopic("t", { partitions: PARTITIONS });
  model.created = true;
  const ends = Array<number>(PARTITIONS).fill(0);
  for (let turn = 0; turn < 14; turn++) {
    if (turn === 7) await session.reopen();
    const appends: Array<Promise<void>> = [];
    const count = 1 + Math.floor(rand() * 30);
    // Some turns send their appends without options through appendMany, a few partitions' worth per call.
    const many = rand() < 0.4;
    let group: Array<{ p: number; index: number; first: number; values: string[] }> = [];
    const sendGroup = (): void => {
      const items = group;
      group = [];
      if (items.length === 0) return;
      appends.push(
        session.store
          .appendMany(
            "t",
            items.map(({ p, values }) => ({ partition: p, records: values.map((value) => ({ value })) })),
          )
          .then((results) => {
            results.forEach(({ baseOffset, lastOffset }, i) => {
              const { p, index, first, values } = items[i]!;
              if (baseOffset !== first || lastOffset !== first + values.length - 1)
                model.violations.push(
                  `t/${p}: appendMany item ${i} (append ${index}) got offsets ${baseOffset}..${lastOffset}, expected ${first}..${first + values.length - 1}`,
                );
              model.partitions[p]!.acked[index] = true;
            });
          }),
      );
    };
    for (let k = 0; k < count; k++) {
      const p = Math.floor(rand() * PARTITIONS);
      const m = model.partitions[p]!;
      const r = rand();
      const options: AppendOptions = {};
      if (r < 0.06) options.producer = { producerId: 1, producerEpoch: 0, sequence: m.sequence };
      else if (r < 0.1) options.leaderEpoch = ++m.epoch;
      else if (r < 0.3) options.leaderEpoch = m.epoch; // the latest, given explicitly: joins the batch
      const big = rand() < 0.04; // more than a segment: a batch of its own in a new segment
      const values = Array.from(
        { length: 1 + Math.floor(rand() * 3) },
        (_, i) => `${p}/${m.appends.length}/${i}/${"x".repeat(big ? 2000 : Math.floor(rand() * 120))}`,
      );
      if (options.producer) m.sequence += values.length;
      const index = m.appends.push(values) - 1;
      m.acked.push(false);
      const first = ends[p]!;
      ends[p] = first + values.length;
      if (many && options.producer === undefined && options.leaderEpoch === undefined) {
        group.push({ p, index, first, values });
        if (rand() < 0.3) sendGroup();
        continue;
      }
      // Appends are called in the order their offsets were given: the group before this one goes first.
      sendGroup();
      appends.push(
        session.store
          .append(
            "t",
            p,
            values.map((value) => ({ value })),
            options,
          )
          .then(({ baseOffset, lastOffset, duplicate }) => {
            if (baseOffset !== first || lastOffset !== first + values.length - 1 || duplicate)
              model.violations.push(
                `t/${p}: append ${index} got offsets ${baseOffset}..${lastOffset}${duplicate ? " (duplicate)" : ""}, expected ${first}..${first + values.length - 1}`,
              );
            m.acked[index] = true;
          }),
      );
    }
    sendGroup();
    const results = await Promise.allSettled(appends);
    const failed = results.find((x) => x.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}

async function check(store: LogStore, model: Model): Promise<string[]> {
  const problems = [...model.violations];
  if (!store.listTopics().includes("t")) return model.created ? [...problems, "topic t is missing"] : problems;
  for (let p = 0; p < PARTITIONS; p++) {
    const m = model.partitions[p]!;
    const stored: string[] = [];
    for (let offset = 0; offset < store.describeTopic("t").partitions[p]!.highWatermark;) {
      const { records, nextOffset } = await store.read("t", p, offset, { maxRecords: 10_000 });
      for (const r of records) stored.push(text(r.value)!);
      offset = nextOffset;
    }
    // Whole appends in call order: a prefix of what was asked.
    let at = 0;
    let whole = 0;
    for (const values of m.appends) {
      if (at >= stored.length) break;
      if (values.some((v, i) => stored[at + i] !== v)) {
        problems.push(
          `t/${p}: offset ${at} onwards holds ${JSON.stringify(stored.slice(at, at + values.length)).slice(0, 80)}, expected append ${whole} ${JSON.stringify(values).slice(0, 80)}`,
        );
        break;
      }
      at += values.length;
      whole++;
    }
    if (at !== stored.length)
      problems.push(`t/${p}: ${stored.length} records stored, not a whole number of the appends asked (${at} in ${whole} appends)`);
    const lastAcked = m.acked.lastIndexOf(true);
    if (whole <= lastAcked) problems.push(`t/${p}: ${whole} appends stored, but append ${lastAcked} was acknowledged`);
  }
  return problems;
}

function runCase(dataDir: string, seed: number, crashPoints: number): Promise<void> {
  return runCrashPoints(dataDir, seed, crashPoints, {
    replayVariable: "COALESCE_SEED",
    pickSalt: 0x2c1b3c6d,
    open: (fs: CrashFs) => LogStore.openWith({ dataDir, ...OPTIONS }, fs, INTERNAL),
    model: (): Model => ({ created: false, partitions: [], violations: [] }),
    run: (session, rand, model) => workload(session, rand, model),
    check: (recovered, _disk, model) => check(recovered, model),
  });
}

describe("coalesced appends under power loss", () => {
  it("coalesces the appends a partition gets in one round into one batch, split at producers, epochs and segment ends", async () => {
    const { CrashFs, random } = await import("./helpers/crash-fs.js");
    const fs = new CrashFs(random(3));
    fs.mkdirSync("/data", { recursive: true });
    const store = await LogStore.openWith({ dataDir: "/data", ...OPTIONS }, fs, INTERNAL);
    await store.createTopic("t", { partitions: 1 });
    const before = store.metrics.fsyncs;
    const value = (i: number) => ({ value: `v${i}` });
    const results = await Promise.all([
      store.append("t", 0, [value(0)]),
      store.append("t", 0, [value(1), value(2)]),
      store.append("t", 0, [value(3)], { leaderEpoch: 0 }),
      store.append("t", 0, [value(4)], { producer: { producerId: 7, producerEpoch: 0, sequence: 0 } }),
      store.append("t", 0, [value(5)]),
      store.append("t", 0, [value(6)], { leaderEpoch: 2 }),
      store.append("t", 0, [value(7)]),
      store.append("t", 0, [{ value: "y".repeat(5000) }]), // bigger than a segment: a batch (and segment) of its own
      store.append("t", 0, [value(9)]),
    ]);
    expect(results.map((r) => [r.baseOffset, r.lastOffset])).toEqual([
      [0, 0],
      [1, 2],
      [3, 3],
      [4, 4],
      [5, 5],
      [6, 6],
      [7, 7],
      [8, 8],
      [9, 9],
    ]);
    expect(store.metrics.fsyncs - before).toBe(1); // one round
    const { batches } = await store.readBatches("t", 0, 0, { maxBytes: 1 << 20 });
    expect(batches.map((b) => [b.baseOffset, b.lastOffset, b.leaderEpoch])).toEqual([
      [0, 3, 0],
      [4, 4, 0],
      [5, 5, 0],
      [6, 7, 2],
      [8, 8, 2],
      [9, 9, 2],
    ]);
    const { records } = await store.read("t", 0, 0, { maxRecords: 100 });
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(records.filter((r) => r.offset !== 8).map((r) => text(r.value))).toEqual(["v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v9"]);
    await store.close();
  });

  const only = process.env.COALESCE_SEED;
  const count = Number(process.env.COALESCE_SEEDS ?? 40);
  const points = 4;
  it(`keeps every acknowledged append exactly once and in order (${only ? `seed ${only}` : `${count * points} crash points`})`, async () => {
    const dataDir = tempDir();
    const seeds = only ? [Number(only)] : Array.from({ length: count }, (_, i) => i + 1);
    for (const seed of seeds) await runCase(dataDir, seed, points);
  }, 120_000);
});
