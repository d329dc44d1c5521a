import { ClusterError, type ClusterErrorCode } from "@minikafka/cluster";
import { CoordinatorError, type CoordinatorErrorCode } from "@minikafka/group-coordinator";
import { LogStoreError, type LogStoreErrorCode } from "@minikafka/log-store";
import { PartitionerError, type PartitionerErrorCode } from "@minikafka/partitioner";
import { ERRORS, type ErrorRow } from "@minikafka/protocol/errors";
import { describe, expect, it } from "vitest";
import { toErrorResponse } from "./error-handler.js";
import { BrokerError, type BrokerErrorCode } from "./errors.js";

// Every code of every class, as exhaustive records: a code added to a leaf without being listed here (or
// without a row in the protocol's table, see SERVER_ERROR_ROWS in errors.ts) fails type checking.
const LOG_STORE: Record<LogStoreErrorCode, true> = {
  INVALID_TOPIC_NAME: true,
  TOPIC_ALREADY_EXISTS: true,
  UNKNOWN_TOPIC_OR_PARTITION: true,
  INVALID_PARTITIONS: true,
  OFFSET_OUT_OF_RANGE: true,
  INVALID_RECORD: true,
  INVALID_REQUEST: true,
  INVALID_GROUP_ID: true,
  CORRUPT_RECORD: true,
  KAFKA_STORAGE_ERROR: true,
  DISK_FULL: true,
  TOO_MANY_OPEN_FILES: true,
  TOPIC_LIMIT_REACHED: true,
  DATA_DIR_LOCKED: true,
  STORE_CLOSED: true,
  OUT_OF_ORDER_SEQUENCE_NUMBER: true,
  INVALID_PRODUCER_EPOCH: true,
  UNKNOWN_PRODUCER_ID: true,
  FENCED_LEADER_EPOCH: true,
};
const PARTITIONER: Record<PartitionerErrorCode, true> = {
  UNKNOWN_TOPIC_OR_PARTITION: true,
  INVALID_PARTITIONS: true,
  INVALID_RECORD: true,
  INVALID_CONFIG: true,
};
const COORDINATOR: Record<CoordinatorErrorCode, true> = {
  INVALID_GROUP_ID: true,
  GROUP_ID_NOT_FOUND: true,
  NON_EMPTY_GROUP: true,
  UNKNOWN_MEMBER_ID: true,
  FENCED_MEMBER_EPOCH: true,
  STALE_MEMBER_EPOCH: true,
  FENCED_INSTANCE_ID: true,
  UNASSIGNED_PARTITION: true,
  UNKNOWN_TOPIC_OR_PARTITION: true,
  INVALID_SESSION_TIMEOUT: true,
  INVALID_REQUEST: true,
  INVALID_CONFIG: true,
  COORDINATOR_NOT_AVAILABLE: true,
  UNKNOWN_SERVER_ERROR: true,
};
const BROKER: Record<BrokerErrorCode, true> = {
  INVALID_REQUEST: true,
  INVALID_TOPIC_NAME: true,
  INVALID_PARTITIONS: true,
  INVALID_RECORD: true,
  INVALID_GROUP_ID: true,
  UNKNOWN_TOPIC_OR_PARTITION: true,
  UNKNOWN_MEMBER_ID: true,
  OFFSET_OUT_OF_RANGE: true,
  REQUEST_TOO_LARGE: true,
  RECORD_LIST_TOO_LARGE: true,
  MESSAGE_TOO_LARGE: true,
  UNSUPPORTED_MEDIA_TYPE: true,
  ORIGIN_NOT_ALLOWED: true,
  AUTHENTICATION_FAILED: true,
  TOPIC_AUTHORIZATION_FAILED: true,
  STREAM_AUTHORIZATION_FAILED: true,
  GROUP_AUTHORIZATION_FAILED: true,
  CLUSTER_AUTHORIZATION_FAILED: true,
  THROTTLING_QUOTA_EXCEEDED: true,
  NOT_FOUND: true,
  BROKER_NOT_AVAILABLE: true,
  INTERNAL_ERROR: true,
  STREAM_ALREADY_EXISTS: true,
  STREAM_CLOSED: true,
  STREAM_SEQUENCE_CONFLICT: true,
  CONTENT_TYPE_MISMATCH: true,
  STREAM_GONE: true,
  INVALID_PRODUCER_EPOCH: true,
  OUT_OF_ORDER_SEQUENCE_NUMBER: true,
  INVALID_REPLICATION_FACTOR: true,
  NOT_LEADER_OR_FOLLOWER: true,
  NOT_ENOUGH_REPLICAS: true,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: true,
  NOT_COORDINATOR: true,
  COORDINATOR_NOT_AVAILABLE: true,
};
const CLUSTER: Record<ClusterErrorCode, true> = {
  INVALID_CONFIG: true,
  INVALID_REPLICATION_FACTOR: true,
  INVALID_PARTITIONS: true,
  TOPIC_ALREADY_EXISTS: true,
  UNKNOWN_TOPIC_OR_PARTITION: true,
  NOT_CONTROLLER: true,
  CLUSTER_UNAVAILABLE: true,
};

const silent = { error() {} };

describe("the protocol's error table against every error class", () => {
  const cases: Array<readonly [string, string, Error & { code: string; retriable: boolean }]> = [
    ...Object.keys(LOG_STORE).map((code) => ["LogStoreError", code, new LogStoreError(code as LogStoreErrorCode, "m")] as const),
    ...Object.keys(PARTITIONER).map((code) => ["PartitionerError", code, new PartitionerError(code as PartitionerErrorCode, "m")] as const),
    ...Object.keys(COORDINATOR).map((code) => ["CoordinatorError", code, new CoordinatorError(code as CoordinatorErrorCode, "m")] as const),
    ...Object.keys(CLUSTER).map((code) => ["ClusterError", code, new ClusterError(code as ClusterErrorCode, "m")] as const),
    ...Object.keys(BROKER).map((code) => ["BrokerError", code, new BrokerError(code as BrokerErrorCode, "m")] as const),
  ];

  it.each(cases)("%s %s: the retriable flag and the HTTP status are the table's", (_, code, error) => {
    const row = (ERRORS as Record<string, ErrorRow>)[code]!;
    expect(row.status).toBeGreaterThanOrEqual(400);
    expect(error.retriable).toBe(row.retriable === true);
    expect(toErrorResponse(error, silent)).toEqual({
      status: row.status,
      body: { error: { code, message: "m", retriable: row.retriable === true } },
    });
  });
});
