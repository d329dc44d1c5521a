import type { StoredRecord } from "@minikafka/log-store";
// Keys, values and header values travel in JSON as UTF-8 text (default) or base64 bytes. Node's Buffer
// is used when present (fast, no copies); elsewhere atob/btoa, so the app stays runtime-agnostic.
import { BrokerError } from "./errors.js";

/** How bytes are written in JSON. */
export type Encoding = "utf8" | "base64";

interface BufferLike {
  isBuffer(value: unknown): boolean;
  from(data: string, encoding: "base64"): Uint8Array;
  from(data: ArrayBufferLike, byteOffset: number, length: number): { toString(encoding: "base64" | "utf8"): string };
}
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** UTF-8 bytes of a string. */
export function utf8Bytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/**
 * Bytes of a base64 string (standard alphabet, padded).
 * @throws BrokerError `INVALID_RECORD` naming `what` when the text is not base64.
 */
export function base64Bytes(text: string, what: string): Uint8Array {
  if (!BASE64.test(text)) throw new BrokerError("INVALID_RECORD", `${what} is not valid base64`);
  if (NodeBuffer !== undefined) return NodeBuffer.from(text, "base64");
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Stored bytes as JSON text: UTF-8 decoded (invalid sequences become U+FFFD) or base64. */
export function encodeBytes(bytes: Uint8Array | null, encoding: Encoding): string | null {
  if (bytes === null) return null;
  if (NodeBuffer !== undefined) {
    // log-store hands out plain Uint8Array views (cheaper to create than Buffers): wrap the view in a
    // Buffer over the same memory (no copy) to decode it. A store that hands out Buffers is decoded as is.
    if (NodeBuffer.isBuffer(bytes)) return (bytes as unknown as { toString(encoding: Encoding): string }).toString(encoding);
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding);
  }
  if (encoding === "utf8") return utf8Decoder.decode(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary);
}

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (ch) => ch.charCodeAt(0));
const TIMESTAMP = ascii(',"timestamp":');
const KEY = ascii(',"key":');
const VALUE = ascii(',"value":');
const HEADERS = ascii(',"headers":{');
const NULL = ascii("null");
/** Bytes a record's fixed part can take besides its prefix, key and value: the member names and punctuation
 * above, "}}" and two integers of at most 16 digits. */
const RECORD_FIXED_BYTES = TIMESTAMP.length + KEY.length + VALUE.length + HEADERS.length + 2 + 2 * 16;

/** Copies short `src` into `buf` at `pos` by hand (cheaper than `set` for a few dozen bytes); returns the end. */
function put(buf: Uint8Array, pos: number, src: Uint8Array): number {
  for (let i = 0; i < src.length; i++) buf[pos++] = src[i]!;
  return pos;
}

/** Writes the non-negative safe integer `n` in decimal at `pos`; returns the end. Integer math below 2^31. */
function putUint(buf: Uint8Array, pos: number, n: number): number {
  if (n > 0x7fffffff) {
    // Split into a high part and nine low digits, both small enough for integer math.
    const high = Math.floor(n / 1e9);
    pos = putUint(buf, pos, high);
    let low = n - high * 1e9;
    for (let i = pos + 8; i >= pos; i--) {
      const q = (low / 10) | 0;
      buf[i] = 48 + low - q * 10;
      low = q;
    }
    return pos + 9;
  }
  let end = pos + 1;
  for (let t = n; t >= 10; t = (t / 10) | 0) end++;
  let i = end;
  do {
    const q = (n / 10) | 0;
    buf[--i] = 48 + n - q * 10;
    n = q;
  } while (n > 0);
  return end;
}

/**
 * A growable byte buffer for writing JSON text. Response bodies of fetches are built here directly, so
 * stored values can be copied in as bytes instead of being decoded to strings, escaped and encoded again.
 */
export class JsonBytes {
  private buf: Uint8Array<ArrayBuffer>;
  private pos = 0;

  /** Starts with `initial` bytes of room, or writes into the given buffer (growing out of it when full). */
  constructor(initial: number | Uint8Array<ArrayBuffer> = 64 * 1024) {
    this.buf = typeof initial === "number" ? new Uint8Array(initial) : initial;
  }

