// CRC-32C (Castagnoli), the checksum Kafka's RecordBatch v2 uses, computed over every batch written and read.
//
// Two implementations: the optional dependency @node-rs/crc32 (prebuilt binaries for common platforms, using
// the CPU's CRC instructions, about 4× faster than JavaScript on large batches), and slice-by-8 JavaScript:
// eight 256-entry tables let the loop consume eight bytes per iteration. The JavaScript one is used when the
// native one cannot be loaded (unsupported platform, installed with --no-optional), when the environment
// sets MINIKAFKA_CRC32C=js, and for short inputs, where a call into native code costs more than it saves.
import { createRequire } from "node:module";

const POLY = 0x82f63b78;
const TABLE = new Int32Array(256 * 8);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  TABLE[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = TABLE[n]!;
  for (let t = 1; t < 8; t++) {
    c = TABLE[c & 0xff]! ^ (c >>> 8);
    TABLE[t * 256 + n] = c;
  }
}

/** CRC-32C of `buf[start, end)`, as an unsigned 32-bit integer, in JavaScript. */
export function crc32cJs(buf: Uint8Array, start = 0, end = buf.length): number {
  const t = TABLE;
  let crc = -1;
  let i = start;
  const end8 = end - ((end - start) & 7);
  while (i < end8) {
    const a = (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)) ^ crc;
    crc =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
    i += 8;
  }
  while (i < end) crc = t[(crc ^ buf[i++]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

type NativeCrc32c = (input: Uint8Array, initialState?: number) => number;

/** Below this many bytes the JavaScript loop beats the native call (its fixed cost is about 100 ns). */
const NATIVE_MIN_BYTES = 512;

/** @internal Loads @node-rs/crc32's crc32c if it is installed and works; `undefined` otherwise. */
export function loadNativeCrc32c(load: (id: string) => unknown = createRequire(import.meta.url)): NativeCrc32c | undefined {
  try {
    const native = (load("@node-rs/crc32") as { crc32c?: unknown }).crc32c;
    if (typeof native !== "function") return undefined;
    const check = Uint8Array.from("123456789", (ch) => ch.charCodeAt(0));
    // The standard check value: a binary that loads but computes something else must not be used.
    return (native as NativeCrc32c)(check) === 0xe3069283 ? (native as NativeCrc32c) : undefined;
  } catch {
    return undefined;
  }
}

const native = globalThis.process?.env?.MINIKAFKA_CRC32C === "js" ? undefined : loadNativeCrc32c();

/** Which implementation {@link crc32c} uses for large inputs. */
export const crc32cImplementation: "native" | "js" = native ? "native" : "js";

/** CRC-32C of `buf[start, end)`, as an unsigned 32-bit integer. */
export const crc32c: (buf: Uint8Array, start?: number, end?: number) => number = native
  ? (buf, start = 0, end = buf.length) =>
      end - start < NATIVE_MIN_BYTES ? crc32cJs(buf, start, end) : native(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0
  : crc32cJs;
