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

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + extra));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Appends text that is known to be ASCII (punctuation, member names, numbers). */
  ascii(text: string): this {
    this.ensure(text.length);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i);
    this.pos = pos;
    return this;
  }

  /** Appends any text, UTF-8 encoded. */
  text(text: string): this {
    this.ensure(text.length * 3);
    this.pos += utf8Encoder.encodeInto(text, this.buf.subarray(this.pos)).written;
    return this;
  }

  /** Appends stored bytes as a JSON value: `null`, or a string of their UTF-8 text or base64. */
  value(bytes: Uint8Array | null, encoding: Encoding): this {
    if (bytes === null) return this.ascii("null");
    if (encoding === "base64") return this.ascii(`"${encodeBytes(bytes, "base64")}"`);
    if (isPlainAscii(bytes)) {
      // Printable ASCII without quote or backslash is its own JSON string content: copy it as is.
      this.ensure(bytes.length + 2);
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
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    out.ascii(`${i === 0 && first ? "" : ","}{${prefix}"offset":${r.offset},"timestamp":${r.timestamp},"key":`);
    out.value(r.key, encoding).ascii(',"value":').value(r.value, encoding).ascii(',"headers":{');
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
