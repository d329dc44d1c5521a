import type { Context } from "hono";
import { describe, expect, it } from "vitest";
import { Access } from "./access.js";
import { miniKafkaErrorCode } from "./errors.js";
import { DEFAULT_MAX_LONG_POLLS, DEFAULT_MAX_SSE_STREAMS, Quotas } from "./quotas.js";

const clock = { now: () => 0 };
const anonymous = { header() {} } as unknown as Context; // without auth every request is the anonymous principal

/** How many holds of `hold` succeed before one is refused (at most `limit + 1` tried). */
function holdsUntilRefused(hold: () => () => void, limit: number): { held: number; code: string | undefined } {
  const releases: Array<() => void> = [];
  try {
    for (let i = 0; i <= limit; i++) releases.push(hold());
    return { held: releases.length, code: undefined };
  } catch (error) {
    return { held: releases.length, code: miniKafkaErrorCode(error) ?? String(error) };
  } finally {
    for (const release of releases) release();
  }
}

describe("Quotas defaults", () => {
  it("lets one principal hold 10,000 SSE streams (1,000 readers and their reconnects fit) and 1,000 long polls", () => {
    const quotas = new Quotas(undefined, new Access(undefined, undefined), clock);
    expect(DEFAULT_MAX_SSE_STREAMS).toBe(10_000);
    expect(holdsUntilRefused(() => quotas.holdSseStream(anonymous), DEFAULT_MAX_SSE_STREAMS)).toEqual({
      held: 10_000,
      code: "THROTTLING_QUOTA_EXCEEDED",
    });
    expect(holdsUntilRefused(() => quotas.holdLongPoll(anonymous), DEFAULT_MAX_LONG_POLLS)).toEqual({
      held: 1000,
      code: "THROTTLING_QUOTA_EXCEEDED",
    });
    // Released slots are free again.
    expect(quotas.held(anonymous)).toEqual({ longPoll: 0, sse: 0 });
  });
});
