// The broker's JSON shapes, as `packages/broker/src/schemas.ts` defines them. Internal: the public types
// (types.ts) are what users see; these are what travels.

/** `"utf8"`: strings are the text; `"base64"`: strings are base64 of the bytes. */
export type WireEncoding = "utf8" | "base64";

export interface WireProduceRecord {
  key?: string | null;
  value: string | null;
  headers?: Record<string, string | null>;
  partition?: number;
  timestamp?: number;
}

export interface WireProduceBody {
  records: WireProduceRecord[];
  encoding?: WireEncoding;
}

export interface WireProduceResult {
  offsets: Array<{ partition: number; offset: number }>;
}

export interface WireRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string | null>;
}

export interface WireFetchResult {
  records: WireRecord[];
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}

export interface WireMemberRecord extends WireRecord {
  topic: string;
  partition: number;
}

export interface WireMemberFetchResult {
  records: WireMemberRecord[];
}

export interface WireTopicPartitions {
  topic: string;
  partitions: number[];
}

export interface WireHeartbeatResult {
  memberEpoch: number;
  assignment: WireTopicPartitions[];
  heartbeatIntervalMs: number;
  revokingPartitions: WireTopicPartitions[];
  pendingPartitions: WireTopicPartitions[];
}

export interface WireJoinResult extends WireHeartbeatResult {
  memberId: string;
}

export interface WireGroupOffset {
  topic: string;
  partition: number;
  committedOffset: number | null;
  highWatermark: number;
  lag: number;
}

export interface WireGroupDescription {
  groupId: string;
  state: string;
  groupEpoch: number;
  assignmentEpoch: number;
  members: Array<{
    memberId: string;
    instanceId: string | null;
    memberEpoch: number;
    topics: string[];
    assignment: WireTopicPartitions[];
    revokingPartitions: WireTopicPartitions[];
    pendingPartitions: WireTopicPartitions[];
    targetAssignment: WireTopicPartitions[];
    lastHeartbeatMs: number;
    state: string;
  }>;
  offsets: WireGroupOffset[];
}

export interface WireGroupListing {
  groupId: string;
  state: string;
  groupEpoch: number;
  memberCount: number;
}

export interface WireErrorEnvelope {
  error: { code: string; message: string; retriable: boolean };
}