  /** The buffer written into (it is replaced when it fills up): to recycle once the bytes are sent. */
  get buffer(): Uint8Array<ArrayBuffer> {
    return this.buf;
  }

  /** Makes room for `extra` more bytes. */
  reserve(extra: number): this {
    if (this.pos + extra > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + extra));
      next.set(this.buf.subarray(0, this.pos));
      this.buf = next;
    }
    return this;
  }

  /** Appends text that is known to be ASCII (punctuation, member names, numbers). */
  ascii(text: string): this {
    this.reserve(text.length);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i);
    this.pos = pos;
    return this;
  }

  /** Appends pre-encoded bytes. */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    if (bytes.length > 32) this.buf.set(bytes, this.pos);
    else put(this.buf, this.pos, bytes);
    this.pos += bytes.length;
    return this;
  }

  /** Appends a non-negative safe integer in decimal, without making a string of it. */
  uint(n: number): this {
    this.reserve(16);
    this.pos = putUint(this.buf, this.pos, n);
    return this;
  }

  /** Appends any text, UTF-8 encoded. */
  text(text: string): this {
    this.reserve(text.length * 3);
    this.pos += utf8Encoder.encodeInto(text, this.buf.subarray(this.pos)).written;
    return this;
  }

  /** Appends stored bytes as a JSON value: `null`, or a string of their UTF-8 text or base64. */
  value(bytes: Uint8Array | null, encoding: Encoding): this {
    if (bytes === null) return this.raw(NULL);
    if (encoding === "utf8" && isPlainAscii(bytes)) {
      this.reserve(bytes.length + 2);
      this.pos = this.plainString(this.buf, this.pos, bytes);
      return this;
    }
    if (encoding === "base64") return this.ascii(`"${encodeBytes(bytes, "base64")}"`);
    return this.text(JSON.stringify(encodeBytes(bytes, "utf8")));
  }

  /** Printable ASCII without quote or backslash is its own JSON string content: copies it between quotes. */
  private plainString(buf: Uint8Array, pos: number, bytes: Uint8Array): number {
    buf[pos++] = 0x22;
    if (bytes.length > 32) buf.set(bytes, pos);
    else put(buf, pos, bytes);
    pos += bytes.length;
    buf[pos++] = 0x22;
    return pos;
  }

  /**
   * For {@link JsonBytes.records}: writes a key or value that is not plain ASCII at `pos` through
   * {@link JsonBytes.value}, then makes room for the rest of the record (`need` bytes) again, since the
   * field took more (or other) bytes than planned. Returns the buffer, which may have moved; `this.pos` is
   * the position after the field.
   */
  private slowValue(pos: number, bytes: Uint8Array, encoding: Encoding, need: number): Uint8Array<ArrayBuffer> {
    this.pos = pos;
    const buf = this.value(bytes, encoding).buf;
    return this.pos + need > buf.length ? this.reserve(need).buf : buf;
  }

  /**
   * The loop of {@link writeRecordsJson}, on local copies of the buffer and position: plain keys and values,
   * numbers and punctuation are written without a call per piece; anything else goes through
   * {@link JsonBytes.value}. A record's timestamp is usually its predecessor's, so its digits are copied.
   */
  records(records: readonly StoredRecord[], count: number, encoding: Encoding, open: Uint8Array, openAfterComma: Uint8Array, first: boolean): number {
    const utf8 = encoding === "utf8";
    let buf = this.buf;
    let pos = this.pos;
    let bytes = 0;
    let lastTimestamp = -1;
    let timestampAt = 0;
    let timestampLength = 0;
    for (let i = 0; i < count; i++) {
      const r = records[i]!;
      const { key, value } = r;
      const keyLength = key === null ? 4 : key.length + 2;
      const valueLength = value === null ? 4 : value.length + 2;
      bytes += (key?.length ?? 0) + (value?.length ?? 0);
      const need = openAfterComma.length + RECORD_FIXED_BYTES + keyLength + valueLength;
      if (pos + need > buf.length) {
        this.pos = pos;
        buf = this.reserve(need).buf;
      }
      pos = put(buf, pos, i === 0 && first ? open : openAfterComma);
      pos = putUint(buf, pos, r.offset);
      pos = put(buf, pos, TIMESTAMP);
      if (r.timestamp === lastTimestamp) {
        for (let j = 0; j < timestampLength; j++) buf[pos + j] = buf[timestampAt + j]!;
        pos += timestampLength;
      } else {
        timestampAt = pos;
        pos = putUint(buf, pos, r.timestamp);
        timestampLength = pos - timestampAt;
        lastTimestamp = r.timestamp;
      }
      pos = put(buf, pos, KEY);
      if (key === null) pos = put(buf, pos, NULL);
      else if (utf8 && isPlainAscii(key)) pos = this.plainString(buf, pos, key);
      else {
        buf = this.slowValue(pos, key, encoding, need);
        pos = this.pos;
        lastTimestamp = -1; // the timestamp's digits may have moved with the buffer
      }
      pos = put(buf, pos, VALUE);
      if (value === null) pos = put(buf, pos, NULL);
      else if (utf8 && isPlainAscii(value)) pos = this.plainString(buf, pos, value);
      else {
        buf = this.slowValue(pos, value, encoding, need);
        pos = this.pos;
        lastTimestamp = -1;
      }
      pos = put(buf, pos, HEADERS);
      let separator = "";
      for (const name in r.headers) {
        this.pos = pos;
        this.ascii(separator)
          .text(JSON.stringify(name))
          .ascii(":")
          .value(r.headers[name] ?? null, encoding);
        separator = ",";
        buf = this.buf;
        pos = this.pos;
        lastTimestamp = -1;
      }
      if (pos + 2 > buf.length) {
        this.pos = pos;
        buf = this.reserve(2).buf;
        lastTimestamp = -1;
      }
      buf[pos++] = 0x7d;
      buf[pos++] = 0x7d;
    }
    this.pos = pos;
    return bytes;
  }

  /** The bytes written so far (a view, not a copy). */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.buf.subarray(0, this.pos);
  }
}

