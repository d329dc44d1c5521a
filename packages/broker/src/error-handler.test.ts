import { CoordinatorError } from "@minikafka/group-coordinator";
import { LogStoreError } from "@minikafka/log-store";
import { PartitionerError } from "@minikafka/partitioner";
import { describe, expect, it, vi } from "vitest";
import { ERROR_STATUS, toErrorResponse } from "./error-handler.js";
import { BrokerError, isBrokerError } from "./errors.js";

const silent = { error: vi.fn() };

describe("error mapping", () => {
  it("maps every leaf class by marker and code through one table", () => {
    const cases: Array<[Error, number]> = [
      [new LogStoreError("UNKNOWN_TOPIC_OR_PARTITION", 'unknown topic "x"'), 404],
      [new LogStoreError("OFFSET_OUT_OF_RANGE", "offset 9 is outside [0, 3]"), 416],
      [new LogStoreError("KAFKA_STORAGE_ERROR", "disk full"), 503],
      [new PartitionerError("UNKNOWN_TOPIC_OR_PARTITION", "partition 7 is outside [0, 6)"), 404],
      [new CoordinatorError("FENCED_MEMBER_EPOCH", "epoch 3 is stale"), 409],
      [new CoordinatorError("STALE_MEMBER_EPOCH", "epoch 3 is stale"), 409],
      [new CoordinatorError("GROUP_ID_NOT_FOUND", "group g does not exist"), 404],
      [new BrokerError("REQUEST_TOO_LARGE", "too large"), 413],
      [new BrokerError("BROKER_NOT_AVAILABLE", "shutting down"), 503],
    ];
    for (const [error, status] of cases) {
      const e = error as Error & { code: string; retriable: boolean };
      expect(toErrorResponse(e, silent)).toEqual({ status, body: { error: { code: e.code, message: e.message, retriable: e.retriable } } });
    }
    expect(toErrorResponse(new CoordinatorError("STALE_MEMBER_EPOCH", "x"), silent).body.error.retriable).toBe(true);
  });

  it("recognises errors from another copy of a package by the marker alone", () => {
    const foreign = Object.assign(new Error("unknown topic"), {
      code: "UNKNOWN_TOPIC_OR_PARTITION",
      retriable: false,
      [Symbol.for("minikafka.error")]: "LogStoreError",
    });
    expect(toErrorResponse(foreign, silent).status).toBe(404);
    // Same code, no marker: not trusted.
    const impostor = Object.assign(new Error("secret details"), { code: "UNKNOWN_TOPIC_OR_PARTITION" });
    expect(toErrorResponse(impostor, silent)).toEqual({
      status: 500,
      body: { error: { code: "INTERNAL_ERROR", message: "internal error", retriable: false } },
    });
  });

  it("answers unknown errors with a generic 500 and logs them", () => {
    const logger = { error: vi.fn() };
    const boom = new TypeError("cannot read properties of undefined (reading 'x') at /secret/path.ts");
    expect(toErrorResponse(boom, logger)).toEqual({
      status: 500,
      body: { error: { code: "INTERNAL_ERROR", message: "internal error", retriable: false } },
    });
    expect(logger.error).toHaveBeenCalledWith("minikafka broker: unexpected error", boom);
    expect(toErrorResponse("a string", logger).status).toBe(500);
  });

  it("answers a code missing from the table with 500 and logs it", () => {
    const logger = { error: vi.fn() };
    const error = Object.assign(new Error("new failure"), {
      code: "SOMETHING_NEW",
      retriable: false,
      [Symbol.for("minikafka.error")]: "LogStoreError",
    });
    expect(toErrorResponse(error, logger)).toEqual({
      status: 500,
      body: { error: { code: "SOMETHING_NEW", message: "new failure", retriable: false } },
    });
    expect(logger.error).toHaveBeenCalledTimes(1);
  });

  it("maps only 4xx and 5xx statuses", () => {
    for (const status of Object.values(ERROR_STATUS)) expect(status).toBeGreaterThanOrEqual(400);
  });
});

describe("BrokerError", () => {
  it("carries code, retriable and the shared marker", () => {
    const error = new BrokerError("BROKER_NOT_AVAILABLE", "shutting down");
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.code, error.retriable, error.message]).toEqual(["BrokerError", "BROKER_NOT_AVAILABLE", true, "shutting down"]);
    expect((error as unknown as Record<symbol, unknown>)[Symbol.for("minikafka.error")]).toBe("BrokerError");
    expect(new BrokerError("INVALID_REQUEST", "x").retriable).toBe(false);
    expect(isBrokerError(error)).toBe(true);
    expect(isBrokerError({ [Symbol.for("minikafka.error")]: "BrokerError" })).toBe(true);
    expect(isBrokerError(new LogStoreError("INVALID_REQUEST", "x"))).toBe(false);
    expect(isBrokerError(null)).toBe(false);
  });
});
