// Crash and corruption recovery on real files: no filesystem mocks.
import { copyFileSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PartitionLog, isLogStoreError } from "../src/index.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { text } from "./helpers/text.js";

const SEGMENT = "00000000000000000000.log";
const INDEX = "00000000000000000000.index";

/** Writes three batches and returns the segment image and where each batch starts. */
async function threeBatches(): Promise<{ image: Buffer; starts: number[] }> {
  const dir = tempDir();
  const log = await PartitionLog.open({ dir });
  const starts: number[] = [];
  starts.push(log.describe().sizeBytes);
  await log.append([
    { key: "a", value: "first" },
    { key: "b", value: "second" },
  ]);
  starts.push(log.describe().sizeBytes);
  await log.append([{ key: "c", value: "third", headers: { h: "1" } }]);
  starts.push(log.describe().sizeBytes);
  await log.append([
    { key: "d", value: "fourth" },
    { key: "e", value: "fifth" },
    { key: "f", value: "sixth" },
  ]);
  await log.close();
  return { image: readFileSync(join(dir, SEGMENT)), starts };
}

async function openWith(image: Uint8Array): Promise<{ log: PartitionLog; dir: string }> {
  const dir = tempDir();
  writeFileSync(join(dir, SEGMENT), image);
  return { log: await PartitionLog.open({ dir }), dir };
}

async function expectFirstTwoBatchesThenAppend(log: PartitionLog): Promise<void> {
  expect(log.logEndOffset).toBe(3);
  const { records } = await log.read(0);
  expect(records.map((r) => [r.offset, text(r.value)])).toEqual([
    [0, "first"],
    [1, "second"],
    [2, "third"],
  ]);
  expect(await log.append([{ value: "after" }])).toEqual({ baseOffset: 3, lastOffset: 3 });
  expect(text((await log.read(3)).records[0]!.value)).toBe("after");
  await log.close();
}

describe("recovery of the active segment", () => {
  it("cuts the last batch when the file is truncated at any byte inside it", async () => {
    const { image, starts } = await threeBatches();
    const lastStart = starts[2]!;
    for (let cut = lastStart; cut < image.length; cut++) {
      const { log, dir } = await openWith(image.subarray(0, cut));
      expect(statSync(join(dir, SEGMENT)).size).toBe(lastStart);
      await expectFirstTwoBatchesThenAppend(log);
    }
  });

  it("cuts the last batch when any byte of it is flipped", async () => {
    const { image, starts } = await threeBatches();
    for (let pos = starts[2]!; pos < image.length; pos++) {
      const damaged = Buffer.from(image);
      damaged[pos]! ^= 0xff;
      const { log } = await openWith(damaged);
      await expectFirstTwoBatchesThenAppend(log);
    }
  });

  it("refuses to open when any byte of an older, durable batch is flipped, naming file and offset", async () => {
    const { image, starts } = await threeBatches();
    for (let pos = starts[1]!; pos < starts[2]!; pos++) {
      const damaged = Buffer.from(image);
      damaged[pos]! ^= 0xff;
      const dir = tempDir();
      writeFileSync(join(dir, SEGMENT), damaged);
      let caught: unknown;
      try {
        await PartitionLog.open({ dir });
      } catch (error) {
        caught = error;
      }
      expect(isLogStoreError(caught) && caught.code, `flipped byte ${pos}`).toBe("CORRUPT_RECORD");
      expect((caught as Error).message).toContain(join(dir, SEGMENT));
      expect((caught as Error).message).toContain(`at byte ${starts[1]} (offset 2)`);
      // Refusing must not have modified the data or left the directory locked.
      expect(readFileSync(join(dir, SEGMENT)).equals(damaged)).toBe(true);
      expect(readdirSync(dir)).not.toContain(".lock");
    }
  });

  it("treats trailing zeros (a pre-allocated or torn tail) as torn", async () => {
    const { image } = await threeBatches();
    const { log } = await openWith(Buffer.concat([image, Buffer.alloc(4096)]));
    expect(log.logEndOffset).toBe(6);
    await log.close();
  });
});

