import { LogStoreError } from "./errors.js";

/** Kafka's limit on topic name length. */
export const MAX_TOPIC_NAME_LENGTH = 249;
/** Longest accepted consumer group id. */
export const MAX_GROUP_ID_LENGTH = 255;

const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/**
 * Checks a topic name against Kafka's rule `[a-zA-Z0-9._-]{1,249}`, not `.` or `..`. Names starting with
 * `__` are reserved for internal use (Kafka's convention; `__offsets` holds committed offsets), as is
 * `.lock`. Because the name is a directory name, this is also what keeps every file inside the data dir.
 * @throws LogStoreError `INVALID_TOPIC_NAME`
 */
export function validateTopicName(name: unknown): asserts name is string {
  if (typeof name !== "string") throw new LogStoreError("INVALID_TOPIC_NAME", `topic name must be a string, got ${typeof name}`);
  if (name.length === 0 || name.length > MAX_TOPIC_NAME_LENGTH) {
    throw new LogStoreError("INVALID_TOPIC_NAME", `topic name must be 1 to ${MAX_TOPIC_NAME_LENGTH} characters, got ${name.length}`);
  }
  if (!TOPIC_NAME.test(name))
    throw new LogStoreError("INVALID_TOPIC_NAME", `topic name ${JSON.stringify(name)} may only contain a-z, A-Z, 0-9, '.', '_' and '-'`);
  if (name === "." || name === "..") throw new LogStoreError("INVALID_TOPIC_NAME", `topic name ${JSON.stringify(name)} is not allowed`);
  if (name.startsWith("__") || name === ".lock")
    throw new LogStoreError("INVALID_TOPIC_NAME", `topic name ${JSON.stringify(name)} is reserved for internal use`);
}

/**
 * Checks a consumer group id: 1 to 255 characters, no control characters. Group ids never become path
 * segments (files are named by a hash), so any other character is fine.
 * @throws LogStoreError `INVALID_GROUP_ID`
 */
export function validateGroupId(groupId: unknown): asserts groupId is string {
  if (typeof groupId !== "string" || groupId.length === 0 || groupId.length > MAX_GROUP_ID_LENGTH) {
    throw new LogStoreError("INVALID_GROUP_ID", `group id must be a string of 1 to ${MAX_GROUP_ID_LENGTH} characters`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(groupId))
    throw new LogStoreError("INVALID_GROUP_ID", `group id ${JSON.stringify(groupId)} contains control characters`);
}
