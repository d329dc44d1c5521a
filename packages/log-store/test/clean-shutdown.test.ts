// Start-up after a clean shutdown: LogStore.close() leaves a marker naming every topic and where each
// partition stood; the next open reads it (and nothing of any topic), removes it, and opens partitions on
// first use, trusting the marker only while the files still match it. (The power-loss test covers crashes
// in the middle of writing, reading and removing it.)
import { existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { CLEAN_SHUTDOWN_FILE } from "../src/clean-shutdown.js";
import { nodeFileSystem, type FileSystem } from "../src/file-system.js";
import { LogStore } from "../src/log-store.js";
import { text } from "./helpers/text.js";

const OPTIONS = { retentionCheckIntervalMs: 0 } as const;

/** nodeFileSystem, recording every path opened, read or listed (relative to `root`). */
function recording(root: string): { fs: FileSystem; touched: string[] } {
  const touched: string[] = [];
  const note = (path: string) => touched.push(relative(root, path));
  const fs: FileSystem = {
    ...nodeFileSystem,
    openSync: (path, flags) => (note(path), nodeFileSystem.openSync(path, flags)),
    readFileSync: (path) => (note(path), nodeFileSystem.readFileSync(path)),
    readdirSync: (path) => (note(path), nodeFileSystem.readdirSync(path)),
  };
  return { fs, touched };
}

async function seed(dataDir: string, topics = 10, partitions = 3): Promise<void> {
  const store = await LogStore.open({ dataDir, ...OPTIONS });
  await store.createTopics(Array.from({ length: topics }, (_, i) => ({ name: `t${i}`, partitions })));
  for (let t = 0; t < topics; t++) {
    for (let p = 0; p < partitions; p++) await store.append(`t${t}`, p, [{ value: `t${t}/${p}/0` }, { value: `t${t}/${p}/1` }]);
  }
  await store.close();
}

const values = async (store: LogStore, topic: string, partition: number) =>
  (await store.read(topic, partition, 0)).records.map((r) => text(r.value));

describe("open after a clean shutdown", () => {
  it("reads the marker and no topic, opens no partition until used, then only that one", async () => {
    const dataDir = tempDir();
    await seed(dataDir);
    expect(existsSync(join(dataDir, CLEAN_SHUTDOWN_FILE))).toBe(true);
    const { fs, touched } = recording(dataDir);
    const store = await LogStore.openWith({ dataDir, ...OPTIONS }, fs);
    // The data directory, the marker, and the offsets log; not a topic.json, not a partition.
    expect(touched.filter((path) => /^t\d/.test(path))).toEqual([]);
    // Removed before the open returns: a crash from now on finds no marker to trust.
    expect(existsSync(join(dataDir, CLEAN_SHUTDOWN_FILE))).toBe(false);
    expect(store.listTopics()).toHaveLength(10);
    expect(store.describeTopic("t4").partitions[2]).toMatchObject({ logStartOffset: 0, logEndOffset: 2, highWatermark: 2 });
    expect(store.describeTopic("t4").partitions[2]!.sizeBytes).toBeGreaterThan(0);
    await store.commitOffsets("g", [{ topic: "t3", partition: 0, offset: 2 }]); // checked against the marker's log end
    expect(touched.filter((path) => /^t\d/.test(path))).toEqual([]);

    expect(await values(store, "t7", 1)).toEqual(["t7/1/0", "t7/1/1"]);
    expect(new Set(touched.filter((path) => /^t\d/.test(path)).map((path) => path.split("/").slice(0, 2).join("/")))).toEqual(new Set(["t7/1"]));
    // Appends queued behind the open keep their call order; the log continues where it stood.
    const results = await Promise.all([0, 1, 2].map((i) => store.append("t8", 0, [{ value: `late ${i}` }])));
    expect(results.map((r) => r.baseOffset)).toEqual([2, 3, 4]);
    expect(await values(store, "t8", 0)).toEqual(["t8/0/0", "t8/0/1", "late 0", "late 1", "late 2"]);
    await store.close();

    // The marker written by this close carries the new end of t8/0 and the old points of the others.
    const again = await LogStore.open({ dataDir, ...OPTIONS });
    expect(again.describeTopic("t8").partitions[0]!.logEndOffset).toBe(5);
    expect(await values(again, "t8", 0)).toEqual(["t8/0/0", "t8/0/1", "late 0", "late 1", "late 2"]);
    expect((await again.append("t8", 0, [{ value: "next" }])).baseOffset).toBe(5);
    expect(await values(again, "t0", 0)).toEqual(["t0/0/0", "t0/0/1"]);
    await again.close();
  });

  it("does not trust a point whose segment changed size since the marker was written: that partition is scanned", async () => {
    const dataDir = tempDir();
    await seed(dataDir, 2, 2);
    // Cut the last batch of t1/1 behind the marker's back (its last record goes).
    const file = join(dataDir, "t1", "1", "00000000000000000000.log");
    truncateSync(file, readFileSync(file).length - 3);
    const store = await LogStore.open({ dataDir, ...OPTIONS });
    expect(await values(store, "t1", 1)).toEqual([]); // one batch of two records, torn: cut off by the scan
    expect(store.describeTopic("t1").partitions[1]!.logEndOffset).toBe(0);
    expect((await store.append("t1", 1, [{ value: "again" }])).baseOffset).toBe(0);
    expect(await values(store, "t1", 0)).toEqual(["t1/0/0", "t1/0/1"]);
    await store.close();
  });

  it("ignores a marker that does not match the topic directories or cannot be read, and recovers every topic", async () => {
    const dataDir = tempDir();
    await seed(dataDir, 3, 1);
    rmSync(join(dataDir, "t2"), { recursive: true }); // removed by hand while the broker was down
    let store = await LogStore.open({ dataDir, ...OPTIONS });
    expect(store.listTopics()).toEqual(["t0", "t1"]);
    await store.close();

    writeFileSync(join(dataDir, CLEAN_SHUTDOWN_FILE), '{"version":1,"topics":[{"name":"t0"'); // damaged
    const { fs, touched } = recording(dataDir);
    store = await LogStore.openWith({ dataDir, ...OPTIONS }, fs);
    expect(touched).toContain(join("t0", "topic.json")); // recovered the slow way
    expect(await values(store, "t1", 0)).toEqual(["t1/0/0", "t1/0/1"]);
    expect(existsSync(join(dataDir, CLEAN_SHUTDOWN_FILE))).toBe(false);
    await store.close();
  });

  it("recovers every partition at open after a crash (no marker)", async () => {
    const dataDir = tempDir();
    await seed(dataDir, 2, 2);
    rmSync(join(dataDir, CLEAN_SHUTDOWN_FILE));
    const { fs, touched } = recording(dataDir);
    const store = await LogStore.openWith({ dataDir, ...OPTIONS }, fs);
    for (const partition of ["t0/0", "t0/1", "t1/0", "t1/1"]) expect(touched).toContain(join(partition, "00000000000000000000.log"));
    expect(await values(store, "t1", 1)).toEqual(["t1/1/0", "t1/1/1"]);
    await store.close();
  });
});
