import { describe, expect, it } from "vitest";
import { ClientError, isClientError } from "./errors.js";

describe("ClientError", () => {
  it("carries code, retriable, status, cause and the shared minikafka marker", () => {
    const cause = new Error("underlying");
    const error = new ClientError("BROKER_NOT_AVAILABLE", "the broker is shutting down", { retriable: true, status: 503, cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: "ClientError",
      code: "BROKER_NOT_AVAILABLE",
      retriable: true,
      status: 503,
      message: "the broker is shutting down",
    });
    expect(error.cause).toBe(cause);
    expect((error as unknown as Record<symbol, unknown>)[Symbol.for("minikafka.error")]).toBe("ClientError");
    expect(new ClientError("INVALID_CONFIG", "x")).toMatchObject({ retriable: false, status: undefined });
  });

  it("is recognised by its marker, across copies of the package, optionally by code", () => {
    const foreign = { [Symbol.for("minikafka.error")]: "ClientError", code: "UNKNOWN_MEMBER_ID" };
    expect(isClientError(foreign)).toBe(true);
    expect(isClientError(foreign, "UNKNOWN_MEMBER_ID")).toBe(true);
    expect(isClientError(foreign, "FENCED_MEMBER_EPOCH")).toBe(false);
    expect(isClientError({ [Symbol.for("minikafka.error")]: "BrokerError", code: "NOT_FOUND" })).toBe(false);
    expect(isClientError(new Error("x"))).toBe(false);
    expect(isClientError(null)).toBe(false);
  });
});
