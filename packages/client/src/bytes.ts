// Bytes on the wire. The broker carries keys, values and header values as JSON strings: UTF-8 text, or
// standard padded base64 when a request says `"encoding": "base64"`. Nothing is imported: the client runs
// wherever `fetch` does. Base64 uses the engine's native codec when it has one (the standard
// `Uint8Array.fromBase64` family, or a global `Buffer` in Node and Bun, feature-detected) and portable
// table-driven loops otherwise.
//
// Decoding many small values: a Uint8Array with its own ArrayBuffer costs about 1 µs to allocate, more
// than decoding 100 bytes. So a fetch's values are decoded into one buffer (a Base64Batch) and handed out
// as views of it.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const ENCODE = new Uint8Array(64);
const DECODE = new Uint8Array(128).fill(255);
for (let i = 0; i < 64; i++) {
  ENCODE[i] = ALPHABET.charCodeAt(i);
  DECODE[ALPHABET.charCodeAt(i)] = i;
}
const PAD = 61; // "="
const CHUNK = 8192; // characters per String.fromCharCode call: well under any engine's argument limit

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** UTF-8 bytes of `text` (a lone surrogate becomes U+FFFD, as everywhere in minikafka). */
export function utf8Encode(text: string): Uint8Array {
  return textEncoder.encode(text);
}

/** Writes the UTF-8 bytes of `text` into `out` (at least `3 × text.length` long); returns how many. */
export function utf8EncodeInto(text: string, out: Uint8Array): number {
  return textEncoder.encodeInto(text, out).written;
}

/** `bytes` decoded as UTF-8; invalid sequences become U+FFFD. */
export function utf8Decode(bytes: Uint8Array): string {
  return textDecoder.decode(bytes);
}

/** Standard, padded base64 of `bytes`. */
export function base64Encode(bytes: Uint8Array): string {
  return native.encode === undefined ? base64EncodeJs(bytes) : native.encode(bytes);
}

/** The portable encoder behind {@link base64Encode} (exported for its tests). */
export function base64EncodeJs(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = ENCODE[v >> 18]!;
    out[o++] = ENCODE[(v >> 12) & 63]!;
    out[o++] = ENCODE[(v >> 6) & 63]!;
    out[o++] = ENCODE[v & 63]!;
  }
  if (i < n) {
    const two = i + 1 < n;
    const v = (bytes[i]! << 16) | (two ? bytes[i + 1]! << 8 : 0);
    out[o++] = ENCODE[v >> 18]!;
    out[o++] = ENCODE[(v >> 12) & 63]!;
    out[o++] = two ? ENCODE[(v >> 6) & 63]! : PAD;
    out[o++] = PAD;
  }
  let text = "";
  for (let k = 0; k < out.length; k += CHUNK) text += String.fromCharCode.apply(null, out.subarray(k, k + CHUNK) as unknown as number[]);
  return text;
}

/**
 * How many bytes a standard, padded base64 string decodes to.
 * @throws TypeError when its length is not a multiple of 4.
 */
export function base64DecodedLength(text: string): number {
  const n = text.length;
  if (n % 4 !== 0) throw new TypeError(`invalid base64: length ${n} is not a multiple of 4`);
  if (n === 0) return 0;
  return (n / 4) * 3 - (text.charCodeAt(n - 1) === PAD ? (text.charCodeAt(n - 2) === PAD ? 2 : 1) : 0);
}

/**
 * Decodes many base64 strings into one buffer of `totalBytes` (the sum of their
 * {@link base64DecodedLength}s); each {@link Base64Batch.take} returns a view of it.
 */
export class Base64Batch {
  readonly #out: Uint8Array;
  readonly #write: ((text: string, offset: number, length: number) => number) | undefined;
  #offset = 0;

  constructor(totalBytes: number) {
    this.#out = new Uint8Array(totalBytes);
    this.#write = native.writer?.(this.#out);
  }

