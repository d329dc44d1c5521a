// Kafka's murmur2: MurmurHash2 (32-bit) with Kafka's fixed seed, ported from the Java client's
// org.apache.kafka.common.utils.Utils.murmur2. Java ints are 32-bit two's complement and wrap on overflow;
// Math.imul and the bitwise operators give exactly that arithmetic, so no Long emulation is needed.

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's 32-bit murmur2 hash of `bytes`, bit for bit the same as the Java client's `Utils.murmur2(byte[])`
 * (seed `0x9747b28c`), and therefore as KafkaJS's `DefaultPartitioner`.
 *
 * @param bytes - the data to hash (a record key's serialized bytes)
 * @returns a signed 32-bit integer in `[-2^31, 2^31)`, like Java's `int`
 *
 * @example
 * ```ts
 * murmur2(new TextEncoder().encode("21")); // -973932308
 * ```
 */
export function murmur2(bytes: Uint8Array): number {
  return murmur2Prefix(bytes, bytes.length);
}

/**
 * murmur2 of the first `length` bytes of `data` (internal: lets string keys be encoded into a reused buffer).
 * `length` must not exceed `data.length`.
 */
export function murmur2Prefix(data: Uint8Array, length: number): number {
  let h = SEED ^ length;
  const length4 = length & ~3;
  for (let i = 0; i < length4; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The Java original is a switch that falls through from case 3 to case 1.
  const tail = length & 3;
  if (tail !== 0) {
    if (tail === 3) h ^= data[length4 + 2]! << 16;
    if (tail >= 2) h ^= data[length4 + 1]! << 8;
    h ^= data[length4]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h;
}
