import { describe, expect, it } from "vitest";
import { isPartitionerError, PartitionerError } from "./errors.js";
import { partitionForKey } from "./key-hash.js";

describe("PartitionerError", () => {
  it("carries name, code, retriable, message, cause and the minikafka marker", () => {
    const cause = new Error("root");
    const error = new PartitionerError("UNKNOWN_TOPIC_OR_PARTITION", "partition 7 is outside [0, 6)", { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("PartitionerError");
    expect(error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(error.retriable).toBe(false);
    expect(error.message).toBe("partition 7 is outside [0, 6)");
    expect(error.cause).toBe(cause);
    expect((error as unknown as Record<symbol, unknown>)[Symbol.for("minikafka.error")]).toBe("PartitionerError");
    expect(String(error)).toBe("PartitionerError: partition 7 is outside [0, 6)");
  });
});

describe("isPartitionerError", () => {
  it("recognises errors thrown by the package", () => {
    let caught: unknown;
    try {
      partitionForKey("k", 0);
    } catch (e) {
      caught = e;
    }
    expect(isPartitionerError(caught)).toBe(true);
  });

  it("recognises an error from another copy of the package by its marker, not instanceof", () => {
    // What a duplicated install looks like: a different class, same marker.
    const marker: unique symbol = Symbol.for("minikafka.error");
    class PartitionerErrorCopy extends Error {
      readonly code = "INVALID_PARTITIONS";
      readonly [marker] = "PartitionerError";
    }
    const copy = new PartitionerErrorCopy("partition count must be a positive integer, got 0");
    expect(copy instanceof PartitionerError).toBe(false);
    expect(isPartitionerError(copy)).toBe(true);
  });

  it("rejects everything else", () => {
    const otherMiniKafka = Object.assign(new Error("x"), { [Symbol.for("minikafka.error")]: "LogStoreError" });
    for (const value of [new Error("x"), otherMiniKafka, null, undefined, "PartitionerError", 42, { name: "PartitionerError" }]) {
      expect(isPartitionerError(value)).toBe(false);
    }
  });
});
