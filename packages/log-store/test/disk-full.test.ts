// A full disk: appends and commits fail with DISK_FULL (retriable, nothing stored), reads and everything
// acknowledged stay intact, and writes work again as soon as there is space, without reopening the store.
// On the simulated disk (exact control over where the space runs out, including a write cut short in the
// middle of a batch) and on a real, small tmpfs (skipped, with a message, where mounting is not allowed).
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLogStoreError, type LogStoreError } from "../src/index.js";
import { LogStore } from "../src/log-store.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { CrashFs } from "./helpers/crash-fs.js";
import { text } from "./helpers/text.js";

/** A store on a simulated disk (the data directory also exists for real: the directory lock lives there). */
async function simulated(options: Record<string, unknown> = {}) {
  const dataDir = tempDir();
  const fs = new CrashFs();
  fs.mkdirSync(dataDir, { recursive: true });
  fs.syncAll();
  const OPTIONS = { dataDir, retentionCheckIntervalMs: 0 };
  const store = await LogStore.openWith({ ...OPTIONS, ...options }, fs);
  return { fs, store, dataDir, OPTIONS };
}

const errorOf = (promise: Promise<unknown>): Promise<LogStoreError> =>
  promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => {
      if (!isLogStoreError(error)) throw error;
      return error;
    },
  );

async function values(store: LogStore, topic: string, partition: number): Promise<string[]> {
  const { records } = await store.read(topic, partition, 0, { maxRecords: 100_000, maxBytes: 64 << 20 });
  records.forEach((r, i) => expect(r.offset).toBe(i));
  return records.map((r) => text(r.value)!);
}

const record = (i: number, size = 300) => ({ value: `${i}:`.padEnd(size, "v") });

