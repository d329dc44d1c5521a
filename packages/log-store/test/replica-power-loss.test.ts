// Power loss while a partition lives as a replica, on the simulated disk (helpers/crash-fs.ts): leader
// appends whose epoch goes up, follower appends of a leader's batches, truncations to a divergence point,
// resets to a new log start (truncateFullyAndStartAt) and a clean restart, with the power failing at one operation of the run (see
// helpers/replica-power-loss-workload.ts for what is checked after recovery).
//
// 100 seeds × 4 crash points each by default (every third seed with the store-wide journal, every fifth a
// replicated topic).
// Replay one seed: REPLICA_SEED=<seed> pnpm vitest run packages/log-store/test/replica-power-loss.test.ts
// More: REPLICA_SEEDS=2000.
import { describe, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { runReplicaCase } from "./helpers/replica-power-loss-workload.js";

describe("replica power loss on a simulated disk", () => {
  const only = process.env.REPLICA_SEED;
  const count = Number(process.env.REPLICA_SEEDS ?? 100);
  const points = 4;
  it(`keeps every acknowledged record below the truncation point, a reset all or nothing, the epoch checkpoint old or new, and always opens (${only ? `seed ${only}` : `${count * points} crash points`})`, async () => {
    const dataDir = tempDir();
    const seeds = only ? [Number(only)] : Array.from({ length: count }, (_, i) => i + 1);
    for (const seed of seeds) await runReplicaCase(dataDir, seed, points);
  }, 120_000);
});
