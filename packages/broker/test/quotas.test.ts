// Per-principal quotas on the broker's (manual) clock: one principal over its byte rate gets 429 with
// Retry-After and changes nothing, another is served at once; long polls per principal are bounded; the
// client waits out Retry-After and sends again.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createClient } from "../../client/src/index.js";
import type { QuotaOptions } from "../src/index.js";
import { envelope, openTestApp } from "./helpers/test-app.js";

const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");
const auth = { principals: ["alice", "bob", "carol"].map((name) => ({ name, tokenSha256: sha256(`${name}-token`) })) };
const as = (name: string) => ({ authorization: `Bearer ${name}-token` });
/** Lets every request sent so far run up to its first wait on I/O. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

async function setup(quotas: QuotaOptions) {
  const t = await openTestApp({ auth, quotas });
  await t.call("POST", "/v1/topics", { name: "t", partitions: 1 }, as("alice"));
  const end = async () => (await t.call("GET", "/v1/topics/t", undefined, as("bob"))).body.partitions[0].logEndOffset;
  return { ...t, end };
}

describe("quotas", () => {
  it("throttles a producer over its byte rate with 429 and Retry-After; other principals are unaffected", async () => {
    const t = await setup({ produceBytesPerSecond: 1000, principals: { carol: { produceBytesPerSecond: 100_000 } } });
    const body = (n: number) => ({ records: [{ value: "x".repeat(n) }] });
    expect((await t.call("POST", "/v1/topics/t/records", body(1450), as("alice"))).status).toBe(200); // within the budget: served, then charged
    const throttled = await t.call("POST", "/v1/topics/t/records", body(10), as("alice"));
    expect(throttled).toMatchObject({ status: 429, body: envelope("THROTTLING_QUOTA_EXCEEDED", true) });
    expect(throttled.headers.get("retry-after")).toBe("1");
    expect(await t.end()).toBe(1); // nothing stored
    // bob has his own budget, carol a larger one.
    expect((await t.call("POST", "/v1/topics/t/records", body(900), as("bob"))).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await t.call("POST", "/v1/topics/t/records", body(10_000), as("carol"))).status).toBe(200);
    // alice's debt (~500 bytes at 1000/s) is paid after half a second of the broker's clock, not before.
    t.clock.advance(400);
    expect((await t.call("POST", "/v1/topics/t/records", body(10), as("alice"))).status).toBe(429);
    t.clock.advance(200);
    expect((await t.call("POST", "/v1/topics/t/records", body(10), as("alice"))).status).toBe(200);
    // The seed's produce counts against the same budget.
    const seed = () => t.call("POST", `/topics/t/messages?message=${"y".repeat(2000)}`, undefined, as("bob"));
    expect((await seed()).status).toBe(200);
    expect((await seed()).status).toBe(429);
  });

  it("throttles a consumer over its fetch rate, member fetches included", async () => {
    const t = await setup({ fetchBytesPerSecond: 1000 });
    await t.call("POST", "/v1/topics/t/records", { records: [{ value: "z".repeat(3000) }] }, as("alice"));
    const fetch = (who: string) => t.call("GET", "/v1/topics/t/partitions/0/records?offset=0", undefined, as(who));
    expect((await fetch("alice")).status).toBe(200);
    const throttled = await fetch("alice");
    expect(throttled).toMatchObject({ status: 429, body: envelope("THROTTLING_QUOTA_EXCEEDED", true) });
    expect(throttled.headers.get("retry-after")).toBe("2"); // 2000 bytes of debt at 1000/s
    expect((await fetch("bob")).status).toBe(200);
    const joined = await t.call("POST", "/v1/groups/g/members", { topics: ["t"] }, as("alice"));
    expect((await t.call("GET", `/v1/groups/g/members/${joined.body.memberId}/records`, undefined, as("alice"))).status).toBe(429);
    t.clock.advance(2001);
    expect((await t.call("GET", `/v1/groups/g/members/${joined.body.memberId}/records`, undefined, as("alice"))).status).toBe(200);
  });

  it("bounds the long polls a principal holds at once", async () => {
    const t = await setup({ maxLongPolls: 1 });
    const poll = (who: string) => t.call("GET", "/v1/topics/t/partitions/0/records?offset=0&waitMs=30000", undefined, as(who));
    const first = poll("alice");
    await settle();
    const second = await poll("alice");
    expect(second).toMatchObject({ status: 429, body: envelope("THROTTLING_QUOTA_EXCEEDED", true) });
    expect(second.headers.get("retry-after")).toBe("1");
    const bobs = poll("bob"); // his own bound
    await settle();
    await t.call("POST", "/v1/topics/t/records", { records: [{ value: "wake" }] }, as("carol"));
    expect((await first).body.records.map((r: { value: string }) => r.value)).toEqual(["wake"]);
    expect((await bobs).status).toBe(200);
    expect((await poll("alice")).status).toBe(200); // released: the record is there, so no wait now
  });

  it("the client waits out Retry-After and sends again", async () => {
    const t = await setup({ produceBytesPerSecond: 100 });
    let throttled = 0;
    const kafka = createClient({
      brokers: "http://broker.test",
      token: "alice-token",
      retry: { retries: 2, initialRetryTimeMs: 10, maxRetryTimeMs: 2000 },
      fetch: async (input, init) => {
        const response = await t.app.fetch(new Request(input, init));
        if (response.status === 429) {
          throttled++;
          t.clock.advance(1000 * Number(response.headers.get("retry-after"))); // the broker's time passes while the client waits
        }
        return response;
      },
    });
    const producer = kafka.producer();
    await producer.send({ topic: "t", messages: [{ value: "a".repeat(150) }] });
    expect(await producer.send({ topic: "t", messages: [{ value: "b" }] })).toEqual([{ partition: 0, offset: 1 }]);
    expect(throttled).toBe(1);
    await producer.disconnect();
  });

  it("refuses a bad limit", async () => {
    await expect(openTestApp({ quotas: { produceBytesPerSecond: 0 } })).rejects.toThrow(
      expect.objectContaining({ message: "quotas.produceBytesPerSecond must be a positive integer, got 0" }),
    );
    await expect(openTestApp({ quotas: { principals: { a: { maxPolls: 1 } as never } } })).rejects.toThrow(
      expect.objectContaining({ message: "quotas.principals.a.maxPolls is not a quota" }),
    );
  });
});
