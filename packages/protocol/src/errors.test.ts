import { describe, expect, it } from "vitest";
import { ERRORS, errorCodesWhere, errorRow, type ErrorRow } from "./errors.js";

describe("the error table", () => {
  const rows = Object.entries(ERRORS as Record<string, ErrorRow>);

  it("gives client-only codes status 0 and every other code a 4xx or 5xx status", () => {
    expect(rows.filter(([, row]) => row.status === 0).map(([code]) => code)).toEqual([
      "NETWORK_EXCEPTION",
      "REQUEST_TIMED_OUT",
      "CLIENT_DISCONNECTED",
    ]);
    for (const [, row] of rows) if (row.status !== 0) expect(row.status >= 400 && row.status < 600).toBe(true);
  });

  it("uses each Kafka error code at most once", () => {
    const kafka = rows.flatMap(([, row]) => (row.kafka === undefined ? [] : [row.kafka]));
    expect(new Set(kafka).size).toBe(kafka.length);
  });

  it("derives the sets the client and broker use", () => {
    expect([...errorCodesWhere((r) => r.member === "lost")]).toEqual(["GROUP_ID_NOT_FOUND", "UNKNOWN_MEMBER_ID", "FENCED_MEMBER_EPOCH"]);
    expect([...errorCodesWhere((r) => r.member !== undefined)]).toEqual([
      "GROUP_ID_NOT_FOUND",
      "UNKNOWN_MEMBER_ID",
      "FENCED_MEMBER_EPOCH",
      "FENCED_INSTANCE_ID",
    ]);
    expect([...errorCodesWhere((r) => r.partialWrite === true)]).toEqual([
      "KAFKA_STORAGE_ERROR",
      "DISK_FULL",
      "TOO_MANY_OPEN_FILES",
      "NOT_LEADER_OR_FOLLOWER",
      "NOT_ENOUGH_REPLICAS",
      "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
    ]);
    expect([...errorCodesWhere((r) => r.retriable === true)]).toEqual([
      "STALE_MEMBER_EPOCH",
      "THROTTLING_QUOTA_EXCEEDED",
      "KAFKA_STORAGE_ERROR",
      "DISK_FULL",
      "TOO_MANY_OPEN_FILES",
      "COORDINATOR_NOT_AVAILABLE",
      "BROKER_NOT_AVAILABLE",
      "NOT_LEADER_OR_FOLLOWER",
      "NOT_COORDINATOR",
      "NOT_ENOUGH_REPLICAS",
      "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
      "NOT_CONTROLLER",
      "CLUSTER_UNAVAILABLE",
      "NETWORK_EXCEPTION",
      "REQUEST_TIMED_OUT",
    ]);
  });

  it("looks rows up by own key only", () => {
    expect(errorRow("OFFSET_OUT_OF_RANGE")).toEqual({ status: 416, kafka: 1 });
    expect(errorRow("SOMETHING_NEWER")).toBeUndefined();
    expect(errorRow("constructor")).toBeUndefined();
    expect(errorRow("__proto__")).toBeUndefined();
  });
});