describe("a full disk (simulated)", () => {
  it("refuses appends with DISK_FULL, keeps reads and acknowledged data, and recovers in place once space is freed", async () => {
    const { fs, store, OPTIONS } = await simulated();
    await store.createTopic("t", { partitions: 2 });
    await store.append("t", 1, [{ value: "other" }]);
    fs.capacity = fs.used + 2000;
    const acked: string[] = [];
    let error: LogStoreError | undefined;
    for (let i = 0; i < 100 && !error; i++) {
      try {
        await store.append("t", 0, [record(i)]);
        acked.push(record(i).value);
      } catch (e) {
        error = e as LogStoreError;
      }
    }
    expect(error?.code).toBe("DISK_FULL");
    expect(error?.retriable).toBe(true);
    expect(error?.message).toContain("no space left");
    expect(acked.length).toBeGreaterThan(2);
    fs.capacity = fs.used; // not even room for a small commit record
    // Still full: the same append fails the same way, again and again (no poisoned log, no hang).
    expect((await errorOf(store.append("t", 0, [record(999)]))).code).toBe("DISK_FULL");
    expect((await errorOf(store.commitOffsets("g", [{ topic: "t", partition: 0, offset: 1 }]))).code).toBe("DISK_FULL");
    // Reads work, on this partition and the other one; nothing acknowledged is missing.
    expect(await values(store, "t", 0)).toEqual(acked);
    expect(await values(store, "t", 1)).toEqual(["other"]);
    expect(store.describeTopic("t").partitions[0]!.logEndOffset).toBe(acked.length);
    expect(await store.committedOffsets("g")).toEqual([]);

    fs.capacity = undefined;
    const { baseOffset } = await store.append("t", 0, [{ value: "after" }]);
    expect(baseOffset).toBe(acked.length);
    await store.append("t", 1, [{ value: "other-after" }]);
    await store.commitOffsets("g", [{ topic: "t", partition: 0, offset: 1 }]);
    expect(await values(store, "t", 0)).toEqual([...acked, "after"]);

    // What the disk holds after a power loss is exactly that: no torn bytes between the batches.
    await store.close();
    const again = await LogStore.openWith(OPTIONS, fs.afterPowerLoss());
    expect(await values(again, "t", 0)).toEqual([...acked, "after"]);
    expect(await values(again, "t", 1)).toEqual(["other", "other-after"]);
    expect(await again.committedOffsets("g")).toEqual([{ topic: "t", partition: 0, offset: 1 }]);
    await again.close();
  });

  // With the journal, the journal file is what an append writes (segment files follow in the background);
  // without, it is the segment file.
  for (const [journal, file] of [
    [true, "journal"],
    [false, "log"],
  ] as const) {
    it(`cuts a batch that was written only in part back to the last batch boundary (the ${file} file)`, async () => {
      const { fs, store, OPTIONS } = await simulated({ journal });
      const options = { ...OPTIONS, journal };
      await store.createTopic("t", { partitions: 1 });
      await store.append("t", 0, [record(0)]);
      const sizeBefore = store.describeTopic("t").partitions[0]!.sizeBytes;
      // Room for about half of the next batch: the write is short, then fails with ENOSPC.
      fs.capacity = fs.used + 150;
      expect((await errorOf(store.append("t", 0, [record(1)]))).code).toBe("DISK_FULL");
      expect(fs.trace.some((op) => op.startsWith("ENOSPC"))).toBe(true);
      const shortWrite = fs.trace.find((op) => new RegExp(`^write .*\\.${file} @\\d+ \\+150$`).test(op));
      expect(shortWrite).toBeDefined();
      const at = /@(\d+)/.exec(shortWrite!)![1];
      expect(fs.trace.some((op) => op.startsWith(`ftruncate `) && op.includes(`.${file} `) && op.endsWith(` ${at}`))).toBe(true);
      expect(store.describeTopic("t").partitions[0]).toMatchObject({ logEndOffset: 1, sizeBytes: sizeBefore });
      fs.capacity = undefined;
      expect((await store.append("t", 0, [record(2)])).baseOffset).toBe(1);
      await store.close();
      const again = await LogStore.openWith(options, fs.afterPowerLoss());
      expect(await values(again, "t", 0)).toEqual([record(0).value, record(2).value]);
      await again.close();
    });
  }

  it("gives back the offsets of batches queued behind a segment roll when the new segment has no space", async () => {
    const { fs, store, dataDir, OPTIONS } = await simulated({ segmentBytes: 1024 });
    const options = { ...OPTIONS, segmentBytes: 1024 };
    await store.createTopic("t", { partitions: 1 });
    await store.append("t", 0, [record(0)]);
    await store.append("t", 0, [record(1)]); // two batches of ~370 bytes: the next one rolls the segment
    fs.capacity = fs.used + 400; // room in the new segment for one batch, not three
    const results = await Promise.allSettled([2, 3, 4].map((i) => store.append("t", 0, [record(i)])));
    const outcome = results.map((r) => (r.status === "fulfilled" ? r.value.baseOffset : (r.reason as LogStoreError).code));
    expect(outcome).toEqual([2, "DISK_FULL", "DISK_FULL"]);
    expect(fs.readdirSync(join(dataDir, "t", "0")).filter((name) => name.endsWith(".log"))).toEqual(["00000000000000000000.log", "00000000000000000002.log"]);
    expect(store.describeTopic("t").partitions[0]!.logEndOffset).toBe(3);
    fs.capacity = undefined;
    expect((await store.append("t", 0, [record(5)])).baseOffset).toBe(3);
    const expected = [0, 1, 2, 5].map((i) => record(i).value);
    expect(await values(store, "t", 0)).toEqual(expected);
    await store.close();
    const again = await LogStore.openWith(options, fs.afterPowerLoss());
    expect(await values(again, "t", 0)).toEqual(expected);
    await again.close();
  });

  it("refuses a journal round that does not fit whole, taking back its offsets and the segment roll it made", async () => {
    const { fs, store, dataDir, OPTIONS } = await simulated({ segmentBytes: 1024, journal: true });
    const options = { ...OPTIONS, segmentBytes: 1024, journal: true };
    await store.createTopic("t", { partitions: 2 });
    await store.append("t", 0, [record(0)]);
    await store.append("t", 0, [record(1)]); // two batches of ~370 bytes: the next one rolls the segment
    await store.append("t", 1, [record(100)]);
    fs.capacity = fs.used + 400; // room for one batch, not for a round of four
    const results = await Promise.allSettled([
      ...[2, 3, 4].map((i) => store.append("t", 0, [record(i)])),
      store.append("t", 1, [record(101)]),
    ]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value.baseOffset : (r.reason as LogStoreError).code))).toEqual([
      "DISK_FULL",
      "DISK_FULL",
      "DISK_FULL",
      "DISK_FULL",
    ]);
    // The roll is taken back with the batches: the segment it created is gone.
    expect(fs.readdirSync(join(dataDir, "t", "0")).filter((name) => name.endsWith(".log"))).toEqual(["00000000000000000000.log"]);
    expect(store.describeTopic("t").partitions.map((p) => p.logEndOffset)).toEqual([2, 1]);
    expect(await values(store, "t", 0)).toEqual([0, 1].map((i) => record(i).value));
    fs.capacity = undefined;
    expect((await store.append("t", 0, [record(5)])).baseOffset).toBe(2);
    expect((await store.append("t", 1, [record(102)])).baseOffset).toBe(1);
    const expected = [0, 1, 5].map((i) => record(i).value);
    expect(await values(store, "t", 0)).toEqual(expected);
    await store.close();
    const again = await LogStore.openWith(options, fs.afterPowerLoss());
    expect(await values(again, "t", 0)).toEqual(expected);
    expect(await values(again, "t", 1)).toEqual([record(100).value, record(102).value]);
    await again.close();
  });

  it("refuses to create a topic on a full disk with DISK_FULL and leaves nothing behind", async () => {
    const { fs, store, dataDir } = await simulated();
    fs.capacity = fs.used;
    expect((await errorOf(store.createTopic("t", { partitions: 1 }))).code).toBe("DISK_FULL");
    expect(store.listTopics()).toEqual([]);
    expect(fs.readdirSync(dataDir).filter((name) => name.startsWith("~"))).toEqual([]);
    fs.capacity = undefined;
    await store.createTopic("t", { partitions: 1 });
    expect(store.listTopics()).toEqual(["t"]);
    await store.close();
  });
});

