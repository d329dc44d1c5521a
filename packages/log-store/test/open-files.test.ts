// Bounded file descriptors on the real file system: a store with many partitions holds at most
// `maxOpenFiles` descriptors into its data directory (counted in /proc/self/fd), whatever it does, and an
// EMFILE it cannot work around is a retriable TOO_MANY_OPEN_FILES that leaves every log writable.
import { readdirSync, readlinkSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { LogStore } from "../src/index.js";
import { nodeFileSystem, type FileSystem } from "../src/file-system.js";

/** Descriptors of this process open on files under `dir` (Linux). */
function fdsUnder(dir: string): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${dir}/`)) n++;
    } catch {
      // closed meanwhile (the descriptor readdir itself used)
    }
  }
  return n;
}

const linux = process.platform === "linux";

describe.runIf(linux)("open file descriptors", () => {
  it("stay within maxOpenFiles across creating, writing, reading and reopening 200 partitions", async () => {
    const dataDir = tempDir();
    const limit = 32;
    const topics = Array.from({ length: 50 }, (_, i) => `t${i}`);
    let peak = 0;
    const sample = () => (peak = Math.max(peak, fdsUnder(dataDir)));
    let store = await LogStore.open({ dataDir, maxOpenFiles: limit, retentionCheckIntervalMs: 0 });
    for (const topic of topics) {
      await store.createTopic(topic, { partitions: 4 });
      sample();
    }
    for (const topic of topics) {
      await Promise.all([0, 1, 2, 3].map((p) => store.append(topic, p, [{ value: `${topic}/${p}` }])));
      sample();
    }
    for (const topic of topics) {
      for (let p = 0; p < 4; p++)
        expect((await store.read(topic, p, 0)).records.map((r) => Buffer.from(r.value!).toString())).toEqual([`${topic}/${p}`]);
      sample();
    }
    await store.close();
    expect(fdsUnder(dataDir)).toBe(0);

    store = await LogStore.open({ dataDir, maxOpenFiles: limit, retentionCheckIntervalMs: 0 });
    sample();
    // Every partition is still written (and read) through reopened descriptors.
    for (const topic of topics) {
      await Promise.all([0, 1, 2, 3].map((p) => store.append(topic, p, [{ value: "again" }])));
      sample();
    }
    for (const topic of topics) for (let p = 0; p < 4; p++) expect((await store.read(topic, p, 0)).records).toHaveLength(2);
    sample();
    await store.close();
    // Without the pool: 2 per partition (log and index), 400 here.
    expect(peak).toBeGreaterThan(limit / 2);
    expect(peak).toBeLessThanOrEqual(limit);
  }, 60_000);

  it("answers EMFILE with a retriable TOO_MANY_OPEN_FILES and keeps the partition writable", async () => {
    const dataDir = tempDir();
    let exhausted = false;
    const fs: FileSystem = {
      ...nodeFileSystem,
      openSync: (path, flags) => {
        if (exhausted) throw Object.assign(new Error(`EMFILE: too many open files, open '${path}'`), { code: "EMFILE" });
        return nodeFileSystem.openSync(path, flags);
      },
    };
    const store = await LogStore.openWith({ dataDir, maxOpenFiles: 4, retentionCheckIntervalMs: 0 }, fs);
    await store.createTopic("a", { partitions: 2 });
    await store.createTopic("b", { partitions: 3 });
    await store.append("a", 0, [{ value: "1" }]);
    // a/0's files are closed by now: 4 descriptors, and 4 other logs were written since.
    for (const p of [0, 1, 2]) await store.append("b", p, [{ value: "1" }]);
    await store.append("a", 1, [{ value: "1" }]);
    exhausted = true;
    await expect(store.append("a", 0, [{ value: "lost?" }])).rejects.toMatchObject({ code: "TOO_MANY_OPEN_FILES", retriable: true });
    await expect(store.createTopic("x", { partitions: 1 })).rejects.toMatchObject({ code: "TOO_MANY_OPEN_FILES", retriable: true });
    exhausted = false;
    expect(store.listTopics()).toEqual(["a", "b"]);
    // Nothing was stored, nothing is broken: the same append works now, at the next offset.
    expect(await store.append("a", 0, [{ value: "2" }])).toEqual({ baseOffset: 1, lastOffset: 1 });
    expect((await store.read("a", 0, 0)).records.map((r) => Buffer.from(r.value!).toString())).toEqual(["1", "2"]);
    await store.createTopic("x", { partitions: 1 });
    await store.close();
  });
});
