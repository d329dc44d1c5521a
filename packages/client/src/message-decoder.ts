import { Base64Batch, base64DecodedLength } from "./bytes.js";
import type { KafkaMessage, MessageFormat } from "./types.js";
import type { WireRecord } from "./wire.js";

/**
 * `records[start..]` as messages. For `"text"` the wire records already are the messages (their extra
 * topic/partition fields are harmless), so nothing is copied; for `"bytes"`, every key, value and header
 * of the fetch is decoded into one buffer (one allocation per fetch, views per field). Internal.
 */
export function decodeMessages<T>(records: WireRecord[], start: number, format: MessageFormat): KafkaMessage<T>[] {
  if (format === "text") return (start === 0 ? records : records.slice(start)) as unknown as KafkaMessage<T>[];
  let total = 0;
  for (let i = start; i < records.length; i++) {
    const { key, value, headers } = records[i]!;
    if (key !== null) total += base64DecodedLength(key);
    if (value !== null) total += base64DecodedLength(value);
    for (const name in headers) {
      const header = headers[name]!;
      if (header !== null) total += base64DecodedLength(header);
    }
  }
  const bytes = new Base64Batch(total);
  const messages: KafkaMessage<Uint8Array>[] = new Array(records.length - start);
  for (let i = start; i < records.length; i++) {
    const record = records[i]!;
    const headers: Record<string, Uint8Array | null> = {};
    for (const name in record.headers) {
      const header = record.headers[name]!;
      headers[name] = header === null ? null : bytes.take(header);
    }
    messages[i - start] = {
      offset: record.offset,
      timestamp: record.timestamp,
      key: record.key === null ? null : bytes.take(record.key),
      value: record.value === null ? null : bytes.take(record.value),
      headers,
    };
  }
  return messages as unknown as KafkaMessage<T>[];
}
