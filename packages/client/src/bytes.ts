// Bytes on the wire. The broker carries keys, values and header values as JSON strings: UTF-8 text, or
// standard padded base64 when a request says `"encoding": "base64"`. Nothing is imported: the client runs
// wherever `fetch` does. Base64 uses the engine's native codec when it has one (the standard
// `Uint8Array.fromBase64` family, or a global `Buffer` in Node and Bun, feature-detected) and the
// universal `atob`/`btoa` otherwise.
//
// Decoding many small values: a Uint8Array with its own ArrayBuffer costs about 1 µs to allocate, more
// than decoding 100 bytes. So a fetch's values are decoded into one buffer (a Base64Batch) and handed out
// as views of it.

const PAD = 61; // "="
const CHUNK = 8192; // characters per String.fromCharCode call: well under any engine's argument limit
/** The first character that makes a base64 string invalid: outside the alphabet, or "=" before the end. */
const INVALID = /[^A-Za-z0-9+/=]|=(?!=?$)/;

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
  let binary = "";
  for (let k = 0; k < bytes.length; k += CHUNK) binary += String.fromCharCode.apply(null, bytes.subarray(k, k + CHUNK) as unknown as number[]);
  return btoa(binary);
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

/** Decodes `text` (of decoded size `length`) into `out` at `offset`. */
function decodeInto(text: string, length: number, out: Uint8Array, offset: number): void {
  const invalid = text.search(INVALID);
  if (invalid >= 0) throw new TypeError(`invalid base64: unexpected character at ${invalid}`);
  const binary = atob(text);
  for (let i = 0; i < length; i++) out[offset + i] = binary.charCodeAt(i);
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
