// No drive-by writes, checked from a real headless Chromium: a page on another origin tries what a malicious
// page would (no-cors POSTs with JSON in a text/plain body, the seed's query-string routes, a form post, a
// JSON fetch), and nothing changes on the broker; with the page's origin in `cors.origins`, its JSON fetch
// works and its answer is readable. Needs Chromium (`.ci/run` installs Debian's `chromium`).
import { createServer, type Server } from "node:http";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium, launchChromium } from "../../console/test/helpers/chromium.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { startBroker } from "../src/index.js";

const chromium = findChromium();
if (chromium === undefined && process.env.CI) throw new Error("CI needs Chromium for the drive-by test (apt-get install chromium)");

let browser: Browser;
let page: Server;
let pageOrigin = "";

beforeAll(async () => {
  if (chromium === undefined) return;
  // The foreign page: another host name (cross-site to 127.0.0.1) and another port.
  page = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>elsewhere</title>"));
  await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
  pageOrigin = `http://localhost:${(page.address() as { port: number }).port}`;
  browser = await launchChromium(chromium);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (page ? page.close(resolve) : resolve(undefined)));
});

/** The little of the DOM the form attack uses. */
interface PageElement {
  name: string;
  method: string;
  action: string;
  target: string;
  onload: () => void;
  submit(): void;
}
interface PageDocument {
  createElement(tag: string): PageElement;
  body: { append(element: PageElement): void };
}

/** Runs the attacks from the foreign page against `broker`; answers what the page could see. */
async function attack(broker: string): Promise<string[]> {
  const tab = await browser.newPage();
  try {
    await tab.goto(pageOrigin);
    return await tab.evaluate(async (url: string) => {
      const seen: string[] = [];
      const attempt = async (what: string, run: () => Promise<Response>) => {
        try {
          const res = await run();
          seen.push(`${what}: ${res.type} ${res.status}`);
        } catch (error) {
          seen.push(`${what}: ${(error as Error).name}`);
        }
      };
      await attempt("v1 text/plain", () =>
        fetch(`${url}/v1/topics`, {
          method: "POST",
          mode: "no-cors",
          headers: { "content-type": "text/plain" },
          body: '{"name":"evil1","partitions":1}',
        }),
      );
      await attempt("seed create", () => fetch(`${url}/topics/evil2/create?num_partitions=1`, { method: "POST", mode: "no-cors" }));
      await attempt("seed produce", () => fetch(`${url}/topics/evil3/messages?message=x&key=`, { method: "POST", mode: "no-cors" }));
      // A Durable Streams append carries the stream's own content type (text/plain here): no preflight.
      await attempt("stream append", () =>
        fetch(`${url}/v1/stream/drive-by`, { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: "evil" }),
      );
      await attempt("v1 json", () =>
        fetch(`${url}/v1/topics`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"name":"evil4","partitions":1}' }),
      );
      // A form post (no script needed on a real page): into a hidden frame, so the test page stays.
      // The page's DOM (this file is typechecked without the DOM library).
      const document = (globalThis as unknown as { document: PageDocument }).document;
      await new Promise<void>((resolve) => {
        const frame = document.createElement("iframe");
        frame.name = "sink";
        frame.onload = () => resolve();
        document.body.append(frame);
        const form = document.createElement("form");
        form.method = "POST";
        form.action = `${url}/topics/evil5/create?num_partitions=1`;
        form.target = "sink";
        document.body.append(form);
        form.submit();
      });
      return seen;
    }, broker);
  } finally {
    await tab.close();
  }
}

describe.skipIf(chromium === undefined)(`a page on another origin, in Chromium${chromium === undefined ? " (skipped: no Chromium)" : ""}`, () => {
  it("changes nothing on a broker in its default configuration, and reads nothing", async () => {
    const broker = await startBroker({ dataDir: tempDir(), port: 0, fsync: "never", logger: { error() {} } });
    try {
      expect((await fetch(`${broker.url}/v1/stream/drive-by`, { method: "PUT", headers: { "content-type": "text/plain" } })).status).toBe(201);
      const seen = await attack(broker.url);
      // no-cors answers are opaque (status 0) whatever happened; the JSON fetch fails its preflight.
      expect(seen).toEqual([
        "v1 text/plain: opaque 0",
        "seed create: opaque 0",
        "seed produce: opaque 0",
        "stream append: opaque 0",
        "v1 json: TypeError",
      ]);
      const topics = (await (await fetch(`${broker.url}/v1/topics`)).json()) as { topics: unknown[] };
      expect(topics.topics).toEqual([]);
      const stream = await fetch(`${broker.url}/v1/stream/drive-by?offset=-1`);
      expect(await stream.text()).toBe("");
    } finally {
      await broker.close();
    }
  }, 60_000);

  it("lets a listed origin call the broker and read its answers", async () => {
    const broker = await startBroker({ dataDir: tempDir(), port: 0, fsync: "never", logger: { error() {} }, cors: { origins: [pageOrigin] } });
    try {
      const tab = await browser.newPage();
      await tab.goto(pageOrigin);
      const answer = await tab.evaluate(async (url: string) => {
        const res = await fetch(`${url}/v1/topics`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"name":"app","partitions":2}',
        });
        // A stream: created (a preflighted PUT), appended to with its own content type, read with its headers.
        const put = await fetch(`${url}/v1/stream/app/s`, { method: "PUT", headers: { "content-type": "text/plain", "stream-ttl": "600" } });
        const post = await fetch(`${url}/v1/stream/app/s`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" });
        const get = await fetch(`${url}/v1/stream/app/s?offset=-1`);
        return {
          status: res.status,
          body: await res.json(),
          stream: [
            put.status,
            post.status,
            get.status,
            await get.text(),
            get.headers.get("stream-next-offset"),
            get.headers.get("stream-up-to-date"),
          ],
        };
      }, broker.url);
      await tab.close();
      expect(answer).toMatchObject({ status: 201, body: { name: "app" } });
      expect(answer.stream).toEqual([201, 204, 200, "hello", "0000000000000000_0000000000000001", "true"]);
    } finally {
      await broker.close();
    }
  }, 60_000);
});
