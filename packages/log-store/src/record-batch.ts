// Kafka RecordBatch v2, byte for byte (uncompressed, non-transactional):
//
//   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 (=2) | crc uint32 |
//   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
//   producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records
//
// producerId / producerEpoch / baseSequence are -1 for a plain append and carry the idempotent producer's
// fields otherwise (producer-state.ts): they lie inside the CRC, so they are committed atomically with the data.
//
// crc is CRC-32C over attributes..end. Each record: length varint | attributes int8 | timestampDelta varlong |
// offsetDelta varint | keyLength varint | key | valueLength varint | value | headerCount varint |
// headers (keyLength varint | key utf8 | valueLength varint | value). Varints are zigzag-encoded; -1 = null.
import { Buffer } from "node:buffer";
import { crc32c } from "./crc32c.js";
import { LogStoreError } from "./errors.js";
import type { EpochLookup } from "./leader-epoch-cache.js";
import type { RecordHeaders, RecordInput, StoredRecord } from "./types.js";

/** baseOffset + batchLength: the bytes before `batchLength` starts counting. */
export const LOG_OVERHEAD = 12;
/** Size of the fixed batch header, up to and including recordCount. */
export const BATCH_HEADER_SIZE = 61;
/** The largest batch we write or accept (Kafka's int32 length allows 2 GiB; keep well clear). */
export const MAX_BATCH_BYTES = 1 << 30;

const OFF_BATCH_LENGTH = 8;
const OFF_LEADER_EPOCH = 12;
const OFF_MAGIC = 16;
const OFF_CRC = 17;
const OFF_ATTRIBUTES = 21;
const OFF_LAST_OFFSET_DELTA = 23;
const OFF_BASE_TIMESTAMP = 27;
const OFF_MAX_TIMESTAMP = 35;
const OFF_PRODUCER_ID = 43;
const OFF_PRODUCER_EPOCH = 51;
const OFF_BASE_SEQUENCE = 53;
const OFF_RECORD_COUNT = 57;
const TWO_32 = 4294967296;
const EMPTY_HEADERS: RecordHeaders = Object.freeze({});

