// The store-wide journal (`journal: true`) together with the clean-shutdown marker: a clean close writes
// every tail back, trims the journal and records the partitions' ends; after a power loss there is no
// marker and the journal is replayed — also when the store is then opened without the journal. On the
// simulated disk of helpers/crash-fs.ts, which keeps only what was fsynced.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLEAN_SHUTDOWN_FILE } from "../src/clean-shutdown.js";
import { LogStore } from "../src/log-store.js";
import { CrashFs, random } from "./helpers/crash-fs.js";
import { text } from "./helpers/text.js";

const dataDir = "/data";
const OPTIONS = { dataDir, retentionCheckIntervalMs: 0, segmentBytes: 4096 } as const;
// Small knobs, so that write-backs and checkpoints run inside the test.
const INTERNAL = { journal: { journalBytes: 16 * 1024, writeBackBytes: 4096 } };

function disk(): CrashFs {
  const fs = new CrashFs(random(7));
  fs.mkdirSync(dataDir, { recursive: true });
  fs.syncAll();
  return fs;
}

const journalFiles = (fs: CrashFs) =>
  fs.isDirectory(join(dataDir, "__journal")) ? fs.readdirSync(join(dataDir, "__journal")).filter((n) => n.endsWith(".journal")) : [];

/** Appends `rounds` records to every partition of `t` (one append per partition per round, concurrently). */
async function fill(store: LogStore, partitions: number, rounds: number, from = 0): Promise<void> {
  for (let r = from; r < from + rounds; r++) {
    await Promise.all(Array.from({ length: partitions }, (_, p) => store.append("t", p, [{ value: `${p}/${r}/${"x".repeat(40)}` }])));
  }
}

async function expectAll(store: LogStore, partitions: number, rounds: number): Promise<void> {
  for (let p = 0; p < partitions; p++) {
    const values: string[] = [];
    for (let offset = 0; offset < rounds; ) {
      const { records } = await store.read("t", p, offset);
      if (records.length === 0) break;
      values.push(...records.map((r) => text(r.value)!.split("/").slice(0, 2).join("/")));
      offset += records.length;
    }
    expect(values).toEqual(Array.from({ length: rounds }, (_, r) => `${p}/${r}`));
  }
}

describe("journal", () => {
  it("acknowledges many partitions with one journal fsync per round", async () => {
    const fs = disk();
    const store = await LogStore.openWith({ ...OPTIONS, journal: true }, fs, INTERNAL);
    await store.createTopic("t", { partitions: 100 });
    const before = store.metrics.fsyncs;
    await fill(store, 100, 1);
    // 100 appends made in one turn: one round, one fdatasync of the journal.
    expect(store.metrics.fsyncs - before).toBe(1);
    await store.close();
  });

  it("closes cleanly: tails written back, no journal file left, a marker the next open trusts", async () => {
    const fs = disk();
    const store = await LogStore.openWith({ ...OPTIONS, journal: true }, fs, INTERNAL);
    await store.createTopic("t", { partitions: 20 });
    await fill(store, 20, 30);
    await store.close();
    expect(journalFiles(fs)).toEqual([]);
    expect(fs.readdirSync(dataDir)).toContain(CLEAN_SHUTDOWN_FILE);

    // The power fails right after the close: what the marker says is on the disk.
    const after = fs.afterPowerLoss();
    const again = await LogStore.openWith({ ...OPTIONS, journal: true }, after, INTERNAL);
    expect(again.describeTopic("t").partitions.map((p) => p.logEndOffset)).toEqual(Array(20).fill(30));
    await expectAll(again, 20, 30);
    await fill(again, 20, 5, 30); // partitions opened lazily from the marker write through the journal
    await again.close();
    const third = await LogStore.openWith({ ...OPTIONS, journal: true }, after.afterPowerLoss(), INTERNAL);
    await expectAll(third, 20, 35);
    await third.close();
  });

  it("replays the journal after a power loss, also when reopened without the journal", async () => {
    for (const journalAgain of [true, false]) {
      const fs = disk();
      const store = await LogStore.openWith({ ...OPTIONS, journal: true }, fs, INTERNAL);
      await store.createTopic("t", { partitions: 50 });
      await fill(store, 50, 12);
      // The power fails now; closing then only releases the directory lock (every file operation fails).
      fs.crashAt = fs.ops + 1;
      await store.close();
      expect(fs.poweredOff).toBe(true);
      // Acknowledged, but (some of it) only in the journal: the segments lag behind.
      const after = fs.afterPowerLoss();
      expect(journalFiles(after).length).toBeGreaterThan(0);
      expect(after.readdirSync(dataDir)).not.toContain(CLEAN_SHUTDOWN_FILE);
      const again = await LogStore.openWith({ ...OPTIONS, journal: journalAgain }, after, INTERNAL);
      expect(journalFiles(after)).toEqual([]); // replayed into the segments, then deleted
      await expectAll(again, 50, 12);
      await again.close();
    }
  });
});
