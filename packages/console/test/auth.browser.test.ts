// The console against a broker with auth, in a real headless Chromium: the page loads without a token (its
// files hold no data), asks for one at the broker's first 401, and then shows what the principal may see.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, type StartBrokerResult } from "../../broker/src/index.js";
import { findChromium, launchChromium } from "./helpers/chromium.js";

const chromium = findChromium();
if (chromium === undefined && process.env.CI) throw new Error("CI needs Chromium for the console's browser tests (apt-get install chromium)");

const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");
const dataDir = mkdtempSync(join(tmpdir(), "minikafka-console-auth-"));
let broker: StartBrokerResult;
let browser: Browser;

beforeAll(async () => {
  if (chromium === undefined) return;
  [broker, browser] = await Promise.all([
    startBroker({
      dataDir,
      port: 0,
      fsync: "never",
      logger: { error() {} },
      auth: {
        principals: [
          { name: "viewer", tokenSha256: sha256("viewer-token") },
          { name: "admin", tokenSha256: sha256("admin-token") },
        ],
        superUsers: ["admin"],
      },
      acls: [{ principal: "viewer", resource: "topic", name: "public.", pattern: "prefixed", operations: ["describe"], permission: "allow" }],
    }),
    launchChromium(chromium),
  ]);
  for (const name of ["public.news", "secret.payroll"]) {
    const res = await fetch(`${broker.url}/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer admin-token" },
      body: JSON.stringify({ name, partitions: 1 }),
    });
    expect(res.status).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await broker?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(chromium === undefined)(`console with auth${chromium === undefined ? " (skipped: no Chromium)" : ""}`, () => {
  it("asks for a token once, then lists only the topics the principal may describe", async () => {
    const page = await browser.newPage();
    const prompts: string[] = [];
    page.on("dialog", (dialog) => {
      prompts.push(dialog.message());
      void dialog.accept("viewer-token");
    });
    await page.goto(`${broker.url}/console/`, { waitUntil: "load" });
    await page.waitForSelector("[data-testid=topics-table] tr[data-topic]");
    const topics = await page.$$eval("[data-testid=topics-table] tr[data-topic]", (trs) => trs.map((tr) => tr.getAttribute("data-topic")));
    expect(topics).toEqual(["public.news"]);
    expect(prompts).toEqual(["This broker needs a bearer token:"]);
    // Kept for the tab: a reload asks no more.
    await page.reload({ waitUntil: "load" });
    await page.waitForSelector("[data-testid=topics-table] tr[data-topic]");
    expect(prompts).toHaveLength(1);
    await page.close();
  }, 30_000);

  it("live-tails with the token: the Server-Sent Events read carries it too", async () => {
    const page = await browser.newPage();
    page.on("dialog", (dialog) => void dialog.accept("admin-token"));
    const live: Array<string | undefined> = [];
    page.on("request", (request) => {
      if (request.url().includes("live=sse")) live.push(request.headers().authorization);
    });
    await page.goto(`${broker.url}/console/#/topics/public.news/0`, { waitUntil: "load" });
    await page.waitForSelector("[data-testid=tail]");
    await page.click("[data-testid=tail]");
    await page.waitForSelector("[data-testid=tail][data-tailing=on][data-tail-from='0']");
    const res = await fetch(`${broker.url}/v1/topics/public.news/records`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer admin-token" },
      body: JSON.stringify({ records: [{ key: "k", value: "breaking" }] }),
    });
    expect(res.status).toBe(200);
    await page.waitForSelector("[data-testid=records-table] tr[data-offset='0']", { timeout: 5000 });
    expect(live).toEqual(["Bearer admin-token"]);
    await page.close();
  }, 30_000);
});