// A real file system that fills up: tmpfs needs root (CI runs as root; elsewhere the test is skipped).
describe("a full disk (tmpfs)", () => {
  const mountPoint = join(tempDir(), "small");
  let mounted = false;
  let why = "";
  beforeAll(() => {
    mkdirSync(mountPoint, { recursive: true });
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint], { stdio: "pipe" });
      mounted = true;
    } catch (error) {
      why = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim();
    }
  });
  afterAll(() => {
    if (mounted) execFileSync("umount", [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it("refuses appends and commits with DISK_FULL and works again once a file is deleted, without reopening", async (context) => {
    if (!mounted) {
      console.warn(`skipping the tmpfs disk-full test: cannot mount a tmpfs (${why || "not permitted"})`);
      context.skip();
    }
    const dataDir = join(mountPoint, "data");
    const store = await LogStore.open({ dataDir, segmentBytes: 256 * 1024, retentionCheckIntervalMs: 0 });
    await store.createTopic("t", { partitions: 2 });
    await store.append("t", 1, [{ value: "other" }]);
    await store.commitOffsets("g", [{ topic: "t", partition: 1, offset: 1 }]);
    // Most of the space goes to a file we can delete later.
    const filler = join(mountPoint, "filler");
    writeFileSync(filler, Buffer.alloc(1536 * 1024));
    const acked: string[] = [];
    let error: LogStoreError | undefined;
    for (let i = 0; i < 10_000 && !error; i++) {
      try {
        await store.append("t", 0, [record(i, 3000)]);
        acked.push(record(i, 3000).value);
      } catch (e) {
        error = e as LogStoreError;
      }
    }
    expect(error?.code).toBe("DISK_FULL");
    expect(error?.retriable).toBe(true);
    expect(acked.length).toBeGreaterThan(10);
    expect((await errorOf(store.append("t", 0, [record(0, 3000)]))).code).toBe("DISK_FULL");
    expect(await values(store, "t", 0)).toEqual(acked);
    expect(await values(store, "t", 1)).toEqual(["other"]);
    expect(await store.committedOffsets("g")).toEqual([{ topic: "t", partition: 1, offset: 1 }]);

    rmSync(filler);
    expect((await store.append("t", 0, [{ value: "after" }])).baseOffset).toBe(acked.length);
    await store.commitOffsets("g", [{ topic: "t", partition: 0, offset: acked.length + 1 }]);
    await store.close();
    const again = await LogStore.open({ dataDir, retentionCheckIntervalMs: 0 });
    expect(await values(again, "t", 0)).toEqual([...acked, "after"]);
    expect(await again.committedOffsets("g")).toEqual([
      { topic: "t", partition: 0, offset: acked.length + 1 },
      { topic: "t", partition: 1, offset: 1 },
    ]);
    await again.close();
  });
});
