// Idempotent producers: per partition, what each producer last appended (Kafka's ProducerStateManager).
//
// The truth is in the batch headers (producerId / producerEpoch / baseSequence, inside each batch's CRC);
// this is the in-memory view of them that decides each new append, plus its binary snapshot format
// (producer-snapshots.ts writes and reads the files, and rebuilds the view at open).
import { Buffer } from "node:buffer";
import { crc32c } from "./crc32c.js";
import { LogStoreError } from "./errors.js";
import type { AppendResult, ProducerSequence } from "./types.js";

/** Sequence numbers are Kafka's int32, counted per record, and wrap from this value back to 0. */
export const MAX_SEQUENCE = 2 ** 31 - 1;
/** Kafka's producer epoch is an int16. */
export const MAX_PRODUCER_EPOCH = 32767;
/** How many recent batches per producer are remembered for duplicate detection (Kafka: 5). */
export const RETAINED_BATCHES = 5;

/** One retained batch of a producer. */
export interface ProducerBatchMetadata {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  lastOffset: number;
  /** The append that wrote it, when it was written by this process: a duplicate resolves with it. */
  ack?: Promise<AppendResult> | undefined;
}

/** What the partition knows about one producer. */
export interface ProducerEntry {
  epoch: number;
  /** The most recent batches of the current epoch, oldest first (at most {@link RETAINED_BATCHES}). */
  batches: ProducerBatchMetadata[];
  /** When the producer last appended (ms, the store's clock), for expiration. */
  lastSeen: number;
}

/** The sequence `n` records after `sequence`, wrapping at int32 as Kafka does. */
export function addSequence(sequence: number, n: number): number {
  const sum = sequence + n;
  return sum > MAX_SEQUENCE ? sum - MAX_SEQUENCE - 1 : sum;
}

/** Checks the shape of an append's producer fields. @throws LogStoreError `INVALID_REQUEST` */
export function validateProducerSequence(producer: unknown): ProducerSequence {
  const p = producer as Partial<ProducerSequence> | null;
  if (typeof p !== "object" || p === null) throw new LogStoreError("INVALID_REQUEST", "producer must be { producerId, producerEpoch, sequence }");
  const { producerId, producerEpoch, sequence } = p;
  if (!Number.isSafeInteger(producerId) || producerId! < 0)
    throw new LogStoreError("INVALID_REQUEST", `producerId must be a non-negative safe integer, got ${String(producerId)}`);
  if (!Number.isInteger(producerEpoch) || producerEpoch! < 0 || producerEpoch! > MAX_PRODUCER_EPOCH)
    throw new LogStoreError("INVALID_REQUEST", `producerEpoch must be an integer from 0 to ${MAX_PRODUCER_EPOCH}, got ${String(producerEpoch)}`);
  if (!Number.isInteger(sequence) || sequence! < 0 || sequence! > MAX_SEQUENCE)
    throw new LogStoreError("INVALID_REQUEST", `sequence must be an integer from 0 to ${MAX_SEQUENCE}, got ${String(sequence)}`);
  return { producerId: producerId!, producerEpoch: producerEpoch!, sequence: sequence! };
}

function producerError(
  code: "OUT_OF_ORDER_SEQUENCE_NUMBER" | "INVALID_PRODUCER_EPOCH" | "UNKNOWN_PRODUCER_ID",
  message: string,
  producerId: number,
  entry: ProducerEntry | undefined,
): LogStoreError {
  const last = entry?.batches.at(-1);
  return new LogStoreError(code, message, {
    producer: {
      producerId,
      producerEpoch: entry?.epoch ?? -1,
      expectedSequence: entry === undefined ? 0 : last === undefined ? 0 : addSequence(last.lastSeq, 1),
    },
  });
}

interface Undo {
  baseOffset: number;
  producerId: number;
  previous: ProducerEntry | undefined;
}

const cloneEntry = (e: ProducerEntry): ProducerEntry => ({ epoch: e.epoch, lastSeen: e.lastSeen, batches: e.batches.slice() });

/**
 * The producer state of one partition. {@link ProducerStateManager.check} decides an append before it gets
 * offsets; {@link ProducerStateManager.record} applies it once written. Both run synchronously inside the
 * partition's `append`, which assigns offsets in call order without yielding, so two appends of one
 * producer are always decided in the order they were called.
 */
