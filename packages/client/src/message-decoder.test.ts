import { describe, expect, it } from "vitest";
import { base64Encode, utf8Encode } from "./bytes.js";
import { decodeMessages } from "./message-decoder.js";
import type { WireRecord } from "./wire.js";

const b64 = (text: string) => base64Encode(utf8Encode(text));

describe("decodeMessages", () => {
  it("decodes base64 keys, values and headers from `start`, as views of one buffer", () => {
    const records: WireRecord[] = [
      { offset: 0, timestamp: 1, key: null, value: b64("skipped"), headers: {} },
      { offset: 1, timestamp: 2, key: b64("k"), value: b64("v1"), headers: { h: b64("x"), n: null } },
      { offset: 2, timestamp: 3, key: null, value: null, headers: {} },
    ];
    const messages = decodeMessages<Uint8Array>(records, 1, "bytes");
    expect(messages).toEqual([
      { offset: 1, timestamp: 2, key: utf8Encode("k"), value: utf8Encode("v1"), headers: { h: utf8Encode("x"), n: null } },
      { offset: 2, timestamp: 3, key: null, value: null, headers: {} },
    ]);
    expect(messages[0]!.key!.buffer).toBe(messages[0]!.value!.buffer);
  });

  it("hands text records out as they are", () => {
    const records: WireRecord[] = [
      { offset: 4, timestamp: 1, key: "a", value: "b", headers: {} },
      { offset: 5, timestamp: 1, key: null, value: "c", headers: {} },
    ];
    expect(decodeMessages(records, 0, "text")).toBe(records);
    expect(decodeMessages(records, 1, "text")).toEqual([records[1]]);
  });
});