/** 1 for bytes that stand for themselves inside a JSON string (printable ASCII but `"` and `\\`), else 0. */
const PLAIN = new Uint8Array(256);
for (let b = 0x20; b <= 0x7e; b++) PLAIN[b] = b === 0x22 || b === 0x5c ? 0 : 1;

/** Whether `bytes` can be copied into a JSON string as they are. Eight table lookups per step: this runs on every value. */
function isPlainAscii(bytes: Uint8Array): boolean {
  const t = PLAIN;
  const n = bytes.length;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    if (
      (t[bytes[i]!]! &
        t[bytes[i + 1]!]! &
        t[bytes[i + 2]!]! &
        t[bytes[i + 3]!]! &
        t[bytes[i + 4]!]! &
        t[bytes[i + 5]!]! &
        t[bytes[i + 6]!]! &
        t[bytes[i + 7]!]!) ===
      0
    )
      return false;
  }
  for (; i < n; i++) if (t[bytes[i]!] === 0) return false;
  return true;
}

/**
 * About how many bytes {@link writeRecordsJson} needs for `records` (UTF-8 text; base64 grows by a third),
 * so the buffer can be sized once instead of doubling and copying its way up.
 */
export function estimateRecordsJson(records: readonly StoredRecord[], prefixBytes: number): number {
  let bytes = 0;
  for (const r of records) bytes += (r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0);
  return Math.ceil(bytes * 1.4) + records.length * (96 + prefixBytes) + 256;
}

/**
 * Writes up to `limit` stored records as comma-separated JSON objects
 * `{ …prefix, offset, timestamp, key, value, headers }` into `out` (a fetch of thousands of records would
 * otherwise build an object graph per record for `JSON.stringify` to walk, which costs more than reading
 * the log). `prefix` is pre-rendered ASCII JSON members ending in a comma (e.g. `"topic":"t","partition":0,`),
 * or empty; `first` says whether no element precedes these in the array. Returns how many records were
 * written and their key and value bytes.
 */
export function writeRecordsJson(
  out: JsonBytes,
  records: readonly StoredRecord[],
  encoding: Encoding,
  options: { prefix?: string; limit?: number; first?: boolean } = {},
): { count: number; bytes: number } {
  const { prefix = "", limit = records.length, first = true } = options;
  const count = Math.min(limit, records.length);
  const bytes = out.records(records, count, encoding, ascii(`{${prefix}"offset":`), ascii(`,{${prefix}"offset":`), first);
  return { count, bytes };
}
