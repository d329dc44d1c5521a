import { describe, expect, expectTypeOf, it } from "vitest";
import { catchError } from "../test/helpers/catch-error.js";
import { scripted } from "../test/helpers/random.js";
import { createDefaultPartitioner } from "./default-partitioner.js";
import { partitionForKey } from "./key-hash.js";
import type { Partitioner, PartitionerInput } from "./types.js";

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("createDefaultPartitioner", () => {
  it("returns an explicit partition unchanged, even for a keyed record", () => {
    const partition = createDefaultPartitioner({ random: scripted() });
    expect(partition({ topic: "orders", key: utf8("foobar"), partitionCount: 12, partition: 3 })).toBe(3);
    expect(partition({ topic: "orders", key: null, partitionCount: 12, partition: 0 })).toBe(0);
    expect(partition({ topic: "orders", key: null, partitionCount: 12, partition: 11 })).toBe(11);
  });

  it.each([
    [7, 6, 'partition 7 is outside [0, 6) for topic "orders"'],
    [6, 6, 'partition 6 is outside [0, 6) for topic "orders"'],
    [-1, 6, 'partition -1 is outside [0, 6) for topic "orders"'],
    [1.5, 6, 'partition 1.5 is outside [0, 6) for topic "orders"'],
    [Number.NaN, 6, 'partition NaN is outside [0, 6) for topic "orders"'],
  ])("rejects explicit partition %s of %i with UNKNOWN_TOPIC_OR_PARTITION", (p, n, message) => {
    const partition = createDefaultPartitioner();
    const error = catchError(() => partition({ topic: "orders", key: null, partitionCount: n, partition: p }));
    expect(error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(error.retriable).toBe(false);
    expect(error.message).toBe(message);
  });

  it("treats partition: null as no explicit partition (JavaScript callers)", () => {
    const partition = createDefaultPartitioner();
    const input = { topic: "t", key: utf8("foobar"), partitionCount: 12, partition: null } as unknown as PartitionerInput;
    expect(partition(input)).toBe(6);
  });

  it("hashes keyed records with murmur2, like Kafka's Java client", () => {
    const partition = createDefaultPartitioner({ random: scripted() });
    expect(partition({ topic: "t", key: utf8("21"), partitionCount: 12 })).toBe(0);
    expect(partition({ topic: "t", key: utf8("foobar"), partitionCount: 12 })).toBe(6);
    expect(partition({ topic: "t", key: utf8("abc"), partitionCount: 12 })).toBe(3);
    expect(partition({ topic: "t", key: new Uint8Array(0), partitionCount: 1000 })).toBe(681);
    expect(partition({ topic: "t", key: utf8("order-42"), partitionCount: 12 })).toBe(partitionForKey("order-42", 12));
  });

  it("UTF-8 encodes a string key passed at runtime", () => {
    const partition = createDefaultPartitioner();
    const input = { topic: "t", key: "foobar", partitionCount: 12 } as unknown as PartitionerInput;
    expect(partition(input)).toBe(6);
  });

  it("is sticky for keyless records by default; keyed records in between do not use up the batch", () => {
    const partition = createDefaultPartitioner({ batchSize: 2, random: scripted(0.5, 0) });
    const seen = [null, "21", null, "foobar", null, null].map((k) => partition({ topic: "t", key: k === null ? null : utf8(k), partitionCount: 12 }));
    // keyless: floor(0.5 * 12) = 6, 6, then move: index 0 -> partition 0. Keyed: 0 and 6 by hash.
    expect(seen).toEqual([6, 0, 6, 6, 0, 0]);
  });

  it('uses round-robin for keyless records with keyless: "round-robin"', () => {
    const partition = createDefaultPartitioner({ keyless: "round-robin" });
    const seen = [null, null, "foobar", null, null].map((k) => partition({ topic: "t", key: k === null ? null : utf8(k), partitionCount: 3 }));
    expect(seen).toEqual([0, 1, (-790332482 & 0x7fffffff) % 3, 2, 0]);
  });

  it("accepts a custom keyless strategy, a plain function, and checks what it returns", () => {
    const calls: PartitionerInput[] = [];
    const partition = createDefaultPartitioner({
      keyless: (input) => {
        calls.push(input);
        return input.topic === "bad" ? 9 : input.partitionCount - 1;
      },
    });
    expect(partition({ topic: "t", key: null, partitionCount: 6 })).toBe(5);
    expect(calls).toEqual([{ topic: "t", key: null, partitionCount: 6 }]);
    const error = catchError(() => partition({ topic: "bad", key: null, partitionCount: 6 }));
    expect(error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(error.message).toBe('partition 9 is outside [0, 6) for topic "bad"');
  });

  it("keeps working when the partition count grows", () => {
    const partition = createDefaultPartitioner({ keyless: "round-robin" });
    expect([3, 3, 3, 5, 5, 5].map((partitionCount) => partition({ topic: "t", key: null, partitionCount }))).toEqual([0, 1, 2, 3, 4, 0]);
    expect(partition({ topic: "t", key: utf8("21"), partitionCount: 5 })).toBe(1173551340 % 5);
    expect(partition({ topic: "t", key: null, partitionCount: 8, partition: 7 })).toBe(7);
  });

  it("checks partitionCount before anything else", () => {
    const partition = createDefaultPartitioner();
    const error = catchError(() => partition({ topic: "t", key: null, partitionCount: 0, partition: 0 }));
    expect(error.code).toBe("INVALID_PARTITIONS");
    expect(error.message).toBe("partition count must be a positive integer, got 0");
  });

  it("rejects an unknown keyless strategy with INVALID_CONFIG", () => {
    const error = catchError(() => createDefaultPartitioner({ keyless: "random" as "sticky" }));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.message).toBe('keyless must be "sticky", "round-robin" or a function, got "random"');
  });

  it("rejects sticky options given with another keyless strategy", () => {
    expect(catchError(() => createDefaultPartitioner({ keyless: "round-robin", batchSize: 10 })).message).toBe(
      'batchSize and random apply only to keyless "sticky", not to "round-robin"',
    );
    expect(catchError(() => createDefaultPartitioner({ keyless: () => 0, random: Math.random })).code).toBe("INVALID_CONFIG");
    expect(catchError(() => createDefaultPartitioner({ batchSize: 0 })).message).toBe("batchSize must be a positive integer, got 0");
  });

  it("keeps the fixed Partitioner signature: a function of { topic, key, partitionCount } is a Partitioner", () => {
    const custom = (input: { topic: string; key: Uint8Array | null; partitionCount: number }) => input.partitionCount - 1;
    expectTypeOf(custom).toExtend<Partitioner>();
    expectTypeOf(createDefaultPartitioner()).toEqualTypeOf<Partitioner>();
    const partition = createDefaultPartitioner({ keyless: custom });
    expect(partition({ topic: "t", key: null, partitionCount: 4 })).toBe(3);
  });
});
