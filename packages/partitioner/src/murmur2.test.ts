import { describe, expect, it } from "vitest";
import { randomBytes, seededRandom } from "../test/helpers/random.js";
import { murmur2 } from "./murmur2.js";

const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * A literal transliteration of Java's Utils.murmur2 using BigInt with explicit 32-bit wrapping (asIntN), written
 * independently of the Math.imul implementation under test.
 */
function referenceMurmur2(data: Uint8Array): number {
  const int = (x: bigint) => BigInt.asIntN(32, x);
  const ushr = (x: bigint, n: bigint) => BigInt.asUintN(32, x) >> n; // Java's >>>
  const length = data.length;
  const m = 0x5bd1e995n;
  let h = int(0x9747b28cn ^ BigInt(length));
  const length4 = Math.floor(length / 4);
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = int(BigInt(data[i4]!) + (BigInt(data[i4 + 1]!) << 8n) + (BigInt(data[i4 + 2]!) << 16n) + (BigInt(data[i4 + 3]!) << 24n));
    k = int(k * m);
    k = int(k ^ ushr(k, 24n));
    k = int(k * m);
    h = int(h * m);
    h = int(h ^ k);
  }
  const base = length & ~3;
  switch (length % 4) {
    case 3:
      h = int(h ^ (BigInt(data[base + 2]!) << 16n));
    // falls through
    case 2:
      h = int(h ^ (BigInt(data[base + 1]!) << 8n));
    // falls through
    case 1:
      h = int(h ^ BigInt(data[base]!));
      h = int(h * m);
  }
  h = int(h ^ ushr(h, 13n));
  h = int(h * m);
  h = int(h ^ ushr(h, 15n));
  return Number(h);
}

describe("murmur2", () => {
  // Kafka's own vectors: clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2.
  it.each([
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
    ["abc", 479470107],
  ])("matches Kafka's UtilsTest vector %j -> %i", (input, expected) => {
    expect(murmur2(utf8(input))).toBe(expected);
  });

  it("matches the byte-array vector new byte[] {'a', 'b', 'c'}", () => {
    expect(murmur2(new Uint8Array([0x61, 0x62, 0x63]))).toBe(479470107);
  });

  it("agrees with an independent BigInt transliteration of the Java code on 5,000 inputs of every tail length", () => {
    const random = seededRandom(0x5eed);
    const mismatches: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const bytes = randomBytes(random, i % 67); // lengths 0..66: every `length % 4`, bytes >= 0x80 included
      const got = murmur2(bytes);
      const want = referenceMurmur2(bytes);
      if (got !== want) mismatches.push(`${Array.from(bytes).join(",")}: ${got} != ${want}`);
    }
    expect(mismatches).toEqual([]);
  });

  it("hashes the empty input like Java (seed ^ 0, no tail)", () => {
    expect(murmur2(new Uint8Array(0))).toBe(referenceMurmur2(new Uint8Array(0)));
    expect(murmur2(new Uint8Array(0))).toBe(275646681);
  });

  it("returns signed 32-bit integers (Java int), negative ones included", () => {
    const random = seededRandom(7);
    let negatives = 0;
    for (let i = 0; i < 1000; i++) {
      const h = murmur2(randomBytes(random, 16));
      expect(h).toBe(h | 0);
      if (h < 0) negatives++;
    }
    expect(negatives).toBeGreaterThan(400);
    expect(negatives).toBeLessThan(600);
  });

  it("hashes only the view it is given (subarray of a larger buffer)", () => {
    const buffer = utf8("xx21yy");
    expect(murmur2(buffer.subarray(2, 4))).toBe(-973932308);
  });

  it("does not modify its input", () => {
    const bytes = utf8("foobar");
    murmur2(bytes);
    expect(Array.from(bytes)).toEqual(Array.from(utf8("foobar")));
  });
});
