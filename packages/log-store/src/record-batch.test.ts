import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { BATCH_HEADER_SIZE, checkBatch, decodeRecords, encodeBatch } from "./record-batch.js";
import { isLogStoreError } from "./errors.js";
import type { RecordInput, StoredRecord } from "./types.js";

// KafkaJS's own RecordBatch v2 encoder is the reference for "byte for byte Kafka's format".
const require = createRequire(import.meta.url);
const { RecordBatch: kafkaRecordBatch } = require("kafkajs/src/protocol/recordBatch/v0") as {
  RecordBatch: (args: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
};
const kafkaRecord = require("kafkajs/src/protocol/recordBatch/record/v0") as (args: Record<string, unknown>) => unknown;
const Long = require("kafkajs/src/utils/long") as { fromValue(v: number | string): unknown };

const toBuffer = (d: Uint8Array | string | null | undefined): Buffer | null => (d === null || d === undefined ? null : Buffer.from(d as string));

async function kafkaEncode(records: RecordInput[], baseOffset: number, now: number): Promise<Buffer> {
  const timestamps = records.map((r) => r.timestamp ?? now);
  const first = timestamps[0]!;
  const encoder = await kafkaRecordBatch({
    firstOffset: Long.fromValue(baseOffset),
    firstTimestamp: first,
    maxTimestamp: Math.max(...timestamps),
    lastOffsetDelta: records.length - 1,
    producerEpoch: -1,
    firstSequence: -1,
    records: records.map((r, i) =>
      kafkaRecord({
        offsetDelta: i,
        timestampDelta: timestamps[i]! - first,
        key: toBuffer(r.key),
        value: toBuffer(r.value),
        headers: Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k, toBuffer(v)])),
      }),
    ),
  });
  return encoder.buffer;
}

const sample: RecordInput[] = [
  { key: "order-42", value: "created", timestamp: 1_700_000_000_000 },
  { key: null, value: new Uint8Array([0, 1, 2, 255]), headers: { trace: "abc", bin: new Uint8Array([9]) }, timestamp: 1_700_000_000_500 },
  { value: "ünïcødé ✓", timestamp: 1_699_999_999_000 },
  { key: "tombstone", value: null, timestamp: 1_700_000_000_001 },
  { key: "big", value: "x".repeat(70_000), timestamp: 1_700_000_000_001 },
];

describe("encodeBatch", () => {
  it("writes exactly the bytes Kafka's RecordBatch v2 encoder writes", async () => {
    for (const baseOffset of [0, 1, 4_294_967_296 + 7, 2 ** 53 - 100]) {
      const ours = encodeBatch(sample, baseOffset, 0).buffer;
      expect(ours.equals(await kafkaEncode(sample, baseOffset, 0))).toBe(true);
    }
  });

  it("round-trips keys, values, headers, timestamps and offsets", () => {
    const { buffer, recordCount, maxTimestamp } = encodeBatch(sample, 100, 0);
    expect(recordCount).toBe(5);
    expect(maxTimestamp).toBe(1_700_000_000_500);
    const header = checkBatch(buffer, 0, buffer.length);
    expect(header).toEqual({ baseOffset: 100, size: buffer.length, lastOffset: 104, maxTimestamp: 1_700_000_000_500, leaderEpoch: 0 });
    const out: StoredRecord[] = [];
    expect(decodeRecords(buffer, 0, header as never, 0, 100, out)).toBe(5);
    const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString());
    expect(out.map((r) => [r.offset, r.timestamp, text(r.key), r.value === null ? null : Buffer.from(r.value).length])).toEqual([
      [100, 1_700_000_000_000, "order-42", 7],
      [101, 1_700_000_000_500, null, 4],
      [102, 1_699_999_999_000, null, Buffer.byteLength("ünïcødé ✓")],
      [103, 1_700_000_000_001, "tombstone", null],
      [104, 1_700_000_000_001, "big", 70_000],
    ]);
    expect([...out[1]!.value!]).toEqual([0, 1, 2, 255]);
    expect(Object.keys(out[1]!.headers)).toEqual(["trace", "bin"]);
    expect(text(out[1]!.headers.trace!)).toBe("abc");
    expect([...out[1]!.headers.bin!]).toEqual([9]);
    expect(text(out[2]!.value)).toBe("ünïcødé ✓");
  });

  it("decodes from an offset inside the batch and stops at maxRecords", () => {
    const { buffer } = encodeBatch(sample, 10, 0);
    const header = checkBatch(buffer, 0, buffer.length) as never;
    const out: StoredRecord[] = [];
    expect(decodeRecords(buffer, 0, header, 12, 2, out)).toBe(2);
    expect(out.map((r) => r.offset)).toEqual([12, 13]);
  });

  it("uses the clock for records without a timestamp", () => {
    const { buffer } = encodeBatch([{ value: "a" }, { value: "b", timestamp: 5 }], 0, 1234);
    const out: StoredRecord[] = [];
    decodeRecords(buffer, 0, checkBatch(buffer, 0, buffer.length) as never, 0, 10, out);
    expect(out.map((r) => r.timestamp)).toEqual([1234, 5]);
  });

  it.each([
    ["an empty list", []],
    ["a non-object record", [42]],
    ["a missing value", [{ key: "k" }]],
    ["a numeric value", [{ value: 5 }]],
    ["an object key", [{ key: {}, value: "v" }]],
    ["a negative timestamp", [{ value: "v", timestamp: -1 }]],
    ["a fractional timestamp", [{ value: "v", timestamp: 1.5 }]],
    ["headers that are an array", [{ value: "v", headers: ["a"] }]],
    ["a numeric header value", [{ value: "v", headers: { a: 1 } }]],
  ])("rejects %s with INVALID_RECORD", (_, records) => {
    let caught: unknown;
    try {
      encodeBatch(records as RecordInput[], 0, 0);
    } catch (error) {
      caught = error;
    }
    expect(isLogStoreError(caught) && caught.code).toBe("INVALID_RECORD");
  });
});

