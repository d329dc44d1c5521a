// kill -9 while appending with fsync "always": every acknowledged record must survive, in order, with
// dense offsets. Real processes, real files, several crash/recover rounds on the same data directory.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LogStore, isLogStoreError } from "../src/index.js";
import { exited, onLines, spawnTs } from "../../../test-support/spawn-ts.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { text } from "./helpers/text.js";

const child = fileURLToPath(new URL("./helpers/append-child.ts", import.meta.url));

/** Deterministic pseudo-random numbers (mulberry32), so a failing run can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("crash safety", () => {
  it("keeps every acknowledged record across repeated kill -9", async () => {
    const dataDir = tempDir();
    const rand = random(20261124);
    // acked[partition] maps offset → value for every record whose append was acknowledged.
    const acked = [new Map<number, string>(), new Map<number, string>()];
    for (let round = 0; round < 5; round++) {
      const writer = spawnTs(child, [dataDir, String(round)]);
      const killAfter = 20 + Math.floor(rand() * 300);
      let acks = 0;
      let stderr = "";
      writer.stderr.on("data", (chunk) => (stderr += String(chunk)));
      const killed = new Promise<void>((resolve) => {
        onLines(writer, (line) => {
          if (!line.startsWith("ack ")) return;
          const [, partition, baseOffset, values] = line.split(" ") as [string, string, string, string];
          values.split(",").forEach((value, i) => acked[Number(partition)]!.set(Number(baseOffset) + i, value));
          if (++acks === killAfter) {
            writer.kill("SIGKILL");
            resolve();
          }
        });
        writer.once("exit", () => resolve());
      });
      await killed;
      await exited(writer);
      expect(writer.signalCode, `round ${round} writer died on its own: ${stderr}`).toBe("SIGKILL");
      expect(acks).toBeGreaterThanOrEqual(killAfter);
    }

    // The lock of the killed process is stale: a new store takes over and recovers.
    const store = await LogStore.open({ dataDir, segmentBytes: 16 * 1024 });
    for (const partition of [0, 1]) {
      const { logEndOffset, highWatermark, logStartOffset } = store.describeTopic("crash").partitions[partition]!;
      expect(logStartOffset).toBe(0);
      expect(highWatermark).toBe(logEndOffset);
      const stored: Array<[number, string]> = [];
      for (let offset = 0; offset < highWatermark;) {
        const { records, nextOffset } = await store.read("crash", partition, offset, { maxRecords: 10_000 });
        for (const r of records) stored.push([r.offset, text(r.value)!]);
        offset = nextOffset;
      }
      // Dense offsets from 0.
      expect(stored.map(([offset]) => offset)).toEqual(Array.from({ length: stored.length }, (_, i) => i));
      // Every acknowledged record is at its acknowledged offset.
      const byOffset = new Map(stored);
      for (const [offset, value] of acked[partition]!) expect(byOffset.get(offset), `partition ${partition} offset ${offset}`).toBe(value);
      // Per producer, records appear in the order they were sent.
      const lastSeq = new Map<string, number>();
      for (const [, value] of stored) {
        const [round, producer, seq, k] = value.split("/").map(Number) as [number, number, number, number];
        const key = `${round}/${producer}`;
        const position = seq * 10 + k;
        expect(position).toBeGreaterThan(lastSeq.get(key) ?? -1);
        lastSeq.set(key, position);
      }
      expect(acked[partition]!.size).toBeGreaterThan(0);
    }
    await store.close();
  }, 60_000);

  it("refuses to open a data directory that a live process holds", async () => {
    const dataDir = tempDir();
    const holder = spawnTs(child, [dataDir, "0"]);
    const ready = new Promise<void>((resolve) => onLines(holder, (line) => line === "ready" && resolve()));
    await ready;
    const error = await LogStore.open({ dataDir }).catch((e: unknown) => e);
    holder.kill("SIGKILL");
    await exited(holder);
    expect(isLogStoreError(error) && error.code).toBe("DATA_DIR_LOCKED");
    expect((error as Error).message).toContain(`locked by running process ${holder.pid}`);
  }, 30_000);
});