function writeInt64(buf: Buffer, pos: number, n: number): void {
  const hi = Math.floor(n / TWO_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(n - hi * TWO_32, pos + 4);
}

function readInt64(buf: Uint8Array, pos: number): number {
  const hi = (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
  const lo = ((buf[pos + 4]! << 24) | (buf[pos + 5]! << 16) | (buf[pos + 6]! << 8) | buf[pos + 7]!) >>> 0;
  return hi * TWO_32 + lo;
}

function readInt32(buf: Uint8Array, pos: number): number {
  return (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
}

const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);
const unzigzag = (u: number): number => (u % 2 === 0 ? u / 2 : -(u + 1) / 2);

/** Bytes of the unsigned varint `u` (a non-negative safe integer). Small values first: they are the usual ones. */
function uvarintSize(u: number): number {
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x200000) return 3;
  if (u < 0x10000000) return 4;
  let size = 5;
  for (u = Math.floor(u / 0x800000000); u >= 1; u = Math.floor(u / 128)) size++;
  return size;
}

const varintSize = (n: number): number => uvarintSize(zigzag(n));

function writeVarint(buf: Buffer, pos: number, n: number): number {
  let u = zigzag(n);
  if (u < 0x80) {
    buf[pos] = u;
    return pos + 1;
  }
  // Above 2^31 shifts would overflow: divide until the rest fits, then shift.
  while (u > 0x7fffffff) {
    buf[pos++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

function dataLength(data: Uint8Array | string | null): number {
  if (data === null) return -1;
  return typeof data === "string" ? Buffer.byteLength(data, "utf8") : data.length;
}

function writeData(buf: Buffer, pos: number, data: Uint8Array | string | null, length: number): number {
  pos = writeVarint(buf, pos, length);
  if (data === null) return pos;
  if (typeof data === "string") buf.write(data, pos, length, "utf8");
  else if (length > 16) buf.set(data, pos);
  else for (let i = 0; i < length; i++) buf[pos + i] = data[i]!; // a call to set costs more than a few bytes
  return pos + length;
}

function isData(x: unknown): x is Uint8Array | string | null {
  return x === null || typeof x === "string" || x instanceof Uint8Array;
}

function invalid(index: number, message: string): LogStoreError {
  return new LogStoreError("INVALID_RECORD", `record ${index}: ${message}`);
}

function headersSize(headers: RecordInput["headers"], index: number): number {
  if (headers === undefined || headers === null) return 1;
  if (typeof headers !== "object" || Array.isArray(headers)) throw invalid(index, "headers must be an object of name → value");
  let size = 0;
  let count = 0;
  for (const name in headers) {
    if (!Object.prototype.hasOwnProperty.call(headers, name)) continue;
    const value = headers[name];
    if (!isData(value)) throw invalid(index, `header "${name}" must be bytes, a string or null`);
    const nameLength = Buffer.byteLength(name, "utf8");
    const valueLength = dataLength(value);
    size += varintSize(nameLength) + nameLength + varintSize(valueLength) + Math.max(valueLength, 0);
    count++;
  }
  return size + varintSize(count);
}

function writeHeaders(buf: Buffer, pos: number, headers: RecordInput["headers"]): number {
  if (headers === undefined || headers === null) {
    buf[pos] = 0;
    return pos + 1;
  }
  let count = 0;
  for (const name in headers) if (Object.prototype.hasOwnProperty.call(headers, name)) count++;
  pos = writeVarint(buf, pos, count);
  for (const name in headers) {
    if (!Object.prototype.hasOwnProperty.call(headers, name)) continue;
    pos = writeData(buf, pos, name, Buffer.byteLength(name, "utf8"));
    const value = headers[name]!;
    pos = writeData(buf, pos, value, dataLength(value));
  }
  return pos;
}

// Scratch space reused across encodes (one encode runs at a time: JavaScript is single-threaded).
let scratchKeyLen = new Int32Array(1024);
let scratchValueLen = new Int32Array(1024);
let scratchBodyLen = new Int32Array(1024);
let scratchTimestamp = new Float64Array(1024);

/** An encoded batch, ready to be written at `baseOffset`. */
export interface EncodedBatch {
  buffer: Buffer;
  recordCount: number;
  maxTimestamp: number;
}

/** The idempotent producer fields of a batch header (Kafka's producerId, producerEpoch, baseSequence). */
export interface BatchProducer {
  producerId: number;
  producerEpoch: number;
  /** Sequence number of the batch's first record. */
  baseSequence: number;
}

/** Batches up to this size can be encoded into the shared scratch buffer. */
const SCRATCH_BATCH_LIMIT = 4 * 1024 * 1024;
let scratchBatch = Buffer.allocUnsafeSlow(64 * 1024);

// What the last measureRecords found (module-level: no object per call).
let measuredBaseTimestamp = 0;
let measuredMaxTimestamp = -1;

/**
 * Pass 1 of an encode: validates `records` and sizes each one (into the scratch arrays), as the records at
 * offset deltas `firstDelta`, `firstDelta + 1`, ... of a batch whose base timestamp is `baseTimestamp`
 * (`fresh`: the first record's, as in a new batch). Returns the bytes the records take (length prefixes
 * included); sets `measuredBaseTimestamp` and `measuredMaxTimestamp`.
 * @throws LogStoreError `INVALID_RECORD` for a malformed record or more than {@link MAX_BATCH_BYTES}
 */
function measureRecords(records: readonly RecordInput[], firstDelta: number, fresh: boolean, baseTimestamp: number, now: number): number {
  const count = records.length;
  if (count > scratchKeyLen.length) {
    const size = Math.max(count, scratchKeyLen.length * 2);
    scratchKeyLen = new Int32Array(size);
    scratchValueLen = new Int32Array(size);
    scratchBodyLen = new Int32Array(size);
    scratchTimestamp = new Float64Array(size);
  }
  let maxTimestamp = -1;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const record = records[i];
    if (typeof record !== "object" || record === null) throw invalid(i, "must be an object with a value");
    const { key, value, timestamp, headers } = record;
    let valueLength: number;
    if (value instanceof Uint8Array) valueLength = value.length;
    else if (isData(value)) valueLength = dataLength(value);
    else throw invalid(i, "value must be bytes, a string or null");
    let keyLength = -1;
    if (key !== undefined) {
      if (!isData(key)) throw invalid(i, "key must be bytes, a string or null");
      keyLength = dataLength(key);
    }
    let ts = now;
    if (timestamp !== undefined) {
      if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw invalid(i, `timestamp ${String(timestamp)} must be a non-negative integer (ms)`);
      ts = timestamp;
    }
    if (i === 0 && fresh) baseTimestamp = ts;
    if (ts > maxTimestamp) maxTimestamp = ts;
    const delta = firstDelta + i;
    const body =
      2 + // attributes, and the one-byte null key or the key's length
      (ts === baseTimestamp ? 1 : varintSize(ts - baseTimestamp)) +
      (delta < 64 ? 1 : varintSize(delta)) +
      (keyLength < 0 ? 0 : varintSize(keyLength) - 1 + keyLength) +
      (valueLength < 0 ? 1 : uvarintSize(valueLength * 2) + valueLength) +
      (headers === undefined || headers === null ? 1 : headersSize(headers, i));
    scratchKeyLen[i] = keyLength;
    scratchValueLen[i] = valueLength;
    scratchBodyLen[i] = body;
    scratchTimestamp[i] = ts;
    total += (body < 64 ? 1 : varintSize(body)) + body;
    if (total > MAX_BATCH_BYTES - BATCH_HEADER_SIZE)
      throw new LogStoreError("INVALID_RECORD", `batch exceeds the maximum of ${MAX_BATCH_BYTES} bytes`);
  }
  measuredBaseTimestamp = baseTimestamp;
  measuredMaxTimestamp = maxTimestamp;
  return total;
}

/**
 * Pass 2: writes the records just measured ({@link measureRecords}, same arguments) at `buf[pos]`;
 * returns the position after them.
 */
function writeRecords(buf: Buffer, pos: number, records: readonly RecordInput[], firstDelta: number, baseTimestamp: number): number {
  const count = records.length;
  // One-byte varints (zigzag < 128, i.e. 0..63) and byte values without headers are written inline: this
  // loop runs once per record of every append.
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    const body = scratchBodyLen[i]!;
    if (body < 64) buf[pos++] = body * 2;
    else pos = writeVarint(buf, pos, body);
    buf[pos++] = 0; // record attributes
    const timestampDelta = scratchTimestamp[i]! - baseTimestamp;
    if (timestampDelta >= 0 && timestampDelta < 64) buf[pos++] = timestampDelta * 2;
    else pos = writeVarint(buf, pos, timestampDelta);
    const delta = firstDelta + i;
    if (delta < 64) buf[pos++] = delta * 2;
    else pos = writeVarint(buf, pos, delta);
    const keyLength = scratchKeyLen[i]!;
    if (keyLength < 0)
      buf[pos++] = 1; // zigzag(-1): null
    else pos = writeData(buf, pos, record.key!, keyLength);
    const value = record.value;
    const valueLength = scratchValueLen[i]!;
    if (typeof value === "object" && value !== null && valueLength > 16) {
      pos = writeVarint(buf, pos, valueLength);
      buf.set(value, pos);
      pos += valueLength;
    } else pos = writeData(buf, pos, value, valueLength);
    const headers = record.headers;
    if (headers === undefined || headers === null) buf[pos++] = 0;
    else pos = writeHeaders(buf, pos, headers);
  }
  return pos;
}

/** Writes the header of a batch of `count` records that takes `buf[at, at + total)`, then its CRC. */
function writeHeader(
  buf: Buffer,
  at: number,
  total: number,
  baseOffset: number,
  count: number,
  baseTimestamp: number,
  maxTimestamp: number,
  producer: BatchProducer | undefined,
  leaderEpoch: number,
): void {
  writeInt64(buf, at, baseOffset);
  buf.writeInt32BE(total - LOG_OVERHEAD, at + OFF_BATCH_LENGTH);
  buf.writeInt32BE(leaderEpoch, at + OFF_LEADER_EPOCH);
  buf[at + OFF_MAGIC] = 2;
  buf.writeInt16BE(0, at + OFF_ATTRIBUTES); // no compression, create time, not transactional
  buf.writeInt32BE(count - 1, at + OFF_LAST_OFFSET_DELTA);
  writeInt64(buf, at + OFF_BASE_TIMESTAMP, baseTimestamp);
  writeInt64(buf, at + OFF_MAX_TIMESTAMP, maxTimestamp);
  if (producer === undefined) {
    writeInt64(buf, at + OFF_PRODUCER_ID, -1);
    buf.writeInt16BE(-1, at + OFF_PRODUCER_EPOCH);
    buf.writeInt32BE(-1, at + OFF_BASE_SEQUENCE);
  } else {
    writeInt64(buf, at + OFF_PRODUCER_ID, producer.producerId);
    buf.writeInt16BE(producer.producerEpoch, at + OFF_PRODUCER_EPOCH);
    buf.writeInt32BE(producer.baseSequence, at + OFF_BASE_SEQUENCE);
  }
  buf.writeInt32BE(count, at + OFF_RECORD_COUNT);
  buf.writeUInt32BE(crc32c(buf, at + OFF_ATTRIBUTES, at + total), at + OFF_CRC);
}

/**
 * Encodes `records` as one RecordBatch v2 with offsets starting at `baseOffset`, stamped with `leaderEpoch`.
 *
 * With `scratch`, a batch of up to 4 MiB is written into a buffer shared by all calls, valid only until the
 * next `encodeBatch`: for callers that write it out at once. A fresh buffer per batch costs a page fault
 * per 4 KiB touched, which is most of the encoding time for large batches.
 * @throws LogStoreError `INVALID_RECORD` for a malformed record, an empty list or an oversized batch.
 */
export function encodeBatch(
  records: readonly RecordInput[],
  baseOffset: number,
  now: number,
  scratch = false,
  producer?: BatchProducer,
  leaderEpoch = 0,
): EncodedBatch {
  if (!Array.isArray(records)) throw new LogStoreError("INVALID_RECORD", "records must be an array");
  const count = records.length;
  if (count === 0) throw new LogStoreError("INVALID_RECORD", "a batch needs at least one record");
  // Pass 1: validate and size everything, so the batch is written into one exact allocation.
  const total = BATCH_HEADER_SIZE + measureRecords(records, 0, true, 0, now);
  const baseTimestamp = measuredBaseTimestamp;
  const maxTimestamp = measuredMaxTimestamp;
  // Pass 2: write.
  let buf: Buffer;
  if (scratch && total <= SCRATCH_BATCH_LIMIT) {
    if (scratchBatch.length < total) scratchBatch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_BATCH_LIMIT, 2 ** Math.ceil(Math.log2(total))));
    buf = scratchBatch.subarray(0, total);
  } else buf = Buffer.allocUnsafe(total);
  writeRecords(buf, BATCH_HEADER_SIZE, records, 0, baseTimestamp);
  writeHeader(buf, 0, total, baseOffset, count, baseTimestamp, maxTimestamp, producer, leaderEpoch);
  return { buffer: buf, recordCount: count, maxTimestamp };
}

