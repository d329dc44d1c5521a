import { isPartitionerError, type PartitionerError } from "../../src/errors.js";

/** The PartitionerError that `fn` throws; fails the test if it throws nothing or something else. */
export function catchError(fn: () => unknown): PartitionerError {
  try {
    fn();
  } catch (e) {
    if (isPartitionerError(e)) return e;
    throw e;
  }
  throw new Error("expected a PartitionerError, nothing was thrown");
}
