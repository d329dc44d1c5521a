// Topic administration under failure: every file operation of a topic creation (and of adding partitions)
// failing in turn with EMFILE, ENOSPC or EACCES leaves no half-made topic and a retriable, named error;
// limits on topics and partitions; batched creation; and repair or quarantine of half-made state at open.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { LogStore } from "../src/index.js";
import { nodeFileSystem, type FileSystem } from "../src/file-system.js";

/** The real file system, counting mutating operations and failing operation `failAt` (1-based) with `code`. */
function faultyFs(): FileSystem & { ops: number; failAt: number; code: string; trace: string[] } {
  const fs = {
    ...nodeFileSystem,
    ops: 0,
    failAt: 0,
    code: "EMFILE",
    trace: [] as string[],
  };
  const step = (what: string) => {
    fs.ops++;
    fs.trace.push(what);
    if (fs.ops === fs.failAt) throw Object.assign(new Error(`${fs.code}: simulated failure, ${what}`), { code: fs.code });
  };
  return Object.assign(fs, {
    openSync: (path: string, flags: Parameters<FileSystem["openSync"]>[1]) => (step(`open ${path} ${flags}`), nodeFileSystem.openSync(path, flags)),
    mkdirSync: (path: string, options?: { recursive?: boolean }) => (step(`mkdir ${path}`), nodeFileSystem.mkdirSync(path, options)),
    renameSync: (from: string, to: string) => (step(`rename ${from} ${to}`), nodeFileSystem.renameSync(from, to)),
    writeSync: (fd: number, buf: Uint8Array, offset: number, length: number, position: number | null) => (
      step(`write ${fd}`),
      nodeFileSystem.writeSync(fd, buf, offset, length, position)
    ),
    fsync: async (fd: number) => (step(`fsync ${fd}`), nodeFileSystem.fsync(fd)),
  });
}

const EXPECTED: Record<string, string> = { EMFILE: "TOO_MANY_OPEN_FILES", ENOSPC: "DISK_FULL", EACCES: "KAFKA_STORAGE_ERROR" };
const OPTIONS = { retentionCheckIntervalMs: 0 } as const;

/** Entries of the data directory that are neither the store's own nor a topic in `topics`. */
function strays(dataDir: string, topics: string[]): string[] {
  return readdirSync(dataDir).filter((name) => ![".lock", "__offsets", "__producer_ids", ...topics].includes(name));
}

describe("topic creation under failing file operations", () => {
  it("is all or nothing at every operation, with EMFILE, ENOSPC and EACCES", async () => {
    const dataDir = tempDir();
    const fs = faultyFs();
    const store = await LogStore.openWith({ dataDir, ...OPTIONS }, fs);
    await store.createTopic("base", { partitions: 1 });
    // Count the operations of one creation (and growth).
    let before = fs.ops;
    await store.createTopic("probe", { partitions: 3 });
    const createOps = fs.ops - before;
    before = fs.ops;
    await store.addPartitions("probe", 5);
    const growOps = fs.ops - before;
    await store.deleteTopic("probe");
    expect(createOps).toBeGreaterThan(10);
    let failures = 0;
    for (const code of ["EMFILE", "ENOSPC", "EACCES"]) {
      fs.code = code;
      for (let k = 1; k <= createOps; k++) {
        fs.failAt = fs.ops + k;
        const result = await store.createTopic("t", { partitions: 3 }).catch((error: unknown) => error);
        fs.failAt = 0;
        if (!(result instanceof Error)) {
          // The failure hit an operation whose error is absorbed (e.g. a retried EMFILE): whole topic.
          expect(store.describeTopic("t").partitions).toHaveLength(3);
          await store.deleteTopic("t");
          continue;
        }
        failures++;
        const why = `${code} at operation ${k} of ${createOps}: ${fs.trace.at(-1)}`;
        expect(result, why).toMatchObject({ code: EXPECTED[code], retriable: true });
        expect(result.message, why).toContain(code === "EACCES" ? "EACCES" : "");
        expect(store.listTopics(), why).toEqual(["base"]);
        expect(strays(dataDir, ["base"]), why).toEqual([]);
        // Nothing is in the way: the same creation works now.
        await store.createTopic("t", { partitions: 3 });
        await store.append("t", 2, [{ value: "x" }]);
        await store.deleteTopic("t");
      }
    }
    expect(failures).toBeGreaterThan(createOps);
    // Growing a topic: the old count, or the new one, never in between.
    await store.createTopic("g", { partitions: 2 });
    for (const code of ["EMFILE", "ENOSPC", "EACCES"]) {
      fs.code = code;
      for (let k = 1; k <= growOps; k++) {
        fs.failAt = fs.ops + k;
        const result = await store.addPartitions("g", 4).catch((error: unknown) => error);
        fs.failAt = 0;
        const count = store.describeTopic("g").partitions.length;
        if (result instanceof Error) {
          expect(result, `${code} at ${k}`).toMatchObject({ code: EXPECTED[code], retriable: true });
          expect(count).toBe(2);
          expect(
            readdirSync(join(dataDir, "g"))
              .filter((name) => /^\d+$/.test(name))
              .sort(),
          ).toEqual(["0", "1"]);
        } else {
          expect(count).toBe(4);
          await store.deleteTopic("g");
          await store.createTopic("g", { partitions: 2 });
        }
      }
    }
    await store.close();
    // And the store opens again with exactly what was acknowledged.
    const reopened = await LogStore.open({ dataDir, ...OPTIONS });
    expect(reopened.listTopics()).toEqual(["base", "g"]);
    expect(reopened.describeTopic("g").partitions).toHaveLength(2);
    await reopened.close();
  }, 120_000);
});

