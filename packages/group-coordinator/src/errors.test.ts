import { describe, expect, it } from "vitest";
import { CoordinatorError, isCoordinatorError } from "./errors.js";

describe("CoordinatorError", () => {
  it("carries code, retriable flag, name, message and cause", () => {
    const cause = new Error("boom");
    const e = new CoordinatorError("STALE_MEMBER_EPOCH", "member m-1 epoch 3 is stale, current is 5", { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("CoordinatorError");
    expect(e.code).toBe("STALE_MEMBER_EPOCH");
    expect(e.retriable).toBe(true);
    expect(e.message).toBe("member m-1 epoch 3 is stale, current is 5");
    expect(e.cause).toBe(cause);
    expect((e as unknown as Record<symbol, unknown>)[Symbol.for("minikafka.error")]).toBe("CoordinatorError");
  });

  it.each([
    ["FENCED_MEMBER_EPOCH", false],
    ["UNKNOWN_MEMBER_ID", false],
    ["UNASSIGNED_PARTITION", false],
    ["COORDINATOR_NOT_AVAILABLE", true],
  ] as const)("%s is retriable: %s", (code, retriable) => {
    expect(new CoordinatorError(code, "x").retriable).toBe(retriable);
  });

  it("is recognised by its marker, also from another copy of the package", () => {
    const foreign = Object.assign(new Error("from a duplicated install"), {
      code: "UNKNOWN_MEMBER_ID",
      [Symbol.for("minikafka.error")]: "CoordinatorError",
    });
    expect(isCoordinatorError(new CoordinatorError("INVALID_REQUEST", "x"))).toBe(true);
    expect(isCoordinatorError(foreign)).toBe(true);
    expect(isCoordinatorError(new Error("plain"))).toBe(false);
    expect(isCoordinatorError({ [Symbol.for("minikafka.error")]: "LogStoreError" })).toBe(false);
    expect(isCoordinatorError(null)).toBe(false);
    expect(isCoordinatorError("CoordinatorError")).toBe(false);
  });
});
