import { ManualClock } from "@minikafka/group-coordinator";
import { LogStore, type FsyncPolicy } from "@minikafka/log-store";
import type { Hono } from "hono";
import { afterEach, expect } from "vitest";
import { createBrokerApp, type BrokerAppOptions } from "../../src/index.js";
import { tempDir } from "../../../../test-support/temp-dir.js";

const open: LogStore[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
});

/** What a test call got back: status, parsed JSON body (or text / null), headers. */
export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

/** A broker app over a fresh store in a temp dir (closed after the test), with a manual clock. */
export interface TestApp {
  app: Hono;
  store: LogStore;
  clock: ManualClock;
  dataDir: string;
  /** Sends a request; `body` is JSON-encoded unless it is a string. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
}

export async function openTestApp(options: Partial<BrokerAppOptions> & { fsync?: FsyncPolicy; maxPartitions?: number } = {}): Promise<TestApp> {
  const { fsync = "never", maxPartitions, ...appOptions } = options;
  const dataDir = tempDir();
  const store = await LogStore.open({ dataDir, fsync, maxPartitions });
  open.push(store);
  const clock = new ManualClock(1_000_000);
  const app = createBrokerApp({ store, clock, logger: { error() {} }, ...appOptions });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const init: RequestInit = { method, headers: { "content-type": "application/json", ...headers } };
    if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
    const res = await app.request(path, init);
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get("content-type") ?? "").includes("application/json")) parsed = text === "" ? null : JSON.parse(text);
    else if (text === "") parsed = null;
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return { app, store, clock, dataDir, call };
}

/** The envelope a failing call answers with. */
export const envelope = (code: string, retriable = false) => ({ error: { code, message: expect.any(String), retriable } });