/**
 * Builds one batch without a producer from several appends (journal mode: the appends that arrive for a
 * partition while its journal round is open become one batch). The bytes live in a buffer the caller owns
 * (a segment's tail, which may move between calls): each call is given it and where the batch starts in it.
 * Sequence: {@link start}, then per append {@link measure} and, right after it (no other encode between),
 * {@link write}; finally {@link finish}.
 */
export class BatchBuilder {
  /** Bytes of the batch so far, header included. */
  length = 0;
  /** Records in the batch so far. */
  count = 0;
  baseOffset = 0;
  /** The leader epoch the batch is stamped with. */
  epoch = 0;
  baseTimestamp = 0;
  maxTimestamp = -1;

  /** Starts an empty batch at `baseOffset`. */
  start(baseOffset: number, epoch: number): void {
    this.length = BATCH_HEADER_SIZE;
    this.count = 0;
    this.baseOffset = baseOffset;
    this.epoch = epoch;
    this.maxTimestamp = -1;
  }

  /**
   * Validates `records` and returns the bytes they would add to the batch.
   * @throws LogStoreError `INVALID_RECORD` (nothing changes)
   */
  measure(records: readonly RecordInput[], now: number): number {
    if (!Array.isArray(records)) throw new LogStoreError("INVALID_RECORD", "records must be an array");
    if (records.length === 0) throw new LogStoreError("INVALID_RECORD", "a batch needs at least one record");
    return measureRecords(records, this.count, this.count === 0, this.baseTimestamp, now);
  }

