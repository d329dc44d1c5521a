// Power loss at every kind of operation, on a simulated disk (helpers/crash-fs.ts): for each seed a random
// workload (appends with segment rolls, topic creation and deletion, partition growth, offset commits and
// group deletions) runs once to count its file operations, then again with the power failing at one of them.
// The disk that comes back keeps only what was fsynced (plus, at random, sector-aligned prefixes of unsynced
// appends and the current rather than the durable entries of some directories). Reopening it must succeed,
// and everything acknowledged before the crash must be there, exactly.
//
// 150 seeds × 4 crash points each (early to late in the run) by default (pnpm test stays near 5 minutes).
// Replay one seed: CRASH_SEED=<seed> pnpm vitest run packages/log-store/test/power-loss.test.ts
// More: CRASH_SEEDS=20000 (seeds; each still gets 4 crash points).
import { describe, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { runCase } from "./helpers/power-loss-workload.js";

describe("power loss on a simulated disk", () => {
  const only = process.env.CRASH_SEED;
  const count = Number(process.env.CRASH_SEEDS ?? 150);
  const points = 4;
  it(`keeps everything acknowledged across ${only ? `seed ${only}` : `${count * points} seeded crash points`}`, async () => {
    const dataDir = tempDir();
    const seeds = only ? [Number(only)] : Array.from({ length: count }, (_, i) => i + 1);
    for (const seed of seeds) await runCase(dataDir, seed, points);
  }, 120_000);
});
