// Pure helpers of the Durable Streams layer: offset tokens, header value rules, JSON-mode splitting, the
// live-read cursor and SSE framing. No I/O, no transport.
import { BrokerError } from "../errors.js";

/**
 * Offset tokens are `<generation>_<position>`, two fixed-width 16-digit fields, so they sort
 * lexicographically in stream order. `position` counts data positions from 0 (the beginning of every stream,
 * and the tail of an empty one, is `0000000000000000_0000000000000000`); stream offset `n` (1 = the first
 * data record) is position `n - 1`. `generation` is 0: reserved, so that a later rewrite of the storage
 * could mint tokens that sort after every existing one.
 */
const TOKEN = /^(\d{16})_(\d{16})$/;
const GENERATION = "0000000000000000";

/** The opaque offset token of stream offset `offset` (≥ 1, a safe integer). */
export function offsetToken(offset: number): string {
  return `${GENERATION}_${String(offset - 1).padStart(16, "0")}`;
}

/**
 * Parses a client's `offset` value: `-1` (the start), `now` (the tail), or a token of this server (as a
 * stream offset, ≥ 1).
 * @throws BrokerError `INVALID_REQUEST` for anything else (an empty value, `..`, commas, another generation, …).
 */
export function parseOffset(value: string): number | "start" | "now" {
  if (value === "-1") return "start";
  if (value === "now") return "now";
  const m = TOKEN.exec(value);
  if (m === null || m[1] !== GENERATION)
    throw new BrokerError("INVALID_REQUEST", `offset ${JSON.stringify(value.slice(0, 64))} is not -1, now or an offset token`);
  const n = Number(m[2]);
  if (!Number.isSafeInteger(n + 1)) throw new BrokerError("INVALID_REQUEST", `offset ${value} is out of range`);
  return n + 1;
}

/** A decimal non-negative integer without sign, leading zeros, fraction or exponent (`Stream-TTL`, sub-offsets). */
const STRICT_UINT = /^(0|[1-9]\d*)$/;

/**
 * Parses a strict non-negative decimal integer header value.
 * @throws BrokerError `INVALID_REQUEST`
 */
export function parseStrictUint(name: string, value: string): number {
  const n = STRICT_UINT.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n))
    throw new BrokerError("INVALID_REQUEST", `${name} must be a non-negative integer, got ${JSON.stringify(value.slice(0, 64))}`);
  return n;
}

/** Producer-Epoch / Producer-Seq: digits only (leading zeros allowed, as the reference server), ≤ 2^53-1. */
export function parseProducerNumber(name: string, value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n))
    throw new BrokerError("INVALID_REQUEST", `${name} must be a non-negative integer up to 2^53-1, got ${JSON.stringify(value.slice(0, 64))}`);
  return n;
}

/** The media type of a `Content-Type` value, lower-cased, without parameters (`text/plain; charset=utf-8` → `text/plain`). */
export function mediaType(contentType: string): string {
  return contentType.split(";")[0]!.trim().toLowerCase();
}

/** A `Content-Type` value that names a media type (`type/subtype`). */
export function isValidContentType(contentType: string | undefined): contentType is string {
  return contentType !== undefined && /^[\w.+-]+\/[\w.+-]+/.test(contentType.trim());
}

/** JSON mode: streams whose media type is `application/json`. */
export function isJsonType(contentType: string): boolean {
  return mediaType(contentType) === "application/json";
}

/** SSE carries text as is for `text/*` and JSON streams; every other type is base64-encoded. */
export function isTextType(contentType: string): boolean {
  const t = mediaType(contentType);
  return t.startsWith("text/") || t === "application/json";
}

/**
 * The messages of a JSON-mode body, as their exact source texts joined by `,` (so a read can wrap stored
 * groups in `[` … `]` without re-serialising them): one level of a top-level array is flattened, anything
 * else is one message. Returns the joined text and the message count.
 * @throws BrokerError `INVALID_REQUEST` for invalid JSON, or an empty array when `allowEmpty` is false.
 */
export function splitJsonMessages(text: string, allowEmpty: boolean): { text: string; count: number } {
  try {
    JSON.parse(text);
  } catch {
    throw new BrokerError("INVALID_REQUEST", "the body is not valid JSON");
  }
  const trimmed = text.trim();
  if (!trimmed.startsWith("[")) return { text: trimmed, count: 1 };
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 1;
  for (let i = 1; i < trimmed.length; i++) {
    const ch = trimmed.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
      continue;
    }
    if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) depth++;
    else if (ch === 0x5d || ch === 0x7d) {
      if (depth === 0) {
        const last = trimmed.slice(start, i).trim();
        if (last.length > 0) parts.push(last);
        break;
      }
      depth--;
    } else if (ch === 0x2c && depth === 0) {
      parts.push(trimmed.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (parts.length === 0 && !allowEmpty) throw new BrokerError("INVALID_REQUEST", "an append of an empty JSON array appends nothing");
  return { text: parts.join(","), count: parts.length };
}

/** Splits a stored JSON group (`m1,m2,…`, see {@link splitJsonMessages}) back into its message texts. */
export function jsonGroupMessages(group: string): string[] {
  return group.length === 0 ? [] : splitTopLevel(group);
}

function splitTopLevel(group: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < group.length; i++) {
    const ch = group.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++;
      else if (ch === 0x22) inString = false;
      continue;
    }
    if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) depth++;
    else if (ch === 0x5d || ch === 0x7d) depth--;
    else if (ch === 0x2c && depth === 0) {
      out.push(group.slice(start, i));
      start = i + 1;
    }
  }
  out.push(group.slice(start));
  return out;
}

/** Cursor intervals: 20 s counted from 2024-10-09T00:00:00Z (the protocol's defaults). */
const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9);
const CURSOR_INTERVAL_MS = 20_000;

/** The cursor interval number at time `now` (ms): what a live answer's `Stream-Cursor` is at least. */
export function cursorInterval(now: number): number {
  return Math.floor((now - CURSOR_EPOCH_MS) / CURSOR_INTERVAL_MS);
}

/** A client's `cursor` parameter as a number (`NaN` when absent or not a cursor). */
export function parseCursor(cursor: string | undefined): number {
  return cursor !== undefined && /^\d{1,15}$/.test(cursor) ? Number(cursor) : NaN;
}

/**
 * The `Stream-Cursor` of a live answer at time `now` (ms): the current interval number, or — when the
 * client's cursor is not behind it — the client's plus 1 to 3600 s of jitter, so cursors never go back
 * and CDN cache keys keep changing (PROTOCOL.md §10.1).
 */
export function responseCursor(clientCursor: string | undefined, now: number, random: () => number = Math.random): string {
  const current = cursorInterval(now);
  const client = parseCursor(clientCursor);
  if (Number.isNaN(client) || client < current) return String(current);
  const jitterSeconds = 1 + Math.floor(random() * 3600);
  return String(client + Math.max(1, Math.ceil((jitterSeconds * 1000) / CURSOR_INTERVAL_MS)));
}

/**
 * One SSE event: `event: <type>` and the payload as `data:` lines. Every line terminator (CRLF, CR, LF) of
 * the payload starts a new `data:` line, so a payload cannot inject events; no space after `data:`, since
 * readers strip exactly one.
 */
export function sseEvent(type: string, payload: string): string {
  return `event: ${type}\n${payload
    .split(/\r\n|\r|\n/)
    .map((line) => `data:${line}`)
    .join("\n")}\n\n`;
}
