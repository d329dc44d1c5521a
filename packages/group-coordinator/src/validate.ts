import type { Assignment } from "./assignors/types.js";
import { CoordinatorError, type CoordinatorErrorCode } from "./errors.js";

/** Longest group id, instance id or topic name accepted (Kafka's limit for topic names). */
export const MAX_NAME_LENGTH = 249;

// C0 and C1 control characters and DEL.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Checks a group id, instance id or topic name: a non-empty string of at most 249 characters, no control characters. */
export function checkName(kind: string, value: unknown, code: CoordinatorErrorCode = "INVALID_REQUEST"): string {
  if (typeof value !== "string") throw new CoordinatorError(code, `${kind} must be a string, got ${typeof value}`);
  if (value.length === 0) throw new CoordinatorError(code, `${kind} must not be empty`);
  if (value.length > MAX_NAME_LENGTH) {
    throw new CoordinatorError(code, `${kind} is ${value.length} characters long, at most ${MAX_NAME_LENGTH} allowed`);
  }
  if (CONTROL.test(value)) throw new CoordinatorError(code, `${kind} ${JSON.stringify(value)} contains control characters`);
  return value;
}

/** Checks a group id (`INVALID_GROUP_ID`). */
export function checkGroupId(groupId: unknown): string {
  return checkName("group id", groupId, "INVALID_GROUP_ID");
}

/** Checks a member id argument: a non-empty string (whether it is known is the group's business). */
export function checkMemberId(memberId: unknown): string {
  if (typeof memberId !== "string" || memberId.length === 0) {
    throw new CoordinatorError("INVALID_REQUEST", `member id must be a non-empty string, got ${JSON.stringify(memberId) ?? typeof memberId}`);
  }
  return memberId;
}

/** Checks a member epoch in a request: a safe integer ≥ 1 (0 means "join", which is `join()`). */
export function checkMemberEpoch(epoch: unknown): number {
  if (typeof epoch !== "number" || !Number.isSafeInteger(epoch) || epoch < 1) {
    throw new CoordinatorError("INVALID_REQUEST", `member epoch must be an integer >= 1, got ${String(epoch)}`);
  }
  return epoch;
}

/** Checks a subscription: a non-empty array of topic names; returns them sorted without duplicates, frozen. */
export function checkTopics(topics: unknown): readonly string[] {
  if (!Array.isArray(topics) || topics.length === 0) {
    throw new CoordinatorError("INVALID_REQUEST", "topics must be a non-empty array of topic names");
  }
  const unique = new Set<string>();
  for (const topic of topics) unique.add(checkName("topic", topic));
  return Object.freeze([...unique].sort());
}

/** Checks a partition number: a safe integer ≥ 0. */
export function isPartition(p: unknown): p is number {
  return typeof p === "number" && Number.isSafeInteger(p) && p >= 0;
}

/** Checks the shape of `ownedPartitions`: an array of `{ topic, partitions: number[] }`. */
export function checkOwnedPartitions(owned: unknown): Assignment {
  if (!Array.isArray(owned)) throw new CoordinatorError("INVALID_REQUEST", "ownedPartitions must be an array");
  for (const entry of owned as unknown[]) {
    const { topic, partitions } = (entry ?? {}) as { topic?: unknown; partitions?: unknown };
    if (typeof topic !== "string" || !Array.isArray(partitions)) {
      throw new CoordinatorError("INVALID_REQUEST", "ownedPartitions entries must be { topic: string, partitions: number[] }");
    }
    for (const p of partitions as unknown[]) {
      if (!isPartition(p)) throw new CoordinatorError("INVALID_REQUEST", `owned partition ${topic}-${String(p)} is not a partition number`);
    }
  }
  return owned as Assignment;
}