describe("topic limits", () => {
  it("refuses topics past maxTopics and partitions past maxTotalPartitions, creating nothing", async () => {
    const dataDir = tempDir();
    const store = await LogStore.open({ dataDir, ...OPTIONS, maxTopics: 3, maxTotalPartitions: 10 });
    await store.createTopic("a", { partitions: 4 });
    await store.createTopic("b", { partitions: 4 });
    await expect(store.createTopic("c", { partitions: 3 })).rejects.toMatchObject({ code: "TOPIC_LIMIT_REACHED", retriable: false });
    await expect(store.addPartitions("b", 7)).rejects.toMatchObject({ code: "TOPIC_LIMIT_REACHED" });
    await store.createTopic("c", { partitions: 2 });
    await expect(store.createTopic("d", { partitions: 1 })).rejects.toMatchObject({
      code: "TOPIC_LIMIT_REACHED",
      message: expect.stringContaining("maxTopics 3"),
    });
    expect(store.listTopics()).toEqual(["a", "b", "c"]);
    expect(store.describeTopic("b").partitions).toHaveLength(4);
    await store.deleteTopic("a");
    await store.createTopic("d", { partitions: 4 });
    expect(strays(dataDir, ["b", "c", "d"])).toEqual([]);
    await store.close();
    await expect(LogStore.open({ dataDir, maxTopics: 0 })).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    // A lowered limit still opens every topic on disk.
    const lowered = await LogStore.open({ dataDir, ...OPTIONS, maxTopics: 1 });
    expect(lowered.listTopics()).toEqual(["b", "c", "d"]);
    await lowered.close();
  });
});

describe("batched topic creation", () => {
  it("creates many topics with one fsync of the data directory, each call on its own", async () => {
    const dataDir = tempDir();
    const fs = faultyFs();
    const store = await LogStore.openWith({ dataDir, ...OPTIONS }, fs);
    await store.createTopic("taken", { partitions: 1 });
    const dataDirSyncs = () => fs.trace.filter((op, i) => op.startsWith("fsync") && fs.trace[i - 1] === `open ${dataDir} r`).length;
    let before = dataDirSyncs();
    const created = await store.createTopics(Array.from({ length: 20 }, (_, i) => ({ name: `batch-${i}`, partitions: 2 })));
    expect(created.map((t) => t.name)).toEqual(Array.from({ length: 20 }, (_, i) => `batch-${i}`));
    expect(dataDirSyncs() - before).toBe(1);

    // Concurrent single creations share a round too; one that fails does not fail the others.
    before = dataDirSyncs();
    const results = await Promise.allSettled([
      ...Array.from({ length: 10 }, (_, i) => store.createTopic(`single-${i}`, { partitions: 1 })),
      store.createTopic("taken", { partitions: 1 }),
      store.createTopic("TAKEN", { partitions: 1 }),
    ]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value.name : (r.reason as { code: string }).code))).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `single-${i}`),
      "TOPIC_ALREADY_EXISTS",
      "INVALID_TOPIC_NAME",
    ]);
    // The first waits for nothing; the 9 after it join one batch behind it.
    expect(dataDirSyncs() - before).toBeLessThanOrEqual(2);

    // One call is all or nothing: a name taken (or listed twice) fails the call and creates none of it.
    await expect(
      store.createTopics([
        { name: "fresh", partitions: 1 },
        { name: "taken", partitions: 1 },
      ]),
    ).rejects.toMatchObject({
      code: "TOPIC_ALREADY_EXISTS",
    });
    await expect(
      store.createTopics([
        { name: "x", partitions: 1 },
        { name: "X", partitions: 1 },
      ]),
    ).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    expect(store.listTopics()).not.toContain("fresh");
    // Call order holds across other admin calls: delete then create of one name, issued together.
    const [deleted, recreated] = await Promise.allSettled([store.deleteTopic("taken"), store.createTopic("taken", { partitions: 3 })]);
    expect([deleted.status, recreated.status]).toEqual(["fulfilled", "fulfilled"]);
    expect(store.describeTopic("taken").partitions).toHaveLength(3);
    await store.close();
  });
});