export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerEntry>();
  /** Batches recorded while queued behind a segment roll: a full disk may still give their offsets back. */
  private undo: Undo[] = [];
  /** Whether anything changed since the last snapshot was taken. */
  dirty = false;

  constructor(
    private readonly expirationMs: number,
    private readonly now: () => number,
  ) {}

  /** Number of producers known (expired ones may still be counted until {@link removeExpired}). */
  get size(): number {
    return this.producers.size;
  }

  /** The live entry of `producerId` (dropping it if it has expired). */
  entry(producerId: number): ProducerEntry | undefined {
    const entry = this.producers.get(producerId);
    if (entry !== undefined && this.now() - entry.lastSeen >= this.expirationMs) {
      this.producers.delete(producerId);
      this.dirty = true;
      return undefined;
    }
    return entry;
  }

  /**
   * Decides an append of `recordCount` records by `p`: returns the retained batch it duplicates (answer
   * with its offsets, append nothing), or `undefined` to append it.
   * @throws LogStoreError `INVALID_PRODUCER_EPOCH` (an older epoch: fenced), `OUT_OF_ORDER_SEQUENCE_NUMBER`
   *   (a gap or reordering in the current epoch, or a new epoch not starting at 0), `UNKNOWN_PRODUCER_ID`
   *   (no state for the producer, and the batch does not start at sequence 0).
   */
  check(p: ProducerSequence, recordCount: number): ProducerBatchMetadata | undefined {
    const entry = this.entry(p.producerId);
    if (entry === undefined) {
      if (p.sequence !== 0)
        throw producerError(
          "UNKNOWN_PRODUCER_ID",
          `producer ${p.producerId} has no state in this partition (never seen, or idle past the expiration), so sequence ${p.sequence} cannot be checked; a new producer starts at sequence 0`,
          p.producerId,
          undefined,
        );
      return undefined;
    }
    if (p.producerEpoch < entry.epoch)
      throw producerError(
        "INVALID_PRODUCER_EPOCH",
        `producer ${p.producerId} epoch ${p.producerEpoch} is fenced: the partition has seen epoch ${entry.epoch}`,
        p.producerId,
        entry,
      );
    if (p.producerEpoch > entry.epoch) {
      if (p.sequence !== 0)
        throw producerError(
          "OUT_OF_ORDER_SEQUENCE_NUMBER",
          `producer ${p.producerId} new epoch ${p.producerEpoch} must start at sequence 0, got ${p.sequence}`,
          p.producerId,
          entry,
        );
      return undefined;
    }
    const lastSeq = addSequence(p.sequence, recordCount - 1);
    for (const batch of entry.batches) if (batch.firstSeq === p.sequence && batch.lastSeq === lastSeq) return batch;
    const last = entry.batches.at(-1);
    const expected = last === undefined ? 0 : addSequence(last.lastSeq, 1);
    if (p.sequence !== expected)
      throw producerError(
        "OUT_OF_ORDER_SEQUENCE_NUMBER",
        `producer ${p.producerId} epoch ${p.producerEpoch}: sequence ${p.sequence}, expected ${expected}`,
        p.producerId,
        entry,
      );
    return undefined;
  }

  /**
   * Applies an appended batch (checked with {@link check}) written at `baseOffset..lastOffset`. With
   * `undoable`, {@link rollback} can take it back (a batch queued behind a segment roll).
   */
  record(p: ProducerSequence, baseOffset: number, lastOffset: number, undoable: boolean): ProducerBatchMetadata {
    const previous = this.producers.get(p.producerId);
    // A batch written at once means no earlier one can still be given back.
    if (!undoable) this.undo.length = 0;
    else this.undo.push({ baseOffset, producerId: p.producerId, previous: previous && cloneEntry(previous) });
    const batch: ProducerBatchMetadata = {
      firstSeq: p.sequence,
      lastSeq: addSequence(p.sequence, lastOffset - baseOffset),
      baseOffset,
      lastOffset,
    };
    this.apply(p.producerId, p.producerEpoch, batch, this.now());
    return batch;
  }

  /** Replays a batch found in the log (recovery): the log's order is the truth, nothing is checked. */
  replay(producerId: number, epoch: number, baseSequence: number, baseOffset: number, lastOffset: number, seen: number): void {
    this.apply(
      producerId,
      epoch,
      { firstSeq: baseSequence, lastSeq: addSequence(baseSequence, lastOffset - baseOffset), baseOffset, lastOffset },
      seen,
    );
  }

  private apply(producerId: number, epoch: number, batch: ProducerBatchMetadata, seen: number): void {
    let entry = this.producers.get(producerId);
    if (entry === undefined || entry.epoch !== epoch) {
      entry = { epoch, batches: [], lastSeen: seen };
      this.producers.set(producerId, entry);
    }
    entry.batches.push(batch);
    if (entry.batches.length > RETAINED_BATCHES) entry.batches.shift();
    entry.lastSeen = Math.max(entry.lastSeen, seen);
    this.dirty = true;
  }

  /** Forgets the undo records of batches below `offset` (they are durable: nothing takes them back). */
  forgetUndo(offset: number): void {
    const undo = this.undo;
    if (undo.length === 0 || undo[0]!.baseOffset >= offset) return;
    let keep = 0;
    while (keep < undo.length && undo[keep]!.baseOffset < offset) keep++;
    undo.splice(0, keep);
  }

  /** Takes back every undoable batch at `offset` or later (their offsets were given back), newest first. */
  rollback(offset: number): void {
    while (this.undo.length > 0 && this.undo.at(-1)!.baseOffset >= offset) {
      const { producerId, previous } = this.undo.pop()!;
      if (previous === undefined) this.producers.delete(producerId);
      else this.producers.set(producerId, previous);
    }
  }

  /** Drops producers idle past the expiration; returns how many. */
  removeExpired(): number {
    const now = this.now();
    let removed = 0;
    for (const [id, entry] of this.producers) {
      if (now - entry.lastSeen >= this.expirationMs) {
        this.producers.delete(id);
        removed++;
      }
    }
    if (removed > 0) this.dirty = true;
    return removed;
  }

  /** The producer's current epoch and next expected sequence, or `undefined` if unknown. */
  describe(producerId: number): { producerEpoch: number; nextSequence: number; lastOffset: number } | undefined {
    const entry = this.entry(producerId);
    const last = entry?.batches.at(-1);
    if (entry === undefined || last === undefined) return undefined;
    return { producerEpoch: entry.epoch, nextSequence: addSequence(last.lastSeq, 1), lastOffset: last.lastOffset };
  }

  /**
   * The state as a snapshot file's bytes, valid for the log up to `offset` (exclusive). Expired producers
   * are left out.
   *
   * Layout: magic "MKPS" | version u8 (1) | offset int64 | producer count u32 | per producer: producerId
   * int64, epoch int16, lastSeen int64, batch count u8, per batch: firstSeq int32, lastSeq int32, baseOffset
   * int64, lastOffset int64 | CRC-32C u32 of everything before it.
   */
  encodeSnapshot(offset: number): Buffer {
    this.removeExpired();
    let size = 4 + 1 + 8 + 4 + 4;
    for (const entry of this.producers.values()) size += 8 + 2 + 8 + 1 + entry.batches.length * 24;
    const buf = Buffer.alloc(size);
    buf.write("MKPS", 0, "latin1");
    buf[4] = 1;
    let pos = 5;
    const int64 = (n: number) => {
      buf.writeBigInt64BE(BigInt(n), pos);
      pos += 8;
    };
    int64(offset);
    buf.writeUInt32BE(this.producers.size, pos);
    pos += 4;
    for (const [id, entry] of this.producers) {
      int64(id);
      buf.writeInt16BE(entry.epoch, pos);
      pos += 2;
      int64(entry.lastSeen);
      buf[pos++] = entry.batches.length;
      for (const b of entry.batches) {
        buf.writeInt32BE(b.firstSeq, pos);
        buf.writeInt32BE(b.lastSeq, pos + 4);
        pos += 8;
        int64(b.baseOffset);
        int64(b.lastOffset);
      }
    }
    buf.writeUInt32BE(crc32c(buf, 0, pos), pos);
    this.dirty = false;
    return buf;
  }

  /**
   * Replaces the state with a snapshot's; returns the offset it is valid up to, or a reason string when the
   * bytes are not a valid snapshot (then the state is unchanged).
   */
  loadSnapshot(buf: Uint8Array): number | string {
    const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    if (b.length < 21 || b.toString("latin1", 0, 4) !== "MKPS") return "not a producer snapshot";
    if (b[4] !== 1) return `unsupported snapshot version ${b[4]}`;
    if (b.readUInt32BE(b.length - 4) !== crc32c(b, 0, b.length - 4)) return "checksum mismatch";
    const loaded = new Map<number, ProducerEntry>();
    let pos = 5;
    const int64 = () => {
      const n = Number(b.readBigInt64BE(pos));
      pos += 8;
      return n;
    };
    try {
      const offset = int64();
      const count = b.readUInt32BE(pos);
      pos += 4;
      for (let i = 0; i < count; i++) {
        const id = int64();
        const epoch = b.readInt16BE(pos);
        pos += 2;
        const lastSeen = int64();
        const n = b[pos++]!;
        const batches: ProducerBatchMetadata[] = [];
        for (let j = 0; j < n; j++) {
          const firstSeq = b.readInt32BE(pos);
          const lastSeq = b.readInt32BE(pos + 4);
          pos += 8;
          batches.push({ firstSeq, lastSeq, baseOffset: int64(), lastOffset: int64() });
        }
        loaded.set(id, { epoch, lastSeen, batches });
      }
      if (pos !== b.length - 4) return `snapshot has ${b.length - 4 - pos} bytes of trailing garbage`;
      this.producers.clear();
      for (const [id, entry] of loaded) this.producers.set(id, entry);
      this.undo.length = 0;
      this.dirty = false;
      return offset;
    } catch {
      return "snapshot is truncated";
    }
  }
}
