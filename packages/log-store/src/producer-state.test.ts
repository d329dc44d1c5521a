import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { text } from "../test/helpers/text.js";
import { isLogStoreError, type LogStoreError } from "./errors.js";
import { PartitionLog } from "./partition-log.js";
import { MAX_SEQUENCE, ProducerStateManager, addSequence } from "./producer-state.js";
import { batchProducer, checkBatch, encodeBatch } from "./record-batch.js";

function errorOf(run: () => unknown): LogStoreError | string {
  try {
    run();
  } catch (error) {
    return isLogStoreError(error) ? error : String(error);
  }
  return "returned";
}

async function rejection(promise: Promise<unknown>): Promise<LogStoreError | string> {
  try {
    await promise;
  } catch (error) {
    return isLogStoreError(error) ? error : String(error);
  }
  return "resolved";
}

const p = (producerId: number, producerEpoch: number, sequence: number) => ({ producerId, producerEpoch, sequence });
const recs = (...values: string[]) => values.map((value) => ({ value }));

describe("ProducerStateManager (Kafka's rules)", () => {
  const manager = (now = () => 0, expirationMs = 1000) => new ProducerStateManager(expirationMs, now);

  it("accepts an unknown producer at sequence 0 and refuses it elsewhere with UNKNOWN_PRODUCER_ID", () => {
    const m = manager();
    expect(m.check(p(7, 0, 0), 3)).toBeUndefined();
    const error = errorOf(() => m.check(p(7, 0, 5), 1)) as LogStoreError;
    expect(error.code).toBe("UNKNOWN_PRODUCER_ID");
    expect(error.producer).toEqual({ producerId: 7, producerEpoch: -1, expectedSequence: 0 });
    expect(error.retriable).toBe(false);
  });

  it("appends the next sequence, finds duplicates among the last 5 batches, refuses gaps and reorderings", () => {
    const m = manager();
    for (let i = 0; i < 7; i++) {
      expect(m.check(p(1, 0, i * 2), 2)).toBeUndefined();
      m.record(p(1, 0, i * 2), 100 + i * 2, 101 + i * 2, false);
    }
    // Batches 2..6 are retained (sequences 4..13): each retry gets its original offsets.
    for (let i = 2; i < 7; i++)
      expect(m.check(p(1, 0, i * 2), 2)).toMatchObject({ firstSeq: i * 2, lastSeq: i * 2 + 1, baseOffset: 100 + i * 2, lastOffset: 101 + i * 2 });
    // Older than the retained window, a different size, a gap: out of order.
    for (const [seq, count] of [
      [2, 2],
      [4, 1],
      [4, 3],
      [15, 1],
      [13, 1],
    ] as const) {
      const error = errorOf(() => m.check(p(1, 0, seq), count)) as LogStoreError;
      expect(error.code, `seq ${seq} × ${count}`).toBe("OUT_OF_ORDER_SEQUENCE_NUMBER");
      expect(error.producer).toEqual({ producerId: 1, producerEpoch: 0, expectedSequence: 14 });
    }
    expect(m.check(p(1, 0, 14), 1)).toBeUndefined();
  });

  it("fences older epochs and starts newer epochs at sequence 0 only", () => {
    const m = manager();
    m.record(p(1, 3, 0), 0, 0, false);
    const fenced = errorOf(() => m.check(p(1, 2, 1), 1)) as LogStoreError;
    expect(fenced.code).toBe("INVALID_PRODUCER_EPOCH");
    expect(fenced.producer).toEqual({ producerId: 1, producerEpoch: 3, expectedSequence: 1 });
    // A retry of the old epoch's batch is fenced too (duplicates are matched within the current epoch).
    expect((errorOf(() => m.check(p(1, 2, 0), 1)) as LogStoreError).code).toBe("INVALID_PRODUCER_EPOCH");
    expect((errorOf(() => m.check(p(1, 4, 1), 1)) as LogStoreError).code).toBe("OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(m.check(p(1, 4, 0), 1)).toBeUndefined();
    m.record(p(1, 4, 0), 1, 1, false);
    // The new epoch's state replaced the old one's: its sequence 0 is now the duplicate.
    expect(m.check(p(1, 4, 0), 1)).toMatchObject({ baseOffset: 1 });
    expect((errorOf(() => m.check(p(1, 3, 1), 1)) as LogStoreError).code).toBe("INVALID_PRODUCER_EPOCH");
  });

  it("wraps sequences at int32 as Kafka does", () => {
    expect(addSequence(MAX_SEQUENCE, 1)).toBe(0);
    expect(addSequence(MAX_SEQUENCE - 1, 3)).toBe(1);
    const m = manager();
    m.record(p(1, 0, 0), 0, 0, false);
    // Jump to the top through a snapshot-free replay (a long-lived producer), then cross the wrap.
    m.replay(1, 0, MAX_SEQUENCE - 2, 1, 2, 0); // sequences 2^31-3, 2^31-2
    expect(m.check(p(1, 0, MAX_SEQUENCE), 3)).toBeUndefined(); // 2^31-1, 0, 1
    const wrapped = m.record(p(1, 0, MAX_SEQUENCE), 3, 5, false);
    expect(wrapped).toMatchObject({ firstSeq: MAX_SEQUENCE, lastSeq: 1 });
    expect(m.check(p(1, 0, MAX_SEQUENCE), 3)).toBe(wrapped);
    expect(m.check(p(1, 0, 2), 1)).toBeUndefined();
    // (0, 0) is still the first retained batch: a duplicate. (1, 1) is inside a batch: out of order.
    expect(m.check(p(1, 0, 0), 1)).toMatchObject({ baseOffset: 0 });
    expect((errorOf(() => m.check(p(1, 0, 1), 1)) as LogStoreError).code).toBe("OUT_OF_ORDER_SEQUENCE_NUMBER");
  });

  it("forgets producers idle for the expiration time", () => {
    let now = 0;
    const m = manager(() => now, 1000);
    m.record(p(1, 0, 0), 0, 0, false);
    now = 999;
    expect(m.check(p(1, 0, 1), 1)).toBeUndefined();
    now = 1000;
    expect((errorOf(() => m.check(p(1, 0, 1), 1)) as LogStoreError).code).toBe("UNKNOWN_PRODUCER_ID");
    expect(m.size).toBe(0);
  });

  it("rolls back batches whose offsets were given back, newest first", () => {
    const m = manager();
    m.record(p(1, 0, 0), 0, 0, false);
    m.record(p(1, 0, 1), 1, 1, true);
    m.record(p(2, 0, 0), 2, 2, true);
    m.record(p(1, 1, 0), 3, 3, true); // epoch bump, given back too
    m.rollback(1);
    expect(m.describe(1)).toEqual({ producerEpoch: 0, nextSequence: 1, lastOffset: 0 });
    expect(m.describe(2)).toBeUndefined();
  });

  it("round-trips through a snapshot and rejects damaged ones", () => {
    const m = manager(() => 5);
    m.record(p(1, 0, 0), 0, 1, false);
    m.record(p(2 ** 40, 7, 0), 2, 2, false);
    const bytes = m.encodeSnapshot(3);
    const copy = manager(() => 5);
    expect(copy.loadSnapshot(bytes)).toBe(3);
    expect(copy.describe(1)).toEqual({ producerEpoch: 0, nextSequence: 2, lastOffset: 1 });
    expect(copy.describe(2 ** 40)).toEqual({ producerEpoch: 7, nextSequence: 1, lastOffset: 2 });
    for (let i = 0; i < bytes.length; i++) {
      const bad = Buffer.from(bytes);
      bad[i] = bad[i]! ^ 0x10;
      expect(typeof manager().loadSnapshot(bad), `byte ${i}`).toBe("string");
    }
    expect(typeof manager().loadSnapshot(bytes.subarray(0, bytes.length - 1))).toBe("string");
  });
});

describe("idempotent appends on a PartitionLog", () => {
  it("writes producer id, epoch and base sequence into the header, inside the CRC", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir });
    await log.append(recs("plain"));
    await log.append(recs("a"), { producer: p(2 ** 40 + 3, 32767, 0) });
    await log.append(recs("a", "b"), { producer: p(2 ** 40 + 3, 32767, 1) });
    await log.close();
    const bytes = readFileSync(join(dir, "00000000000000000000.log"));
    const first = checkBatch(bytes, 0, bytes.length);
    if (!("size" in first)) throw new Error("bad first batch");
    expect(batchProducer(bytes, 0)).toBeUndefined();
    const second = checkBatch(bytes, first.size, bytes.length - first.size);
    if (!("size" in second)) throw new Error("bad second batch");
    const at = first.size + second.size;
    expect(checkBatch(bytes, at, bytes.length - at)).toMatchObject({ baseOffset: 2, lastOffset: 3 });
    expect(batchProducer(bytes, at)).toEqual({ producerId: 2 ** 40 + 3, producerEpoch: 32767, baseSequence: 1 });
    // A flipped bit anywhere in the producer fields fails the checksum.
    for (let byte = 43; byte < 57; byte++) {
      const flipped = Buffer.from(bytes);
      flipped[at + byte] = flipped[at + byte]! ^ 1;
      expect(checkBatch(flipped, at, flipped.length - at), `byte ${byte}`).toHaveProperty("corrupt");
    }
    const top = encodeBatch(recs("x"), 0, 0, false, { producerId: 2 ** 53 - 1, producerEpoch: 0, baseSequence: MAX_SEQUENCE }).buffer;
    expect(batchProducer(top, 0)).toEqual({ producerId: 2 ** 53 - 1, producerEpoch: 0, baseSequence: MAX_SEQUENCE });
    // The same bytes as the encoder writes for those fields.
    const encoded = encodeBatch(recs("x"), 0, 0, false, { producerId: 5, producerEpoch: 1, baseSequence: 9 }).buffer;
    expect(encoded.readBigInt64BE(43)).toBe(5n);
    expect(encoded.readInt16BE(51)).toBe(1);
    expect(encoded.readInt32BE(53)).toBe(9);
  });

  it("answers a retry with the original offsets and appends nothing", async () => {
    const log = await PartitionLog.open({ dir: tempDir() });
    expect(await log.append(recs("a", "b"), { producer: p(1, 0, 0) })).toEqual({ baseOffset: 0, lastOffset: 1 });
    await log.append(recs("other"));
    expect(await log.append(recs("c"), { producer: p(1, 0, 2) })).toEqual({ baseOffset: 3, lastOffset: 3 });
    expect(await log.append(recs("a", "b"), { producer: p(1, 0, 0) })).toEqual({ baseOffset: 0, lastOffset: 1, duplicate: true });
    expect(await log.append(recs("c"), { producer: p(1, 0, 2) })).toEqual({ baseOffset: 3, lastOffset: 3, duplicate: true });
    expect(log.logEndOffset).toBe(4);
    const gap = (await rejection(log.append(recs("e"), { producer: p(1, 0, 4) }))) as LogStoreError;
    expect(gap.code).toBe("OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(gap.producer).toEqual({ producerId: 1, producerEpoch: 0, expectedSequence: 3 });
    expect(((await rejection(log.append(recs("e"), { producer: p(2, 0, 1) }))) as LogStoreError).code).toBe("UNKNOWN_PRODUCER_ID");
    expect(log.logEndOffset).toBe(4);
    expect((await log.read(0)).records.map((r) => text(r.value))).toEqual(["a", "b", "other", "c"]);
    await log.close();
  });

  it("decides a producer's concurrent appends in call order, and a retry in flight waits for the original", async () => {
    const log = await PartitionLog.open({ dir: tempDir(), fsync: "always" });
    const first = log.append(recs("0"), { producer: p(1, 0, 0) });
    const second = log.append(recs("1", "2"), { producer: p(1, 0, 1) });
    const retry = log.append(recs("0"), { producer: p(1, 0, 0) });
    const outOfOrder = rejection(log.append(recs("4"), { producer: p(1, 0, 4) }));
    const third = log.append(recs("3"), { producer: p(1, 0, 3) });
    // Nothing is durable yet: the retry must not resolve before the original does.
    let retryDone = false;
    void retry.then(() => (retryDone = true));
    await Promise.resolve();
    expect(retryDone).toBe(false);
    expect(log.highWatermark).toBe(0);
    expect(await first).toEqual({ baseOffset: 0, lastOffset: 0 });
    expect(await second).toEqual({ baseOffset: 1, lastOffset: 2 });
    expect(await retry).toEqual({ baseOffset: 0, lastOffset: 0, duplicate: true });
    expect(((await outOfOrder) as LogStoreError).code).toBe("OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(await third).toEqual({ baseOffset: 3, lastOffset: 3 });
    await log.close();
  });

  it("refuses malformed producer fields with INVALID_REQUEST and an empty batch with INVALID_RECORD", async () => {
    const log = await PartitionLog.open({ dir: tempDir() });
    for (const bad of [null, {}, p(-1, 0, 0), p(1.5, 0, 0), p(2 ** 53, 0, 0), p(1, -1, 0), p(1, 32768, 0), p(1, 0, -1), p(1, 0, 2 ** 31)]) {
      const error = (await rejection(log.append(recs("x"), { producer: bad as never }))) as LogStoreError;
      expect(error.code, JSON.stringify(bad)).toBe("INVALID_REQUEST");
    }
    expect(((await rejection(log.append([], { producer: p(1, 0, 0) }))) as LogStoreError).code).toBe("INVALID_RECORD");
    // Nothing was recorded: sequence 0 still starts the producer.
    expect(await log.append(recs("x"), { producer: p(1, 0, 0) })).toEqual({ baseOffset: 0, lastOffset: 0 });
    await log.close();
  });
});