  /** Adds the records just measured (`bytes` of them) to the batch that starts at `buf[at]`. */
  write(buf: Buffer, at: number, records: readonly RecordInput[], bytes: number): void {
    if (this.count === 0) this.baseTimestamp = measuredBaseTimestamp;
    writeRecords(buf, at + this.length, records, this.count, this.baseTimestamp);
    this.length += bytes;
    this.count += records.length;
    if (measuredMaxTimestamp > this.maxTimestamp) this.maxTimestamp = measuredMaxTimestamp;
  }

  /** Writes the header and checksum of the batch that starts at `buf[at]` (it has at least one record). */
  finish(buf: Buffer, at: number): void {
    writeHeader(buf, at, this.length, this.baseOffset, this.count, this.baseTimestamp, this.maxTimestamp, undefined, this.epoch);
  }
}

/** The fields of a batch header that the log needs. */
export interface BatchHeader {
  baseOffset: number;
  /** Total size of the batch in bytes, `LOG_OVERHEAD + batchLength`. */
  size: number;
  /** `baseOffset + lastOffsetDelta`. */
  lastOffset: number;
  maxTimestamp: number;
  /** The batch's partitionLeaderEpoch. */
  leaderEpoch: number;
}

/**
 * Checks the batch starting at `buf[pos]` with `available` bytes present from there.
 * Returns its header, `"incomplete"` when more bytes are needed (`needed` says how many in total, when
 * known), or a reason string when the bytes cannot be a valid batch.
 *
 * `epochs` says which leader epoch a stored batch at each offset must carry (the partition's
 * leader-epoch cache); without it, the batch must carry 0. `null`: any epoch from 0 up is accepted
 * (batches arriving from a leader, checked against the cache by the caller).
 */
