import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { isClientError } from "./errors.js";
import { Http, type RetryMode } from "./http.js";

type Step = Response | Error | ((request: Request) => Promise<Response>);

/** An Http over a scripted fetch: each call takes the next step; the calls are recorded. */
function scripted(steps: Step[], options: { timeoutMs?: number; retries?: number } = {}) {
  const calls: Array<{ method: string; url: string; body: string }> = [];
  const http = new Http({
    baseUrl: "http://broker.test:8000/base",
    timeoutMs: options.timeoutMs ?? 1_000,
    retry: { retries: options.retries ?? 3, initialRetryTimeMs: 1, maxRetryTimeMs: 5 },
    fetch: async (input) => {
      const request = input as Request;
      calls.push({ method: request.method, url: request.url, body: await request.clone().text() });
      const step = steps.shift();
      if (step === undefined) throw new Error("no more scripted answers");
      if (step instanceof Error) throw step;
      return typeof step === "function" ? step(request) : step;
    },
  });
  return { http, calls };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const envelope = (status: number, code: string, retriable: boolean) =>
  json(status, { error: { code, message: `${code.toLowerCase()} happened`, retriable } });
const networkError = () => new TypeError("fetch failed");

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isClientError(error)) throw new Error(`expected a ClientError, got ${String(error)}`);
  return error;
}

