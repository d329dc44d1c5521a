/** mulberry32: a tiny seeded PRNG, so "random" test data is the same on every run. Returns numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(random: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** Strings mixing ASCII, 2-byte, 3-byte and 4-byte (surrogate pair) UTF-8 characters. */
export function randomString(random: () => number, length: number): string {
  const pools = ["abcdefghijklmnopqrstuvwxyz0123456789-_:.", "éüßñçøΩЖж", "日本語中文한국어€", "🔑🚀😀𝄞"];
  let s = "";
  for (let i = 0; i < length; i++) {
    // Mostly ASCII, like real keys, with enough multi-byte characters to exercise UTF-8.
    const r = random();
    const pool = [...pools[r < 0.7 ? 0 : r < 0.8 ? 1 : r < 0.9 ? 2 : 3]!];
    s += pool[Math.floor(random() * pool.length)]!;
  }
  return s;
}

/** A `random` option that returns the given values in order and fails the test if asked for more. */
export function scripted(...values: number[]): () => number {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error(`scripted random exhausted after ${values.length} values`);
    return values[i++]!;
  };
}
