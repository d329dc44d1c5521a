import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { CrashFs } from "../test/helpers/crash-fs.js";
import { CommittedOffsets } from "./committed-offsets.js";
import { nodeFileSystem, type FileSystem } from "./file-system.js";
import { LogStore } from "./log-store.js";
import { PartitionLog } from "./partition-log.js";
import { resolveSettings } from "./settings.js";

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
    expect(readdirSync(dir).sort()).toEqual(["current", "offsets-1.log"]);
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
    // One write of the 32 frames (after the zeros that grow the new file) and a single fsync for all of them.
    expect(fs.trace.filter((op) => op.startsWith("write") && op.includes(".log "))).toEqual([
      expect.stringMatching(/^write \/data\/__offsets\/offsets-1\.log @0 \+65536/),
      expect.stringMatching(/^write \/data\/__offsets\/offsets-1\.log @0 \+\d+/),
    ]);
    expect(fs.trace.filter((op) => op.startsWith("fsync"))).toEqual(["fsync /data/__offsets/offsets-1.log"]);
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

  it("cuts the log at the first frame that is not whole and zeros what follows, so stale frames never come back", async () => {
    const dir = join(tempDir(), "__offsets");
    const store = await open(dir);
    await store.commit("g", [{ topic: "t", partition: 0, offset: 1 }]);
    await store.commit("g", [{ topic: "t", partition: 0, offset: 2 }]);
    await store.commit("g", [{ topic: "t", partition: 0, offset: 3 }]);
    await store.close();
    // A crash that lost the second frame but kept the third (pages reach the disk in any order).
    const path = join(dir, "offsets-1.log");
    const bytes = readFileSync(path);
    const first = 12 + bytes.readUInt32BE(4);
    const second = 12 + bytes.readUInt32BE(first + 4);
    bytes.fill(0, first, first + second);
    writeFileSync(path, bytes);
    const again = await open(dir);
    expect(again.get("g")).toEqual([{ topic: "t", partition: 0, offset: 1 }]);
    expect(readFileSync(path).subarray(first).every((b) => b === 0)).toBe(true);
    // A new frame as long as the lost one lands in the hole; the stale third frame must not follow it.
    await again.commit("g", [{ topic: "t", partition: 0, offset: 7 }]);
    await again.close();
    const third = await open(dir);
    expect(third.get("g")).toEqual([{ topic: "t", partition: 0, offset: 7 }]);
    expect(third.replayedRecords).toBe(2);
    await third.close();
  });

  it("commits into the space it grew ahead, and refuses with DISK_FULL only when it must grow on a full disk", async () => {
    const fs = new CrashFs();
    const dir = "/data/__offsets";
    const store = await CommittedOffsets.open({ fs, dir, fsync: "always" });
    await store.commit("g", [{ topic: "t", partition: 0, offset: 1 }]);
    fs.capacity = fs.used;
    // The file holds zeros ahead of its frames: a small commit needs no new space.
    await store.commit("g", [{ topic: "t", partition: 0, offset: 2 }]);
    // One that does not fit in what is left must grow the file: refused, retriable, nothing stored.
    const big = Array.from({ length: 5000 }, (_, p) => ({ topic: "t", partition: p, offset: 3 }));
    await expect(store.commit("g", big)).rejects.toMatchObject({ code: "DISK_FULL", retriable: true });
    expect(store.get("g")).toEqual([{ topic: "t", partition: 0, offset: 2 }]);
    fs.capacity = undefined;
    await store.commit("g", big);
    await store.close();
    const again = await CommittedOffsets.open({ fs: fs.afterPowerLoss(), dir, fsync: "always" });
    expect(again.get("g")).toHaveLength(5000);
    expect(again.get("g")[0]).toEqual({ topic: "t", partition: 0, offset: 3 });
    await again.close();
  });

  it("migrates the partition log of the previous format on open", async () => {
    const dir = join(tempDir(), "__offsets");
    mkdirSync(join(dir, "log-3"), { recursive: true });
    const log = await PartitionLog.openDir(join(dir, "log-3"), resolveSettings({}, { fsync: "always" }, undefined, nodeFileSystem, undefined));
    const key = (...parts: unknown[]) => JSON.stringify(parts);
    await log.append([
      { key: key("o", "a", "t", 0), value: "4" },
      { key: key("o", "a", "t", 1), value: "5" },
      { key: key("o", "b", "t", 0), value: "1" },
      { key: key("o", "c", "u", 0), value: "2" },
    ]);
    await log.append([
      { key: key("g", "b"), value: null },
      { key: key("t", "u"), value: null },
      { key: key("o", "a", "t", 0), value: "6" },
    ]);
    await log.close();
    writeFileSync(join(dir, "current"), "3\n");
    const store = await open(dir);
    expect(store.get("a")).toEqual([
      { topic: "t", partition: 0, offset: 6 },
      { topic: "t", partition: 1, offset: 5 },
    ]);
    expect(store.groupIds()).toEqual(["a"]);
    expect(store.replayedRecords).toBe(7);
    await store.commit("a", [{ topic: "t", partition: 1, offset: 8 }]);
    await store.close();
    expect(readdirSync(dir).sort()).toEqual(["current", "offsets-4.log"]);
    const again = await open(dir);
    expect(again.get("a")).toEqual([
      { topic: "t", partition: 0, offset: 6 },
      { topic: "t", partition: 1, offset: 8 },
    ]);
    await again.close();
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
    expect(fs.readdirSync(dir).filter((name) => name.startsWith("offsets-"))).toHaveLength(1);
    expect(fs.readdirSync(dir)).not.toContain("offsets-1.log");
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
    expect(readdirSync(dir).sort()).toEqual(["current", "offsets-1.log"]);
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
