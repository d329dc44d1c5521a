import { LogStoreError } from "./errors.js";

/** Kafka's limit on topic name length. */
export const MAX_TOPIC_NAME_LENGTH = 249;
/**
 * Longest accepted consumer group id: 249, the limit the coordinator and the broker's schemas apply too
 * (Kafka's topic-name limit, which minikafka uses for every name), so a group the store accepts is one
 * the coordinator can serve.
 */
export const MAX_GROUP_ID_LENGTH = 249;

const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** Whether `name` is a valid topic name (see {@link validateTopicName}). */
export function isTopicName(name: string): boolean {
  try {
    validateTopicName(name);
    return true;
  } catch {
    return false;
  }
}

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
 * The rule before 249 was applied to group ids (255 characters; C1 controls allowed). Reads and deletes
 * still accept such ids, so that groups committed by an older version stay readable and can be forgotten.
 */
const LEGACY_MAX_GROUP_ID_LENGTH = 255;

/**
 * Checks a consumer group id: 1 to 249 characters, no control characters (C0, DEL and C1, as the
 * coordinator). Group ids never become path segments (files are named by a hash), so any other character
 * is fine. With `legacy` (reads and deletes), ids an older version accepted pass too: up to 255
 * characters, C1 controls allowed.
 * @throws LogStoreError `INVALID_GROUP_ID`
 */
export function validateGroupId(groupId: unknown, legacy = false): asserts groupId is string {
  const max = legacy ? LEGACY_MAX_GROUP_ID_LENGTH : MAX_GROUP_ID_LENGTH;
  if (typeof groupId !== "string" || groupId.length === 0 || groupId.length > max) {
    throw new LogStoreError("INVALID_GROUP_ID", `group id must be a string of 1 to ${max} characters`);
  }
  // eslint-disable-next-line no-control-regex
  if ((legacy ? /[\u0000-\u001f\u007f]/ : /[\u0000-\u001f\u007f-\u009f]/).test(groupId))
    throw new LogStoreError("INVALID_GROUP_ID", `group id ${JSON.stringify(groupId)} contains control characters`);
}
