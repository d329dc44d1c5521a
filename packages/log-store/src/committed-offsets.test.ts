import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { CrashFs } from "../test/helpers/crash-fs.js";
import { CommittedOffsets } from "./committed-offsets.js";
import { nodeFileSystem, type FileSystem } from "./file-system.js";
import { LogStore } from "./log-store.js";

const open = (dir: string, compactMinRecords?: number, fs: FileSystem = nodeFileSystem) =>
  CommittedOffsets.open({ fs, dir, fsync: "always", compactMinRecords });

describe("CommittedOffsets (an append-only internal log)", () => {
  it("keeps the latest offset per group, topic and partition across reopen", async () => {
    const dir = join(tempDir(), "__offsets");
    const store = await open(dir);
    await store.commit("a", [
      { topic: "t", partition: 1, offset: 5 },
      { topic: "t", partition: 0, offset: 3 },
    ]);
    await store.commit("a", [{ topic: "t", partition: 0, offset: 4 }]);
    await store.commit("b", [{ topic: "u", partition: 0, offset: 9 }]);
    await store.close();
    const again = await open(dir);
    expect(again.get("a")).toEqual([
      { topic: "t", partition: 0, offset: 4 },
      { topic: "t", partition: 1, offset: 5 },
    ]);
    expect(again.get("b")).toEqual([{ topic: "u", partition: 0, offset: 9 }]);
    expect(again.get("nobody")).toEqual([]);
    expect(again.replayedRecords).toBe(4);
    await again.close();
    expect(readdirSync(dir).sort()).toEqual(["current", "log-1"]);
  });

  it("deletes a group's offsets with a tombstone, and a topic's offsets for every group", async () => {
    const dir = join(tempDir(), "__offsets");
    const store = await open(dir);
    await store.commit("a", [{ topic: "t", partition: 0, offset: 1 }]);
    await store.commit("b", [
      { topic: "t", partition: 0, offset: 2 },
      { topic: "u", partition: 0, offset: 3 },
    ]);
    await store.deleteGroup("a");
    await store.removeTopic("t");
    expect(store.get("a")).toEqual([]);
    expect(store.get("b")).toEqual([{ topic: "u", partition: 0, offset: 3 }]);
    // A group can commit again after its deletion.
    await store.commit("a", [{ topic: "u", partition: 0, offset: 7 }]);
    await store.close();
    const again = await open(dir);
    expect(again.get("a")).toEqual([{ topic: "u", partition: 0, offset: 7 }]);
    expect(again.get("b")).toEqual([{ topic: "u", partition: 0, offset: 3 }]);
    await again.close();
  });

  it("shares one fsync between the concurrent commits of many groups", async () => {
    const fs = new CrashFs();
    const dir = "/data/__offsets";
    const store = await CommittedOffsets.open({ fs, dir, fsync: "always" });
    const fsyncsBefore = fs.trace.filter((op) => op.startsWith("fsync")).length;
    fs.trace.length = 0;
    await Promise.all(Array.from({ length: 32 }, (_, g) => store.commit(`group-${g}`, [{ topic: "t", partition: g, offset: g + 1 }])));
    expect(fsyncsBefore).toBeGreaterThan(0);
    // 32 appends (one batch each) and a single fsync of the log file for all of them (plus, in this first
    // round, one of the new log's directory, which makes its first segment's entry durable).
    expect(fs.trace.filter((op) => op.startsWith("write") && op.includes(".log ")).length).toBe(32);
    expect(fs.trace.filter((op) => op.startsWith("fsync"))).toEqual([
      "fsync /data/__offsets/log-1/00000000000000000000.log",
      "fsync /data/__offsets/log-1",
    ]);
    expect(store.get("group-31")).toEqual([{ topic: "t", partition: 31, offset: 32 }]);
    await store.close();
  });

  it("is all or nothing per commit: a batch torn by a power loss is dropped whole", async () => {
    const fs = new CrashFs();
    fs.mkdirSync("/data");
    fs.syncAll();
    const dir = "/data/__offsets";
    const store = await CommittedOffsets.open({ fs, dir, fsync: "always" });
    await store.commit("g", [
      { topic: "t", partition: 0, offset: 1 },
      { topic: "t", partition: 1, offset: 1 },
    ]);
    // Fail at the write of the next commit's batch: a sector-aligned prefix of it may reach the disk.
    fs.crashAt = fs.ops + 1;
    const big = Array.from({ length: 200 }, (_, p) => ({ topic: "t", partition: p, offset: 2 }));
    await expect(store.commit("g", big)).rejects.toMatchObject({ code: "KAFKA_STORAGE_ERROR" });
    await store.close();
    for (let attempt = 0; attempt < 8; attempt++) {
      const disk = fs.afterPowerLoss();
      const again = await CommittedOffsets.open({ fs: disk, dir, fsync: "always" });
      expect(again.get("g")).toEqual([
        { topic: "t", partition: 0, offset: 1 },
        { topic: "t", partition: 1, offset: 1 },
      ]);
      await again.close();
    }
  });

  it("compacts the log, so a restart replays a bounded number of records", async () => {
    // On the simulated disk, to keep 600 fsynced commits and two dozen compactions fast.
    const fs = new CrashFs();
    const dir = "/data/__offsets";
    const store = await open(dir, 50, fs);
    for (let i = 1; i <= 600; i++) {
      await store.commit("g", [
        { topic: "t", partition: i % 3, offset: i },
        { topic: "t", partition: 3, offset: i },
      ]);
    }
    await store.idle();
    await store.close();
    // Compaction has run many times; only the newest generation is left.
    expect(fs.readdirSync(dir).filter((name) => name.startsWith("log-"))).toHaveLength(1);
    expect(fs.readdirSync(dir)).not.toContain("log-1");
    const again = await open(dir, 50, fs);
    // 1,200 records were written; a restart reads at most the threshold plus one commit's records.
    expect(again.replayedRecords).toBeGreaterThan(0);
    expect(again.replayedRecords).toBeLessThanOrEqual(52);
    expect(again.get("g")).toEqual([
      { topic: "t", partition: 0, offset: 600 },
      { topic: "t", partition: 1, offset: 598 },
      { topic: "t", partition: 2, offset: 599 },
      { topic: "t", partition: 3, offset: 600 },
    ]);
    await again.close();
  });

  it("keeps call order for commits that wait while a compaction switches logs", async () => {
    const dir = join(tempDir(), "__offsets");
    const store = await open(dir, 20);
    await Promise.all(Array.from({ length: 400 }, (_, i) => store.commit("g", [{ topic: "t", partition: 0, offset: i }])));
    await store.idle();
    expect(store.get("g")).toEqual([{ topic: "t", partition: 0, offset: 399 }]);
    await store.close();
    const again = await open(dir, 20);
    expect(again.get("g")).toEqual([{ topic: "t", partition: 0, offset: 399 }]);
    await again.close();
  });

  it("LogStore.deleteGroup forgets a group durably; committedGroupIds lists the groups with offsets", async () => {
    const dataDir = tempDir();
    const store = await LogStore.open({ dataDir });
    await store.createTopic("t", { partitions: 1 });
    await store.commitOffsets("a", [{ topic: "t", partition: 0, offset: 0 }]);
    await store.commitOffsets("b", [{ topic: "t", partition: 0, offset: 0 }]);
    // In call order: the commit after the delete is kept.
    const done = [store.commitOffsets("c", [{ topic: "t", partition: 0, offset: 0 }]), store.deleteGroup("c"), store.deleteGroup("a")];
    done.push(store.commitOffsets("c", [{ topic: "t", partition: 0, offset: 0 }]));
    await Promise.all(done);
    await store.deleteGroup("never-committed");
    expect(store.committedGroupIds().sort()).toEqual(["b", "c"]);
    await store.close();
    const again = await LogStore.open({ dataDir });
    expect(again.committedGroupIds().sort()).toEqual(["b", "c"]);
    expect(await again.committedOffsets("a")).toEqual([]);
    expect(await again.committedOffsets("c")).toEqual([{ topic: "t", partition: 0, offset: 0 }]);
    await expect(again.deleteGroup("")).rejects.toMatchObject({ code: "INVALID_GROUP_ID" });
    await again.close();
  });

  it("migrates the per-group JSON files of the previous format on open", async () => {
    const dataDir = tempDir();
    const dir = join(dataDir, "__offsets");
    mkdirSync(dir);
    const legacy = (groupId: string, offsets: Array<[string, number, number]>) =>
      writeFileSync(join(dir, `${createHash("sha256").update(groupId).digest("hex")}.json`), JSON.stringify({ groupId, offsets }));
    legacy("billing", [
      ["orders", 1, 7],
      ["orders", 0, 4],
    ]);
    legacy("../audit", [["orders", 0, 2]]);
    writeFileSync(join(dir, "~tmp~abcdef"), "half-written");
    const store = await LogStore.open({ dataDir });
    expect(await store.committedOffsets("billing")).toEqual([
      { topic: "orders", partition: 0, offset: 4 },
      { topic: "orders", partition: 1, offset: 7 },
    ]);
    expect(await store.committedOffsets("../audit")).toEqual([{ topic: "orders", partition: 0, offset: 2 }]);
    await store.close();
    expect(readdirSync(dir).sort()).toEqual(["current", "log-1"]);
    const again = await LogStore.open({ dataDir });
    expect(await again.committedOffsets("billing")).toHaveLength(2);
    expect(await again.committedOffsets("../audit")).toEqual([{ topic: "orders", partition: 0, offset: 2 }]);
    await again.close();
  });

  it("refuses a legacy file it cannot parse instead of dropping its offsets", async () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, "__offsets"));
    writeFileSync(join(dataDir, "__offsets", "x.json"), "{ not json");
    await expect(LogStore.open({ dataDir })).rejects.toMatchObject({ code: "CORRUPT_RECORD" });
    // Nothing was migrated or deleted.
    expect(readdirSync(join(dataDir, "__offsets"))).toEqual(["x.json"]);
  });
});
