// The console in a real headless Chromium against a real broker on an ephemeral port: what it shows is
// what the API says, a record produced after the page loaded reaches the live tail within 2 s, and
// create-topic and reset-offsets work through the UI. Screenshots go to test-artifacts/ (gitignored).
// Needs Chromium (`.ci/run` installs Debian's `chromium`); where it is missing the tests are skipped and
// say why, except under CI, where a missing browser fails the run instead of passing it silently.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, type StartBrokerResult } from "../../broker/src/index.js";
import { createClient } from "../../client/src/index.js";
import { findChromium, launchChromium } from "./helpers/chromium.js";

const chromium = findChromium();
if (chromium === undefined && process.env.CI) throw new Error("CI needs Chromium for the console's browser tests (apt-get install chromium)");

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

// One broker and one browser for the whole file (test-support's tempDir() is removed after each test).
const dataDir = mkdtempSync(join(tmpdir(), "minikafka-console-e2e-"));
let broker: StartBrokerResult;
let browser: Browser;
let page: Page;

async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${broker.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** The text of every element matching `selector`. */
const texts = (selector: string) => page.$$eval(selector, (els) => els.map((el) => (el as { textContent: string | null }).textContent ?? ""));

/** Waits until the page's text contains `text`. */
const waitForText = (text: string, timeout = 5000) =>
  page.waitForFunction(
    (t: string) => (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText.includes(t),
    { timeout },
    text,
  );

async function setInput(selector: string, value: string) {
  await page.$eval(
    selector,
    (el, v) => {
      const input = el as unknown as { value: string; dispatchEvent(e: unknown): void };
      input.value = v;
      input.dispatchEvent(new (globalThis as unknown as { Event: new (type: string, init: object) => unknown }).Event("input", { bubbles: true }));
    },
    value,
  );
}

const screenshot = (name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });

beforeAll(async () => {
  if (chromium === undefined) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  [broker, browser] = await Promise.all([
    startBroker({ dataDir, port: 0, fsync: "never", logger: { error() {} } }),
    launchChromium(chromium),
  ]);
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.emulateTimezone("UTC");

  await api("POST", "/v1/topics", { name: "orders", partitions: 3 });
  await api("POST", "/v1/topics", { name: "payments", partitions: 1, config: { retentionMs: 86_400_000 } });
  await api("POST", "/v1/topics/orders/records", {
    records: [0, 1, 2, 0, 1, 0].map((partition, i) => ({ partition, key: `order-${i}`, value: JSON.stringify({ id: i, state: "created" }) })),
  });
  // Three payments a minute apart, with their own timestamps (for browsing from a time).
  await api("POST", "/v1/topics/payments/records", {
    records: [0, 1, 2].map((i) => ({ value: `payment-${i}`, timestamp: Date.UTC(2026, 0, 1, 12, i, 0) })),
  });
  // "billing" commits offsets, then has no members (empty: its offsets may be reset); "shipping" has one member.
  const admin = createClient({ brokers: broker.url }).admin();
  await admin.setOffsets({ groupId: "billing", topic: "orders", partitions: [0, 1, 2].map((partition) => ({ partition, offset: 1 })) });
  await api("POST", "/v1/groups/shipping/members", { topics: ["orders"], instanceId: "shipper-1" });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await broker?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(chromium === undefined)(
  `console in Chromium${chromium === undefined ? " (skipped: no Chromium; apt-get install chromium, or set CHROMIUM_PATH)" : ""}`,
  () => {
    it("lists the topics the API lists, with their partitions, records and retention", async () => {
      await page.goto(`${broker.url}/console/`, { waitUntil: "load" });
      await page.waitForSelector("[data-testid=topics-table] tr[data-topic]");
      const { topics } = await api<{ topics: Array<{ name: string; partitions: Array<{ highWatermark: number; logStartOffset: number }> }> }>(
        "GET",
        "/v1/topics",
      );
      const rows = await page.$$eval("[data-testid=topics-table] tr[data-topic]", (trs) =>
        trs.map((tr) => {
          const cells = (tr as unknown as { querySelectorAll(s: string): Array<{ textContent: string }> }).querySelectorAll("td");
          return Array.from(cells, (c) => c.textContent).slice(0, 5);
        }),
      );
      expect(rows).toEqual(
        topics.map((t) => [
          t.name,
          String(t.partitions.length),
          String(t.partitions.reduce((n, p) => n + p.highWatermark - p.logStartOffset, 0)),
          expect.stringMatching(/^\d+(\.\d)? (B|KiB)$/),
          t.name === "payments" ? "1 d" : "broker default",
        ]),
      );
      expect(rows.map((r) => r[0])).toEqual(["orders", "payments"]);
      await screenshot("topics");
    });

    it("lists the groups the API lists, and a group's committed offsets and lag", async () => {
      await page.goto(`${broker.url}/console/#/groups`);
      await page.waitForSelector("[data-testid=groups-table] tr[data-group]");
      const { groups } = await api<{ groups: Array<{ groupId: string; state: string; memberCount: number }> }>("GET", "/v1/groups");
      const shown = await page.$$eval("[data-testid=groups-table] tr[data-group]", (trs) =>
        trs.map((tr) => {
          const el = tr as unknown as { dataset: { group: string }; querySelector(s: string): { textContent: string } };
          return {
            groupId: el.dataset.group,
            state: el.querySelector("[data-col=state]").textContent,
            members: Number(el.querySelector("[data-col=members]").textContent),
          };
        }),
      );
      expect(shown).toEqual(groups.map((g) => ({ groupId: g.groupId, state: g.state, members: g.memberCount })));
      expect(shown.map((g) => g.groupId).sort()).toEqual(["billing", "shipping"]);

      await page.click("a[href='#/groups/billing']");
      await page.waitForSelector("[data-testid=offsets-table] tr[data-topic]");
      const described = await api<{ offsets: Array<{ partition: number; committedOffset: number; lag: number }> }>("GET", "/v1/groups/billing");
      expect(await texts("[data-testid=offsets-table] [data-col=committed]")).toEqual(described.offsets.map((o) => String(o.committedOffset)));
      expect(await texts("[data-testid=offsets-table] [data-col=lag]")).toEqual(described.offsets.map((o) => String(o.lag)));
      expect(described.offsets.map((o) => o.lag)).toEqual([2, 1, 0]);
      expect(await texts("[data-testid=group-state]")).toEqual(["empty"]);
      // The lag chart draws once two samples (2 s apart) are in.
      await page.waitForSelector("[data-testid=lag-chart] polyline", { timeout: 10_000 });
      await screenshot("group");

      await page.goto(`${broker.url}/console/#/groups/shipping`);
      await page.waitForSelector("[data-testid=members-table] tr[data-member]");
      expect(await texts("[data-testid=members-table] [data-col=assignment]")).toEqual(["orders[0,1,2]"]);
    });

    it("shows a record produced after the page loaded in the live tail within 2 s, in text, JSON and hex", async () => {
      await page.goto(`${broker.url}/console/#/topics/orders/0`);
      await page.waitForSelector("[data-testid=records-table] tr[data-offset='2']"); // the newest page: offsets 0..2
      expect(await texts("[data-testid=records-table] [data-col=key]")).toEqual(["order-0", "order-3", "order-5"]);
      const reads: string[] = [];
      const onRequest = (request: { url(): string }) => {
        if (request.url().includes("/partitions/0/records")) reads.push(new URL(request.url()).search);
      };
      page.on("request", onRequest);
      await page.click("[data-testid=tail]");
      // The tail follows the end of the log over Server-Sent Events from there.
      await page.waitForSelector("[data-testid=tail][data-tailing=on][data-tail-from='3']");
      const started = Date.now();
      await api("POST", "/v1/topics/orders/records", {
        records: [{ partition: 0, key: "live", value: '{"tail":true}', headers: { source: "e2e" } }],
      });
      await page.waitForSelector("[data-testid=records-table] tr[data-offset='3']", { timeout: 2000 });
      expect(Date.now() - started).toBeLessThan(2000);
      // One live read, no polling.
      page.off("request", onRequest);
      expect(reads).toEqual(["?offset=3&live=sse&encoding=base64"]);
      await page.waitForSelector("[data-testid=tail][data-tail-from='4']");
      expect(await texts("[data-testid=records-table] tr[data-offset='3'] td")).toEqual([
        "3",
        expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/),
        "live",
        '{"tail":true}',
        "source: e2e",
      ]);
      await page.select("select[name=view]", "json");
      expect(await texts("[data-testid=records-table] tr[data-offset='3'] [data-col=value]")).toEqual(['{\n  "tail": true\n}']);
      await page.select("select[name=view]", "hex");
      expect(await texts("[data-testid=records-table] tr[data-offset='3'] [data-col=key]")).toEqual([
        "00000000  6c 69 76 65" + " ".repeat(36) + "  live",
      ]);
      await screenshot("records");
      await page.click("[data-testid=tail]");
      await page.waitForSelector("[data-testid=tail][data-tailing=off]");
    });

    it("browses a partition from an offset and from a time", async () => {
      await page.goto(`${broker.url}/console/#/topics/orders/1`);
      await page.waitForSelector("[data-testid=records-table] tr[data-offset]");
      await setInput("input[name=offset]", "1");
      await page.click("form:has(input[name=offset]) button");
      // The newest page already shows offset 1 (after 0): wait for the table to start there instead.
      await page.waitForFunction(
        () =>
          (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } }).document
            .querySelector("[data-testid=records-table] tr[data-offset]")
            ?.getAttribute("data-offset") === "1",
      );
      expect(await texts("[data-testid=records-table] tr[data-offset] td:first-child")).toEqual(["1"]);

      await page.goto(`${broker.url}/console/#/topics/payments/0`);
      await page.waitForSelector("[data-testid=records-table] tr[data-offset='0']");
      await setInput("input[name=time]", "2026-01-01T12:00:30");
      await page.click("form:has(input[name=time]) button");
      await page.waitForFunction(
        () =>
          (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll(
            "[data-testid=records-table] tr[data-offset]",
          ).length === 2,
      );
      expect(await texts("[data-testid=records-table] [data-col=value]")).toEqual(["payment-1", "payment-2"]);
    });

    it("creates a topic through the UI", async () => {
      await page.goto(`${broker.url}/console/#/topics`);
      await page.waitForSelector("[data-testid=topics-table]");
      await page.type("[data-testid=create-topic] input[name=name]", "created-in-ui");
      await setInput("[data-testid=create-topic] input[name=partitions]", "4");
      await page.click("[data-testid=create-topic] button[type=submit]");
      await page.waitForSelector("[data-testid=topics-table] tr[data-topic='created-in-ui']");
      expect(await texts("[data-testid=create-topic-done]")).toEqual(["created created-in-ui"]);
      const created = await api<{ name: string; partitions: unknown[] }>("GET", "/v1/topics/created-in-ui");
      expect(created.partitions).toHaveLength(4);
      expect(await texts("tr[data-topic='created-in-ui'] [data-col=partitions]")).toEqual(["4"]);
      // A bad name answers the broker's error, shown as is.
      await page.type("[data-testid=create-topic] input[name=name]", "__reserved");
      await page.click("[data-testid=create-topic] button[type=submit]");
      await page.waitForSelector("[data-testid=create-topic] [data-testid=error]");
      expect((await texts("[data-testid=create-topic] [data-testid=error]"))[0]).toMatch(/^INVALID_TOPIC_NAME: /);
      await screenshot("create-topic");
    });

    it("adds partitions to a topic and deletes it through the UI", async () => {
      await page.goto(`${broker.url}/console/#/topics/created-in-ui`);
      await page.waitForSelector("[data-testid=partitions-table] tr[data-partition='3']");
      await setInput("[data-testid=add-partitions] input[name=count]", "6");
      await page.click("[data-testid=add-partitions] button[type=submit]");
      await page.waitForSelector("[data-testid=partitions-table] tr[data-partition='5']");
      expect(await texts("[data-testid=add-partitions-done]")).toEqual(["6 partitions"]);
      expect((await api<{ partitions: unknown[] }>("GET", "/v1/topics/created-in-ui")).partitions).toHaveLength(6);
      // Deleting asks twice.
      await page.click("[data-testid=delete-topic] button[type=submit]");
      await waitForText("Really delete created-in-ui?");
      expect((await fetch(`${broker.url}/v1/topics/created-in-ui`)).status).toBe(200);
      await page.click("[data-testid=delete-topic] button[type=submit]");
      await page.waitForFunction(() => (globalThis as unknown as { location: { hash: string } }).location.hash === "#/topics");
      await page.waitForSelector("[data-testid=topics-table]");
      expect((await fetch(`${broker.url}/v1/topics/created-in-ui`)).status).toBe(404);
      expect(await texts("[data-testid=topics-table] tr[data-topic] td:first-child")).toEqual(["orders", "payments"]);
    });

    it("resets the offsets of an empty group through the UI, and refuses while a group has members", async () => {
      await page.goto(`${broker.url}/console/#/groups/billing`);
      await page.waitForSelector("[data-testid=reset-offsets] button[type=submit]:not([disabled])");
      await page.select("[data-testid=reset-offsets] select[name=to]", "latest");
      await page.click("[data-testid=reset-offsets] button[type=submit]");
      await page.waitForSelector("[data-testid=reset-offsets-done]");
      expect(await texts("[data-testid=reset-offsets-done]")).toEqual(["reset 3 partitions of orders"]);
      const described = await api<{ offsets: Array<{ committedOffset: number; highWatermark: number; lag: number }> }>("GET", "/v1/groups/billing");
      expect(described.offsets.map((o) => o.committedOffset)).toEqual(described.offsets.map((o) => o.highWatermark));
      expect(described.offsets.map((o) => o.lag)).toEqual([0, 0, 0]);
      await waitForText("total lag 0");
      await screenshot("reset-offsets");

      await page.goto(`${broker.url}/console/#/groups/shipping`);
      await page.waitForSelector("[data-testid=reset-offsets] button[type=submit][disabled]");
    });

    it("shows the broker's counters from /metrics", async () => {
      await page.goto(`${broker.url}/console/#/broker`);
      await page.waitForSelector("[data-metric=minikafka_records_in_total] [data-col=total]");
      const metrics = await (await fetch(`${broker.url}/metrics`)).text();
      const recordsIn = /^minikafka_records_in_total (\d+)$/m.exec(metrics)![1];
      expect(await texts("[data-metric=minikafka_records_in_total] [data-col=total]")).toEqual([recordsIn]);
      expect(recordsIn).toBe("10");
      const logSize = Number(/^minikafka_log_size_bytes (\d+)$/m.exec(metrics)![1]);
      expect(logSize).toBeGreaterThan(0);
      expect(await texts("[data-testid=storage]")).toEqual([logSize < 1024 ? `${logSize} B` : `${(logSize / 1024).toFixed(1)} KiB`]);
      // The page's own connections at least (the browser keeps a few open).
      expect(Number((await texts("[data-testid=connections]"))[0])).toBeGreaterThanOrEqual(1);
      // Rates need a second sample, 2 s later.
      await page.waitForFunction(
        () =>
          !(globalThis as unknown as { document: { querySelector(s: string): { textContent: string } } }).document
            .querySelector("[data-metric=minikafka_records_in_total] td:nth-child(3)")
            .textContent.startsWith("—"),
        { timeout: 10_000 },
      );
      await screenshot("broker");
    });
  },
);