describe("older segments", () => {
  it("fail reads of a corrupt batch with CORRUPT_RECORD instead of returning bad data", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir, segmentBytes: 1024 });
    for (let i = 0; i < 40; i++) await log.append([{ value: `record-${i}`.padEnd(60, "-") }]);
    await log.close();
    const image = readFileSync(join(dir, SEGMENT));
    image[100]! ^= 0x01; // inside the second batch of the first (sealed) segment
    writeFileSync(join(dir, SEGMENT), image);
    const again = await PartitionLog.open({ dir, segmentBytes: 1024 });
    const error = await again.read(0, { maxRecords: 5 }).catch((e: unknown) => e);
    expect(isLogStoreError(error) && error.code).toBe("CORRUPT_RECORD");
    expect((error as Error).message).toContain(join(dir, SEGMENT));
    // Data in other segments is still served.
    const later = await again.read(30, { maxRecords: 2 });
    expect(later.records.map((r) => r.offset)).toEqual([30, 31]);
    await again.close();
  });
});

describe("index damage", () => {
  async function build(): Promise<{ dir: string; expected: Map<number, string>; indexes: Map<string, Buffer> }> {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir, segmentBytes: 4096, indexIntervalBytes: 128 });
    for (let i = 0; i < 300; i += 3) {
      await log.append([0, 1, 2].map((k) => ({ value: `v${i + k}-${"x".repeat((i * 7) % 50)}` })));
    }
    await log.close();
    const expected = new Map<number, string>();
    const reread = await PartitionLog.open({ dir, segmentBytes: 4096, indexIntervalBytes: 128 });
    for (let offset = 0; offset < 300; offset++) expected.set(offset, text((await reread.read(offset, { maxRecords: 1 })).records[0]!.value)!);
    await reread.close();
    const indexes = new Map(
      readdirSync(dir)
        .filter((f) => f.endsWith(".index"))
        .map((f) => [f, readFileSync(join(dir, f))]),
    );
    expect(indexes.size).toBeGreaterThan(3);
    expect(indexes.get(INDEX)!.length).toBeGreaterThan(16);
    return { dir, expected, indexes };
  }

  async function expectReadsMatch(dir: string, expected: Map<number, string>): Promise<void> {
    const log = await PartitionLog.open({ dir, segmentBytes: 4096, indexIntervalBytes: 128 });
    // Random-order single-record reads hit every index entry and the positions between them.
    const offsets = [...expected.keys()].sort((a, b) => ((a * 7919) % 301) - ((b * 7919) % 301));
    for (const offset of offsets) {
      const { records } = await log.read(offset, { maxRecords: 1 });
      expect([records[0]!.offset, text(records[0]!.value)]).toEqual([offset, expected.get(offset)]);
    }
    await log.close();
  }

  const damages: Array<[string, (path: string, original: Buffer) => void]> = [
    ["deleted", (path) => rmSync(path)],
    ["zeroed", (path, original) => writeFileSync(path, Buffer.alloc(original.length))],
    ["truncated mid-entry", (path, original) => truncateSync(path, original.length - 3)],
    ["truncated to half its entries", (path, original) => truncateSync(path, Math.floor(original.length / 16) * 8)],
    ["emptied", (path) => truncateSync(path, 0)],
    [
      "shifted (plausible but wrong positions)",
      (path, original) => {
        const shifted = Buffer.from(original);
        for (let i = 4; i < shifted.length; i += 8) shifted.writeUInt32BE(shifted.readUInt32BE(i) + 1, i);
        writeFileSync(path, shifted);
      },
    ],
  ];

  for (const [name, damage] of damages) {
    it(`serves the same reads when every index is ${name}`, async () => {
      const { dir, expected, indexes } = await build();
      for (const [file, original] of indexes) damage(join(dir, file), original);
      await expectReadsMatch(dir, expected);
      if (name !== "truncated to half its entries" && name !== "emptied") {
        // Rebuilt indexes are the ones the append path wrote.
        for (const [file, original] of indexes) expect(readFileSync(join(dir, file)).equals(original), file).toBe(true);
      }
    });
  }

  it("rebuilds an index copied from another segment", async () => {
    const { dir, expected, indexes } = await build();
    const files = [...indexes.keys()].sort();
    copyFileSync(join(dir, files[2]!), join(dir, files[0]!));
    await expectReadsMatch(dir, expected);
  });
});
