// How big one produce request may be, record by record: a transport-neutral rule of the produce path
// (the /v1 records route and the seed's produce share it), checked before anything is appended.
import { BrokerError } from "../errors.js";

/** Bounds of what one produce request may carry (each a positive integer; see the defaults below). */
export interface RecordLimits {
  /** Records in one produce request (default {@link DEFAULT_RECORD_LIMITS}`.maxRecordsPerRequest`). */
  readonly maxRecordsPerRequest: number;
  /** Bytes of one record's key, as stored (UTF-8, or decoded base64). */
  readonly maxKeyBytes: number;
  /** Bytes of one record's value, as stored. */
  readonly maxValueBytes: number;
  /** Headers of one record. */
  readonly maxHeadersPerRecord: number;
  /** Bytes of one header: its name (UTF-8) and its value together. */
  readonly maxHeaderBytes: number;
}

/**
 * The defaults: 10 000 records (the client's default batch), 64 KiB keys, 1 MiB values (Kafka's
 * `message.max.bytes` is about that), 64 headers of at most 64 KiB each.
 */
export const DEFAULT_RECORD_LIMITS: RecordLimits = Object.freeze({
  maxRecordsPerRequest: 10_000,
  maxKeyBytes: 64 * 1024,
  maxValueBytes: 1024 * 1024,
  maxHeadersPerRecord: 64,
  maxHeaderBytes: 64 * 1024,
});

const encoder = new TextEncoder();

/**
 * The UTF-8 length of `value`, or a lower bound of it that is already over `max`, without encoding when
 * its length decides (each UTF-16 unit is 1 to 3 UTF-8 bytes).
 */
function byteLength(value: string | Uint8Array, max: number): number {
  if (typeof value !== "string") return value.length;
  if (value.length * 3 <= max || value.length > max) return value.length;
  return encoder.encode(value).length;
}

/** Refuses more than `maxRecordsPerRequest` records. @throws BrokerError `RECORD_LIST_TOO_LARGE` */
export function checkRecordCount(limits: RecordLimits, count: number): void {
  if (count > limits.maxRecordsPerRequest) {
    throw new BrokerError("RECORD_LIST_TOO_LARGE", `a produce request may carry at most ${limits.maxRecordsPerRequest} records, got ${count}`);
  }
}

/**
 * Refuses a record whose key, value or a header is larger than its limit, or that has too many headers.
 * Sizes are of the bytes stored: give decoded bytes for base64 fields.
 * @throws BrokerError `MESSAGE_TOO_LARGE` naming the record (by index) and what is too large.
 */
export function checkRecord(
  limits: RecordLimits,
  index: number,
  key: string | Uint8Array | null | undefined,
  value: string | Uint8Array | null | undefined,
  headers: Readonly<Record<string, string | Uint8Array | null>> | undefined,
): void {
  if (key !== null && key !== undefined) {
    const n = byteLength(key, limits.maxKeyBytes);
    if (n > limits.maxKeyBytes) throw tooLarge(index, "key", limits.maxKeyBytes);
  }
  if (value !== null && value !== undefined) {
    const n = byteLength(value, limits.maxValueBytes);
    if (n > limits.maxValueBytes) throw tooLarge(index, "value", limits.maxValueBytes);
  }
  if (headers === undefined) return;
  let count = 0;
  for (const name in headers) {
    if (++count > limits.maxHeadersPerRecord) {
      throw new BrokerError("MESSAGE_TOO_LARGE", `record ${index} has more than ${limits.maxHeadersPerRecord} headers`);
    }
    const v = headers[name];
    const valueUnits = v === null || v === undefined ? 0 : v.length;
    // Exact only when the lengths do not decide (a value's UTF-16 units are at most 3 bytes each).
    const n =
      (name.length + valueUnits) * 3 <= limits.maxHeaderBytes
        ? 0
        : encoder.encode(name).length + (v === null || v === undefined ? 0 : typeof v === "string" ? encoder.encode(v).length : v.length);
    if (n > limits.maxHeaderBytes)
      throw tooLarge(index, `header ${JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name)}`, limits.maxHeaderBytes);
  }
}

function tooLarge(index: number, what: string, max: number): BrokerError {
  return new BrokerError("MESSAGE_TOO_LARGE", `record ${index}: the ${what} is larger than the limit of ${max} bytes`);
}