describe("checkBatch", () => {
  const { buffer } = encodeBatch(sample, 0, 0);

  it("reports how many bytes an incomplete batch needs", () => {
    expect(checkBatch(buffer, 0, 10)).toEqual({ incomplete: true, needed: BATCH_HEADER_SIZE });
    expect(checkBatch(buffer, 0, buffer.length - 1)).toEqual({ incomplete: true, needed: buffer.length });
  });

  it("detects a flipped bit anywhere in the checksummed part", () => {
    for (const pos of [21, 30, 61, 200, buffer.length - 1]) {
      const copy = Buffer.from(buffer);
      copy[pos]! ^= 0x10;
      expect(checkBatch(copy, 0, copy.length)).toHaveProperty("corrupt");
    }
  });

  it("rejects an impossible length and a wrong magic byte", () => {
    const badLength = Buffer.from(buffer);
    badLength.writeInt32BE(3, 8);
    expect(checkBatch(badLength, 0, badLength.length)).toEqual({ corrupt: "impossible batch length 3" });
    const badMagic = Buffer.from(buffer);
    badMagic[16] = 1;
    expect(checkBatch(badMagic, 0, badMagic.length)).toEqual({ corrupt: "unsupported magic byte 1" });
  });

  it("checks the leader epoch (outside the CRC) against the partition's epochs: 0 without them, any non-negative one with null", () => {
    const stamped = encodeBatch(sample, 100, 0, false, undefined, 7).buffer;
    expect(stamped.readInt32BE(12)).toBe(7);
    // The epoch lies outside the checksum: the same CRC as the batch stamped 0.
    expect(stamped.readUInt32BE(17)).toBe(buffer.readUInt32BE(17));
    expect(checkBatch(stamped, 0, stamped.length)).toEqual({ corrupt: "partition leader epoch 7, expected 0" });
    const epochs = { epochAt: (offset: number) => (offset >= 100 ? 7 : 3) };
    expect(checkBatch(stamped, 0, stamped.length, true, epochs)).toMatchObject({ baseOffset: 100, leaderEpoch: 7 });
    expect(checkBatch(buffer, 0, buffer.length, true, epochs)).toEqual({ corrupt: "partition leader epoch 0, expected 3" });
    expect(checkBatch(stamped, 0, stamped.length, true, null)).toMatchObject({ leaderEpoch: 7 });
    const negative = Buffer.from(stamped);
    negative.writeInt32BE(-1, 12);
    expect(checkBatch(negative, 0, negative.length, true, null)).toEqual({ corrupt: "partition leader epoch -1 is negative" });
  });
});