export function checkBatch(
  buf: Uint8Array,
  pos: number,
  available: number,
  verifyCrc = true,
  epochs?: EpochLookup | null,
): BatchHeader | { incomplete: true; needed: number } | { corrupt: string } {
  if (available < BATCH_HEADER_SIZE) return { incomplete: true, needed: BATCH_HEADER_SIZE };
  const batchLength = readInt32(buf, pos + OFF_BATCH_LENGTH);
  const size = LOG_OVERHEAD + batchLength;
  if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD || size > MAX_BATCH_BYTES) return { corrupt: `impossible batch length ${batchLength}` };
  if (buf[pos + OFF_MAGIC] !== 2) return { corrupt: `unsupported magic byte ${buf[pos + OFF_MAGIC]}` };
  // Kafka leaves partitionLeaderEpoch outside the CRC (a leader rewrites it). The partition's epoch cache
  // says which epoch each offset was written in, so anything else is damage the checksum cannot see.
  const leaderEpoch = readInt32(buf, pos + OFF_LEADER_EPOCH);
  if (epochs === null) {
    if (leaderEpoch < 0) return { corrupt: `partition leader epoch ${leaderEpoch} is negative` };
  } else {
    const expected = epochs === undefined ? 0 : epochs.epochAt(readInt64(buf, pos));
    if (leaderEpoch !== expected) return { corrupt: `partition leader epoch ${leaderEpoch}, expected ${expected}` };
  }
  if (available < size) return { incomplete: true, needed: size };
  const lastOffsetDelta = readInt32(buf, pos + OFF_LAST_OFFSET_DELTA);
  const count = readInt32(buf, pos + OFF_RECORD_COUNT);
  if (count < 1 || lastOffsetDelta !== count - 1) return { corrupt: `record count ${count} does not match last offset delta ${lastOffsetDelta}` };
  if (verifyCrc) {
    const stored = readInt32(buf, pos + OFF_CRC) >>> 0;
    const actual = crc32c(buf, pos + OFF_ATTRIBUTES, pos + size);
    if (stored !== actual) return { corrupt: `checksum mismatch (stored ${stored}, computed ${actual})` };
  }
  const baseOffset = readInt64(buf, pos);
  return { baseOffset, size, lastOffset: baseOffset + lastOffsetDelta, maxTimestamp: readInt64(buf, pos + OFF_MAX_TIMESTAMP), leaderEpoch };
}

/** The base and last offset in the header of the batch at `buf[pos]` (at least {@link BATCH_HEADER_SIZE} bytes). */
export function batchOffsets(buf: Uint8Array, pos: number): { baseOffset: number; lastOffset: number } {
  const baseOffset = readInt64(buf, pos);
  return { baseOffset, lastOffset: baseOffset + readInt32(buf, pos + OFF_LAST_OFFSET_DELTA) };
}

