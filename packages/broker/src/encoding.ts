// Keys, values and header values travel in JSON as UTF-8 text (default) or base64 bytes. Node's Buffer
// is used when present (fast, no copies); elsewhere atob/btoa, so the app stays runtime-agnostic.
import { BrokerError } from "./errors.js";

/** How bytes are written in JSON. */
export type Encoding = "utf8" | "base64";

interface BufferLike {
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
  if (NodeBuffer !== undefined) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding);
  if (encoding === "utf8") return utf8Decoder.decode(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary);
}

/** A stored record as JSON. */
export interface RecordJson {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string | null>;
}

/**
 * A stored record as JSON, adding its key and value byte count to `bytes.out`.
 * (`headers` of a record without headers is a fresh empty object: JSON has no shared constants.)
 */
export function recordToJson(
  record: {
    offset: number;
    timestamp: number;
    key: Uint8Array | null;
    value: Uint8Array | null;
    headers: Readonly<Record<string, Uint8Array | null>>;
  },
  encoding: Encoding,
  bytes: { out: number },
): RecordJson {
  const headers: Record<string, string | null> = Object.create(null); // a header may be named "__proto__"
  for (const name of Object.keys(record.headers)) headers[name] = encodeBytes(record.headers[name] ?? null, encoding);
  bytes.out += (record.key?.byteLength ?? 0) + (record.value?.byteLength ?? 0);
  return {
    offset: record.offset,
    timestamp: record.timestamp,
    key: encodeBytes(record.key, encoding),
    value: encodeBytes(record.value, encoding),
    headers,
  };
}
