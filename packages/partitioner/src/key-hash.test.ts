import { describe, expect, it } from "vitest";
import { randomBytes, seededRandom } from "../test/helpers/random.js";
import { catchError } from "../test/helpers/catch-error.js";
import { createKeyHashPartitioner, partitionForKey } from "./key-hash.js";
import { murmur2 } from "./murmur2.js";

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("partitionForKey", () => {
  // Expected partitions derived by hand from Kafka's UtilsTest hashes: (h & 0x7fffffff) % n.
  it.each([
    ["21", -973932308, 12, 0],
    ["foobar", -790332482, 12, 6],
    ["a-little-bit-long-string", -985981536, 12, 8],
    ["a-little-bit-longer-string", -1486304829, 12, 11],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971, 12, 5],
    ["abc", 479470107, 12, 3],
    ["21", -973932308, 7, (-973932308 & 0x7fffffff) % 7],
  ])("key %j (murmur2 %i) with %i partitions -> %i", (key, hash, n, expected) => {
    expect(murmur2(utf8(key))).toBe(hash);
    expect((hash & 0x7fffffff) % n).toBe(expected);
    expect(partitionForKey(key, n)).toBe(expected);
    expect(partitionForKey(utf8(key), n)).toBe(expected);
  });

  it("uses toPositive (h & 0x7fffffff), not Math.abs, for negative hashes", () => {
    // -973932308 & 0x7fffffff = 1173551340, while Math.abs gives 973932308: different partitions for n = 1000.
    expect(partitionForKey("21", 1000)).toBe(340);
    expect(Math.abs(-973932308) % 1000).toBe(308);
  });

  it("UTF-8 encodes string keys: a string and its UTF-8 bytes land on the same partition", () => {
    for (const key of ["order-42", "", "ключ-7", "日本語", "🔑🚀", "mixed é 🔑 z"]) {
      for (const n of [1, 3, 12, 1000]) expect(partitionForKey(key, n)).toBe(partitionForKey(utf8(key), n));
    }
  });

  it("handles string keys longer than its reusable buffer, including beyond the one-off limit", () => {
    for (const key of ["k".repeat(300), "é".repeat(5000), "🔑".repeat(12000), "z".repeat(70000)]) {
      expect(partitionForKey(key, 97)).toBe((murmur2(utf8(key)) & 0x7fffffff) % 97);
    }
    // And short keys still hash correctly after the buffer grew.
    expect(partitionForKey("21", 12)).toBe(0);
  });

  it("treats an empty key as a key (hash of zero bytes), as Kafka does", () => {
    expect(partitionForKey("", 1000)).toBe((275646681 & 0x7fffffff) % 1000);
    expect(partitionForKey(new Uint8Array(0), 1000)).toBe(681);
  });

  it("keeps a key on one partition for a given count, and only the count changes it", () => {
    const first = partitionForKey("order-42", 12);
    for (let i = 0; i < 100; i++) expect(partitionForKey("order-42", 12)).toBe(first);
    expect(partitionForKey("order-42", 12)).toBe((murmur2(utf8("order-42")) & 0x7fffffff) % 12);
  });

  it("spreads 100,000 random 16-byte keys evenly over 12 partitions (chi-square, 11 df, p = 0.001)", () => {
    const random = seededRandom(0xc0ffee);
    const n = 12;
    const total = 100_000;
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < total; i++) counts[partitionForKey(randomBytes(random, 16), n)]!++;
    const expected = total / n;
    const chiSquare = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
    // 31.26 is the 0.999 quantile of chi-square with 11 degrees of freedom.
    expect(chiSquare).toBeLessThan(31.26);
    for (const c of counts) expect(Math.abs(c - expected) / expected).toBeLessThan(0.05);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])("rejects partitionCount %s with INVALID_PARTITIONS", (n) => {
    const error = catchError(() => partitionForKey("k", n));
    expect(error.code).toBe("INVALID_PARTITIONS");
    expect(error.message).toBe(`partition count must be a positive integer, got ${String(n)}`);
  });

  it("rejects a key that is neither bytes nor a string with INVALID_RECORD", () => {
    const error = catchError(() => partitionForKey(42 as unknown as string, 3));
    expect(error.code).toBe("INVALID_RECORD");
    expect(error.message).toBe("key must be a Uint8Array or a string, got number");
  });

  it("accepts Uint8Array subclasses such as Node's Buffer", () => {
    const random = seededRandom(9);
    for (let i = 0; i < 50; i++) {
      const bytes = randomBytes(random, i);
      expect(partitionForKey(Buffer.from(bytes), 31)).toBe(partitionForKey(bytes, 31));
    }
  });
});

describe("createKeyHashPartitioner", () => {
  it("places keyed records with partitionForKey and ignores an explicit partition", () => {
    const partition = createKeyHashPartitioner();
    expect(partition({ topic: "t", key: utf8("foobar"), partitionCount: 12 })).toBe(6);
    expect(partition({ topic: "t", key: utf8("foobar"), partitionCount: 12, partition: 1 })).toBe(6);
    expect(partition({ topic: "other", key: utf8("abc"), partitionCount: 12 })).toBe(3);
  });

  it("follows the partition count when it grows", () => {
    const partition = createKeyHashPartitioner();
    const key = utf8("21");
    expect([3, 6, 12, 24].map((partitionCount) => partition({ topic: "t", key, partitionCount }))).toEqual([3, 6, 12, 24].map((n) => 1173551340 % n));
  });

  it("throws INVALID_RECORD for a keyless record", () => {
    const partition = createKeyHashPartitioner();
    const error = catchError(() => partition({ topic: "orders", key: null, partitionCount: 3 }));
    expect(error.code).toBe("INVALID_RECORD");
    expect(error.message).toBe('key-hash partitioner needs a key; a record for topic "orders" has none');
  });
});
