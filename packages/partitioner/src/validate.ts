import { PartitionerError } from "./errors.js";

/** Throws `INVALID_PARTITIONS` unless `partitionCount` is a positive safe integer. */
export function assertPartitionCount(partitionCount: number): void {
  if (!Number.isSafeInteger(partitionCount) || partitionCount < 1) {
    throw new PartitionerError("INVALID_PARTITIONS", `partition count must be a positive integer, got ${String(partitionCount)}`);
  }
}

/** Throws `UNKNOWN_TOPIC_OR_PARTITION` unless `partition` is an integer in `[0, partitionCount)`. */
export function assertPartitionInRange(topic: string, partition: number, partitionCount: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
    throw new PartitionerError("UNKNOWN_TOPIC_OR_PARTITION", `partition ${String(partition)} is outside [0, ${partitionCount}) for topic "${topic}"`);
  }
}

/** Throws `INVALID_CONFIG` unless `value` is a positive safe integer. */
export function assertPositiveIntegerOption(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new PartitionerError("INVALID_CONFIG", `${name} must be a positive integer, got ${String(value)}`);
  }
}

/** Throws `INVALID_CONFIG` unless `value` is a function. */
export function assertFunctionOption(name: string, value: unknown): void {
  if (typeof value !== "function") {
    throw new PartitionerError("INVALID_CONFIG", `${name} must be a function, got ${typeof value}`);
  }
}