describe("half-made state at open", () => {
  async function seed(dataDir: string): Promise<void> {
    const store = await LogStore.open({ dataDir, ...OPTIONS });
    await store.createTopic("ok", { partitions: 1 });
    await store.createTopic("empty-parts", { partitions: 3 });
    await store.createTopic("lost-part", { partitions: 2 });
    await store.append("lost-part", 0, [{ value: "kept" }]);
    await store.append("ok", 0, [{ value: "fine" }]);
    await store.close();
  }

  it("repairs a topic missing partitions that never stored anything, and quarantines what it cannot repair", async () => {
    const dataDir = tempDir();
    await seed(dataDir);
    // An older version's half-made topic: metadata, some partition directories missing, nothing stored.
    rmSync(join(dataDir, "empty-parts", "1"), { recursive: true });
    rmSync(join(dataDir, "empty-parts", "2"), { recursive: true });
    // A partition gone beside one that holds records: repairing would hide lost data.
    rmSync(join(dataDir, "lost-part", "1"), { recursive: true });
    // A topic directory without metadata, one with unreadable metadata, one naming another topic.
    mkdirSync(join(dataDir, "no-meta", "0"), { recursive: true });
    mkdirSync(join(dataDir, "bad-meta", "0"), { recursive: true });
    writeFileSync(join(dataDir, "bad-meta", "topic.json"), "{ torn");
    mkdirSync(join(dataDir, "renamed", "0"), { recursive: true });
    writeFileSync(join(dataDir, "renamed", "topic.json"), JSON.stringify({ name: "other", partitions: 1, config: {}, createdAt: 1 }));
    mkdirSync(join(dataDir, "empty-dir"));

    const store = await LogStore.open({ dataDir, ...OPTIONS });
    expect(store.listTopics()).toEqual(["empty-parts", "ok"]);
    expect(store.describeTopic("empty-parts").partitions).toHaveLength(3);
    await store.append("empty-parts", 2, [{ value: "now" }]);
    expect((await store.read("ok", 0, 0)).records).toHaveLength(1);
    const quarantined = store.quarantined;
    const path = (line: string) => line.slice(0, line.indexOf(": "));
    expect(quarantined.map((line) => path(line).split("/").at(-1)).sort()).toEqual(["bad-meta", "lost-part", "no-meta", "renamed"]);
    expect(quarantined.find((line) => line.includes("lost-part"))).toContain("partition directories 1 are missing while partitions 0 hold records");
    expect(existsSync(join(dataDir, "empty-dir"))).toBe(false);
    // Quarantined data is kept, out of the way: the name can be used again.
    const kept = path(quarantined.find((line) => line.includes("lost-part"))!);
    expect(readdirSync(join(kept, "0")).filter((f) => f.endsWith(".log"))).toHaveLength(1);
    await store.createTopic("lost-part", { partitions: 1 });
    await store.close();

    const again = await LogStore.open({ dataDir, ...OPTIONS });
    expect(again.quarantined).toEqual([]);
    expect(again.listTopics()).toEqual(["empty-parts", "lost-part", "ok"]);
    await again.close();
  });
});