  /**
   * The bytes of `text`, as a view of the batch's buffer.
   * @throws TypeError when `text` is not valid base64, or the batch is full.
   */
  take(text: string): Uint8Array {
    const length = base64DecodedLength(text);
    const offset = this.#offset;
    if (offset + length > this.#out.length) throw new TypeError(`base64 batch of ${this.#out.length} bytes is full`);
    // The native writers are lenient (skipped characters, base64url): a short count or "-"/"_" means invalid
    // input, and then the portable decoder reports exactly what is wrong.
    const written = this.#write?.(text, offset, length);
    if (written !== length || text.includes("-") || text.includes("_")) decodeInto(text, length, this.#out, offset);
    this.#offset = offset + length;
    return this.#out.subarray(offset, offset + length);
  }
}

/**
 * Bytes of a standard, padded base64 string (what the broker writes).
 * @throws TypeError when `text` is not valid base64.
 */
export function base64Decode(text: string): Uint8Array {
  return new Base64Batch(base64DecodedLength(text)).take(text);
}

/** The portable decoder (exported for its tests). @throws TypeError when `text` is not valid base64. */
export function base64DecodeJs(text: string): Uint8Array {
  const length = base64DecodedLength(text);
  const out = new Uint8Array(length);
  decodeInto(text, length, out, 0);
  return out;
}

/** Decodes `text` (of decoded size `length`) into `out` at `offset`; validity is checked once, at the end. */
function decodeInto(text: string, length: number, out: Uint8Array, offset: number): void {
  const n = text.length;
  if (n === 0) return;
  const padding = (n / 4) * 3 - length;
  const full = padding === 0 ? n : n - 4;
  let chars = 0;
  let sextets = 0;
  let o = offset;
  for (let i = 0; i < full; i += 4) {
    const c0 = text.charCodeAt(i);
    const c1 = text.charCodeAt(i + 1);
    const c2 = text.charCodeAt(i + 2);
    const c3 = text.charCodeAt(i + 3);
    chars |= c0 | c1 | c2 | c3;
    const a = DECODE[c0 & 127]!;
    const b = DECODE[c1 & 127]!;
    const c = DECODE[c2 & 127]!;
    const d = DECODE[c3 & 127]!;
    sextets |= a | b | c | d;
    out[o++] = (a << 2) | (b >> 4);
    out[o++] = ((b & 15) << 4) | (c >> 2);
    out[o++] = ((c & 3) << 6) | d;
  }
  if (padding > 0) {
    const c0 = text.charCodeAt(full);
    const c1 = text.charCodeAt(full + 1);
    const c2 = padding === 1 ? text.charCodeAt(full + 2) : 65; // "A": decodes to 0
    chars |= c0 | c1 | c2;
    const a = DECODE[c0 & 127]!;
    const b = DECODE[c1 & 127]!;
    const c = DECODE[c2 & 127]!;
    sextets |= a | b | c;
    out[o++] = (a << 2) | (b >> 4);
    if (padding === 1) out[o++] = ((b & 15) << 4) | (c >> 2);
  }
  if (chars > 127 || sextets > 63) throw new TypeError(`invalid base64: unexpected character at ${firstInvalid(text, n - padding)}`);
}

function firstInvalid(text: string, end: number): number {
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code > 127 || DECODE[code]! > 63) return i;
  }
  return end;
}

interface NativeBase64 {
  encode?: ((bytes: Uint8Array) => string) | undefined;
  /** A function writing decoded base64 into `out` at an offset, returning the bytes written. */
  writer?: ((out: Uint8Array) => (text: string, offset: number, length: number) => number) | undefined;
}

interface BufferLike {
  from(
    buffer: ArrayBufferLike,
    byteOffset: number,
    length: number,
  ): {
    toString(encoding: "base64"): string;
    write(text: string, offset: number, length: number, encoding: "base64"): number;
  };
}

interface StandardBase64 {
  toBase64(): string;
  setFromBase64(text: string): { read: number; written: number };
}

/** The engine's base64 codec, if it has one (the standard one first). */
function detectNative(): NativeBase64 {
  const proto = Uint8Array.prototype as unknown as Partial<StandardBase64>;
  if (typeof proto.toBase64 === "function" && typeof proto.setFromBase64 === "function") {
    return {
      encode: (bytes) => (bytes as unknown as StandardBase64).toBase64(),
      writer: (out) => (text, offset, length) => {
        try {
          return (out.subarray(offset, offset + length) as unknown as StandardBase64).setFromBase64(text).written;
        } catch {
          return -1;
        }
      },
    };
  }
  const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;
  if (typeof NodeBuffer?.from === "function") {
    return {
      encode: (bytes) => NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
      writer: (out) => {
        const view = NodeBuffer.from(out.buffer, out.byteOffset, out.byteLength);
        return (text, offset, length) => view.write(text, offset, length, "base64");
      },
    };
  }
  return {};
}

const native = detectNative();
