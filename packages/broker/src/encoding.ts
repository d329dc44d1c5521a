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
    // log-store hands out Buffer views: decode them in place instead of wrapping each in a new Buffer.
    if (NodeBuffer.isBuffer(bytes)) return (bytes as unknown as { toString(encoding: Encoding): string }).toString(encoding);
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding);
  }
  if (encoding === "utf8") return utf8Decoder.decode(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary);
}

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (ch) => ch.charCodeAt(0));
const OFFSET = ascii('"offset":');
const TIMESTAMP = ascii(',"timestamp":');
const KEY = ascii(',"key":');
const VALUE = ascii(',"value":');
const HEADERS = ascii(',"headers":{');
const NULL = ascii("null");

/**
 * A growable byte buffer for writing JSON text. Response bodies of fetches are built here directly, so
 * stored values can be copied in as bytes instead of being decoded to strings, escaped and encoded again.
 */
export class JsonBytes {
  private buf: Uint8Array<ArrayBuffer>;
  private pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = new Uint8Array(initialBytes);
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

  /** Appends pre-encoded bytes; short ones (JSON punctuation) are copied by hand, cheaper than `set`. */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    if (bytes.length > 32) {
      this.buf.set(bytes, this.pos);
      this.pos += bytes.length;
      return this;
    }
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < bytes.length; i++) buf[pos++] = bytes[i]!;
    this.pos = pos;
    return this;
  }

  /** Appends a non-negative safe integer in decimal, without making a string of it. */
  uint(n: number): this {
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    this.reserve(digits);
    let pos = this.pos + digits;
    this.pos = pos;
    do {
      const q = Math.floor(n / 10);
      this.buf[--pos] = 48 + (n - q * 10);
      n = q;
    } while (n > 0);
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
    if (encoding === "base64") return this.ascii(`"${encodeBytes(bytes, "base64")}"`);
    if (isPlainAscii(bytes)) {
      // Printable ASCII without quote or backslash is its own JSON string content: copy it as is.
      this.reserve(bytes.length + 2);
      this.buf[this.pos++] = 0x22;
      this.buf.set(bytes, this.pos);
      this.pos += bytes.length;
      this.buf[this.pos++] = 0x22;
      return this;
    }
    return this.text(JSON.stringify(encodeBytes(bytes, "utf8")));
  }

  /** The bytes written so far (a view, not a copy). */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.buf.subarray(0, this.pos);
  }
}

function isPlainAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c) return false;
  }
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
  const open = ascii(`{${prefix}`);
  const openAfterComma = ascii(`,{${prefix}`);
  const count = Math.min(limit, records.length);
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    out
      .raw(i === 0 && first ? open : openAfterComma)
      .raw(OFFSET)
      .uint(r.offset)
      .raw(TIMESTAMP)
      .uint(r.timestamp);
    out.raw(KEY).value(r.key, encoding).raw(VALUE).value(r.value, encoding).raw(HEADERS);
    let separator = "";
    for (const name in r.headers) {
      out
        .ascii(separator)
        .text(JSON.stringify(name))
        .ascii(":")
        .value(r.headers[name] ?? null, encoding);
      separator = ",";
    }
    out.ascii("}}");
    bytes += (r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0);
  }
  return { count, bytes };
}