/**
 * The producer fields of the batch at `buf[pos]` (checked with {@link checkBatch}, checksum included), or
 * `undefined` for a batch without a producer (producerId -1).
 */
export function batchProducer(buf: Uint8Array, pos: number): BatchProducer | undefined {
  const producerId = readInt64(buf, pos + OFF_PRODUCER_ID);
  if (producerId < 0) return undefined;
  const producerEpoch = ((buf[pos + OFF_PRODUCER_EPOCH]! << 24) | (buf[pos + OFF_PRODUCER_EPOCH + 1]! << 16)) >> 16;
  return { producerId, producerEpoch, baseSequence: readInt32(buf, pos + OFF_BASE_SEQUENCE) };
}

// Decoding cursor (module-level to avoid allocating a cursor object per record).
let cur = 0;
let limit = 0;

class Truncated extends Error {}

function readUVarint(buf: Uint8Array): number {
  if (cur >= limit) throw new Truncated();
  let b = buf[cur++]!;
  if (b < 128) return b;
  let result = b & 0x7f;
  let mul = 128;
  for (let i = 1; i < 10; i++) {
    if (cur >= limit) throw new Truncated();
    b = buf[cur++]!;
    result += (b & 0x7f) * mul;
    if (b < 128) return result;
    mul *= 128;
  }
  throw new Truncated();
}

const readVarint = (buf: Uint8Array): number => unzigzag(readUVarint(buf));

function readBytes(buf: Uint8Array): Uint8Array | null {
  const length = readVarint(buf);
  if (length < 0) return null;
  const start = cur;
  cur += length;
  if (cur > limit) throw new Truncated();
  // A plain view, not a Buffer: Buffer.subarray costs about twice as much, once per key and value read.
  return new Uint8Array(buf.buffer, buf.byteOffset + start, length);
}

const textDecoder = new TextDecoder();

/**
 * Decodes the records of the valid batch at `buf[pos]` (checked with {@link checkBatch}) whose offsets
 * are ≥ `fromOffset`, appending at most `maxRecords` of them to `out`. Keys, values and header values
 * are views into `buf`. Returns how many records were appended.
 * @throws Error when the records do not fit the batch (the caller reports it as corruption).
 */
export function decodeRecords(
  buf: Uint8Array,
  pos: number,
  header: BatchHeader,
  fromOffset: number,
  maxRecords: number,
  out: StoredRecord[],
): number {
  const baseTimestamp = readInt64(buf, pos + OFF_BASE_TIMESTAMP);
  const attributes = (buf[pos + OFF_ATTRIBUTES]! << 8) | buf[pos + OFF_ATTRIBUTES + 1]!;
  if ((attributes & 0x07) !== 0) throw new Error("compressed batches are not supported");
  const batchEnd = pos + header.size;
  cur = pos + BATCH_HEADER_SIZE;
  limit = batchEnd;
  let added = 0;
  try {
    for (let i = header.lastOffset - header.baseOffset; i >= 0 && added < maxRecords; i--) {
      const length = readVarint(buf);
      const recordEnd = cur + length;
      if (length < 0 || recordEnd > batchEnd) throw new Truncated();
      cur++; // record attributes
      const timestampDelta = readVarint(buf);
      const offset = header.baseOffset + readVarint(buf);
      if (offset < fromOffset) {
        cur = recordEnd;
        continue;
      }
      limit = recordEnd;
      const key = readBytes(buf);
      const value = readBytes(buf);
      const headerCount = readVarint(buf);
      let headers = EMPTY_HEADERS;
      if (headerCount > 0) {
        // No prototype: a header may be named "__proto__" (or "constructor") and must come back as an own key.
        const h: Record<string, Uint8Array | null> = Object.create(null);
        for (let j = 0; j < headerCount; j++) {
          const name = readBytes(buf);
          h[name === null ? "" : textDecoder.decode(name)] = readBytes(buf);
        }
        headers = h;
      }
      limit = batchEnd;
      cur = recordEnd;
      out.push({ offset, timestamp: baseTimestamp + timestampDelta, key, value, headers });
      added++;
    }
  } catch (error) {
    if (error instanceof Truncated) throw new Error("record extends past the end of its batch");
    throw error;
  }
  return added;
}
