import { describe, expect, it } from "vitest";
import { createDefaultPartitioner, murmur2, partitionForKey } from "../src/index.js";
import { kafkajsMurmur2, kafkajsPartitioner } from "./helpers/kafkajs.js";
import { randomBytes, randomString, seededRandom } from "./helpers/random.js";

// KafkaJS 2.x's DefaultPartitioner (formerly JavaCompatiblePartitioner) is a second, independent port of the
// Java client's murmur2 partitioning; agreeing with it on thousands of keys is agreeing with Java.
const PARTITION_COUNTS = [1, 2, 3, 5, 6, 7, 12, 16, 31, 64, 100, 1000];
const KEYS = 3000;

describe("compatibility with KafkaJS DefaultPartitioner", () => {
  it("murmur2 equals KafkaJS's Java-compatible murmur2 on 3,000 byte keys of lengths 0..99", () => {
    const random = seededRandom(1);
    const mismatches: string[] = [];
    for (let i = 0; i < KEYS; i++) {
      const bytes = randomBytes(random, i % 100);
      if (murmur2(bytes) !== kafkajsMurmur2(Buffer.from(bytes))) mismatches.push(Buffer.from(bytes).toString("hex"));
    }
    expect(mismatches).toEqual([]);
  });

  it(`places ${KEYS} byte keys x ${PARTITION_COUNTS.length} partition counts exactly like KafkaJS`, () => {
    const random = seededRandom(2);
    const keys = Array.from({ length: KEYS }, (_, i) => randomBytes(random, 1 + (i % 40)));
    const mismatches: string[] = [];
    for (const n of PARTITION_COUNTS) {
      const theirs = kafkajsPartitioner(n);
      for (const key of keys) {
        const ours = partitionForKey(key, n);
        const expected = theirs(key);
        if (ours !== expected) mismatches.push(`n=${n} key=${Buffer.from(key).toString("hex")}: ${ours} != ${expected}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it(`places ${KEYS} string keys (ASCII, accented, CJK, emoji) x ${PARTITION_COUNTS.length} partition counts exactly like KafkaJS`, () => {
    const random = seededRandom(3);
    const keys = Array.from({ length: KEYS }, (_, i) => randomString(random, i % 30));
    keys.push("order-42", "", "user:1234", "ключ", "🔑");
    const mismatches: string[] = [];
    for (const n of PARTITION_COUNTS) {
      const theirs = kafkajsPartitioner(n);
      for (const key of keys) {
        const ours = partitionForKey(key, n);
        const expected = theirs(key);
        if (ours !== expected) mismatches.push(`n=${n} key=${JSON.stringify(key)}: ${ours} != ${expected}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it("createDefaultPartitioner places keyed records like KafkaJS", () => {
    const random = seededRandom(4);
    const partition = createDefaultPartitioner();
    const theirs = kafkajsPartitioner(12);
    for (let i = 0; i < 1000; i++) {
      const key = randomBytes(random, 16);
      expect(partition({ topic: "orders", key, partitionCount: 12 })).toBe(theirs(key));
    }
  });

  it("encodes a lone surrogate as U+FFFD (EF BF BD), as KafkaJS does", () => {
    // Java's String.getBytes(UTF_8) would write '?' instead; README documents this corner.
    expect(partitionForKey("a\uD800b", 1000)).toBe(kafkajsPartitioner(1000)("a\uD800b"));
    expect(partitionForKey("a\uD800b", 1000)).toBe(partitionForKey(new Uint8Array([0x61, 0xef, 0xbf, 0xbd, 0x62]), 1000));
  });
});