describe("Http", () => {
  it("sends JSON to the base URL with query parameters (undefined ones left out) and parses the answer", async () => {
    const { http, calls } = scripted([json(200, { ok: 1 }), new Response(null, { status: 204 })]);
    expect(
      await http.request("POST", "v1/topics/a%2Fb/records", { json: { records: [] }, searchParams: { a: 1, b: undefined, c: "x" }, retry: "never" }),
    ).toEqual({ ok: 1 });
    expect(calls[0]).toEqual({ method: "POST", url: "http://broker.test:8000/base/v1/topics/a%2Fb/records?a=1&c=x", body: '{"records":[]}' });
    expect(await http.request("DELETE", "v1/topics/x", { retry: "never" })).toBeUndefined();
  });

  it("turns the broker's envelope into a ClientError with code, message, retriable and status", async () => {
    const { http } = scripted([envelope(404, "UNKNOWN_TOPIC_OR_PARTITION", false)]);
    const error = await failure(http.request("GET", "v1/topics/x", { retry: "idempotent" }));
    expect(error).toMatchObject({
      code: "UNKNOWN_TOPIC_OR_PARTITION",
      message: "unknown_topic_or_partition happened",
      retriable: false,
      status: 404,
    });
  });

  it("retries the broker's retriable 503 for every mode but never, and gives up after retries", async () => {
    for (const mode of ["idempotent", "broker-retriable"] as RetryMode[]) {
      const { http, calls } = scripted([
        envelope(503, "BROKER_NOT_AVAILABLE", true),
        envelope(503, "BROKER_NOT_AVAILABLE", true),
        json(200, { ok: mode }),
      ]);
      expect(await http.request("POST", "v1/x", { json: {}, retry: mode })).toEqual({ ok: mode });
      expect(calls).toHaveLength(3);
      expect(calls[2]!.body).toBe("{}"); // the body is sent again in full
    }
    const never = scripted([envelope(503, "BROKER_NOT_AVAILABLE", true)]);
    expect(await failure(never.http.request("POST", "v1/x", { retry: "never" }))).toMatchObject({ code: "BROKER_NOT_AVAILABLE", retriable: true });
    expect(never.calls).toHaveLength(1);
    const exhausted = scripted(
      Array.from({ length: 4 }, () => envelope(503, "STORE_CLOSED", true)),
      { retries: 3 },
    );
    expect(await failure(exhausted.http.request("GET", "v1/x", { retry: "idempotent" }))).toMatchObject({ code: "STORE_CLOSED", status: 503 });
    expect(exhausted.calls).toHaveLength(4);
  });

  it("does not repeat a write after a storage error, which may have applied part of it", async () => {
    const write = scripted([envelope(503, "KAFKA_STORAGE_ERROR", true)]);
    expect(await failure(write.http.request("POST", "v1/topics/t/records", { json: {}, retry: "broker-retriable" }))).toMatchObject({
      code: "KAFKA_STORAGE_ERROR",
      retriable: true,
    });
    expect(write.calls).toHaveLength(1);
    const read = scripted([envelope(503, "KAFKA_STORAGE_ERROR", true), json(200, { ok: true })]);
    expect(await read.http.request("GET", "v1/x", { retry: "idempotent" })).toEqual({ ok: true });
  });

  it("does not retry what the broker says is not retriable, nor a retriable 409 (it needs a new epoch first)", async () => {
    const refused = scripted([envelope(503, "KAFKA_STORAGE_ERROR", false)]);
    await failure(refused.http.request("GET", "v1/x", { retry: "idempotent" }));
    expect(refused.calls).toHaveLength(1);
    const stale = scripted([envelope(409, "STALE_MEMBER_EPOCH", true)]);
    expect(await failure(stale.http.request("POST", "v1/groups/g/offsets", { json: {}, retry: "idempotent" }))).toMatchObject({
      code: "STALE_MEMBER_EPOCH",
      retriable: true,
      status: 409,
    });
    expect(stale.calls).toHaveLength(1);
  });

  it("retries network errors and proxies' 502/504 only for idempotent requests", async () => {
    const read = scripted([networkError(), new Response("<html>bad gateway</html>", { status: 502 }), json(200, { ok: true })]);
    expect(await read.http.request("GET", "v1/x", { retry: "idempotent" })).toEqual({ ok: true });
    expect(read.calls).toHaveLength(3);

    const write = scripted([networkError()]);
    expect(await failure(write.http.request("POST", "v1/topics/t/records", { json: {}, retry: "broker-retriable" }))).toMatchObject({
      code: "NETWORK_EXCEPTION",
      retriable: true,
      status: undefined,
    });
    expect(write.calls).toHaveLength(1);

    const proxy = scripted([new Response("bad gateway", { status: 502 })]);
    expect(await failure(proxy.http.request("POST", "v1/topics/t/records", { json: {}, retry: "broker-retriable" }))).toMatchObject({
      code: "UNKNOWN_SERVER_ERROR",
      retriable: true,
      status: 502,
    });
    expect(proxy.calls).toHaveLength(1);
  });

  it("times out with REQUEST_TIMED_OUT, retried only when idempotent, and gives long polls their wait on top", async () => {
    const hang = () => new Promise<Response>(() => {});
    const write = scripted([hang], { timeoutMs: 20 });
    expect(await failure(write.http.request("POST", "v1/x", { json: {}, retry: "broker-retriable" }))).toMatchObject({
      code: "REQUEST_TIMED_OUT",
      retriable: true,
    });
    expect(write.calls).toHaveLength(1);
    const read = scripted([hang, () => Promise.resolve(json(200, { ok: true }))], { timeoutMs: 20 });
    expect(await read.http.request("GET", "v1/x", { retry: "idempotent" })).toEqual({ ok: true });
    const slow = () => new Promise<Response>((resolve) => setTimeout(() => resolve(json(200, { late: true })), 60));
    const poll = scripted([slow], { timeoutMs: 20 });
    expect(await poll.http.request("GET", "v1/x", { retry: "never", extraTimeoutMs: 200 })).toEqual({ late: true });
  });

  it("rejects with the signal's reason when aborted", async () => {
    // Like fetch: rejects when the request's signal aborts (or has already aborted).
    const untilAborted = (request: Request) =>
      new Promise<Response>((_, reject) => {
        if (request.signal.aborted) reject(request.signal.reason);
        request.signal.addEventListener("abort", () => reject(request.signal.reason));
      });
    const { http } = scripted([untilAborted]);
    const controller = new AbortController();
    const pending = http.request("GET", "v1/x", { retry: "idempotent", signal: controller.signal });
    const reason = new Error("stop");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it("sends JSON with its content type, and leaves nothing behind on a caller's long-lived signal", async () => {
    const types: Array<string | null> = [];
    const ok = (request: Request) => {
      types.push(request.headers.get("content-type"));
      return Promise.resolve(json(200, { ok: true }));
    };
    const { http, calls } = scripted([ok, ok, ok]);
    const consumerLifetime = new AbortController();
    for (let i = 0; i < 3; i++) await http.request("POST", "v1/x", { json: { i }, retry: "idempotent", signal: consumerLifetime.signal });
    expect(calls.map((c) => c.body)).toEqual(['{"i":0}', '{"i":1}', '{"i":2}']);
    expect(types).toEqual(["application/json", "application/json", "application/json"]);
    expect(getEventListeners(consumerLifetime.signal, "abort")).toHaveLength(0);
  });
});
