import type { StoredRecord } from "@minikafka/log-store";
import { describe, expect, it } from "vitest";
import { JsonBytes, writeRecordsJson, type Encoding } from "./encoding.js";

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ["plain text", 'quote " inside', "back\\slash", "tab\tnew\nline", "\u0000\u001f", "ünïcødé ✓", "emoji 🎉", "{json:true}", "", "~"];

function bytesFor(rand: () => number): Uint8Array | null {
  const pick = rand();
  if (pick < 0.1) return null;
  if (pick < 0.2) return Uint8Array.from({ length: Math.floor(rand() * 8) }, () => Math.floor(rand() * 256)); // often invalid UTF-8
  return new TextEncoder().encode(PIECES[Math.floor(rand() * PIECES.length)]!.repeat(1 + Math.floor(rand() * 3)));
}

/** What the records should look like: the straightforward decode + JSON.stringify path. */
function expected(records: StoredRecord[], encoding: Encoding, prefix: object) {
  const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString(encoding));
  return records.map((r) => ({
    ...prefix,
    offset: r.offset,
    timestamp: r.timestamp,
    key: text(r.key),
    value: text(r.value),
    headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, text(v)])),
  }));
}

describe("writeRecordsJson", () => {
  for (const encoding of ["utf8", "base64"] as const) {
    it(`writes JSON equal to JSON.stringify's for random records (${encoding})`, () => {
      const rand = random(encoding === "utf8" ? 1 : 2);
      const records: StoredRecord[] = Array.from({ length: 500 }, (_, i): StoredRecord => ({
        offset: i === 0 ? 0 : Math.floor(rand() * 2 ** 53),
        timestamp: i === 1 ? 9 : Math.floor(rand() * 2 ** 45),
        key: bytesFor(rand),
        value: bytesFor(rand),
        headers: (rand() < 0.3 ? { [PIECES[Math.floor(rand() * PIECES.length)]!]: bytesFor(rand), trace: bytesFor(rand) } : {}) as Record<
          string,
          Uint8Array | null
        >,
      }));
      const out = new JsonBytes(16).ascii("[");
      const first = writeRecordsJson(out, records.slice(0, 200), encoding, { prefix: '"topic":"t.1","partition":7,' });
      const rest = writeRecordsJson(out, records.slice(200), encoding, { prefix: '"topic":"t.1","partition":7,', first: false, limit: 250 });
      out.ascii("]");
      expect([first.count, rest.count]).toEqual([200, 250]);
      const parsed = JSON.parse(new TextDecoder().decode(out.bytes()));
      expect(parsed).toEqual(expected(records.slice(0, 450), encoding, { topic: "t.1", partition: 7 }));
    });
  }

  it("writes runs of equal timestamps, large numbers and values that outgrow the buffer", () => {
    const rand = random(3);
    let timestamp = 1_700_000_000_000;
    const records: StoredRecord[] = Array.from({ length: 300 }, (_, i): StoredRecord => {
      if (rand() < 0.2) timestamp = Math.floor(rand() * 2 ** 53);
      const plain = new TextEncoder().encode("p".repeat(Math.floor(rand() * 300)));
      return {
        offset: [0, 9, 10, 2 ** 31 - 1, 2 ** 31, 10 ** 9, 2 ** 53 - 1][i % 7]! + (i % 7 < 3 ? i : 0),
        timestamp,
        key: rand() < 0.5 ? null : bytesFor(rand),
        value: rand() < 0.5 ? plain : bytesFor(rand),
        headers: rand() < 0.1 ? { h: bytesFor(rand) } : {},
      };
    });
    for (const encoding of ["utf8", "base64"] as const) {
      const out = new JsonBytes(1).ascii("[");
      writeRecordsJson(out, records, encoding, { prefix: '"partition":0,' });
      out.ascii("]");
      expect(JSON.parse(new TextDecoder().decode(out.bytes()))).toEqual(expected(records, encoding, { partition: 0 }));
    }
  });

  it("writes nothing for an empty list and counts key and value bytes", () => {
    const out = new JsonBytes();
    expect(writeRecordsJson(out, [], "utf8")).toEqual({ count: 0, bytes: 0 });
    expect(out.bytes().length).toBe(0);
    const record = { offset: 1, timestamp: 2, key: new Uint8Array(3), value: new Uint8Array(4), headers: {} };
    expect(writeRecordsJson(out, [record], "base64")).toEqual({ count: 1, bytes: 7 });
  });
});
