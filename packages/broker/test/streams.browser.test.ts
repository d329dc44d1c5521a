// @durable-streams/client (the protocol's own client) in a real headless Chromium page, against a real broker
// on port 0: the page, on a DNS name listed in the broker's `cors.origins`, loads the client bundled for
// browsers by esbuild and reads live over SSE and long-poll, JSON and bytes, then resumes from a saved offset.
// One browser, one page. Needs Chromium (`.ci/run` installs Debian's `chromium`).
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { findChromium, launchChromium } from "../../console/test/helpers/chromium.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { startBroker, type StartBrokerResult } from "../src/index.js";

const chromium = findChromium();
if (chromium === undefined && process.env.CI) throw new Error("CI needs Chromium for the streams browser test (apt-get install chromium)");

const SITE = "streams.test"; // mapped to 127.0.0.1 in Chromium only: a DNS name, as a real site has

let browser: Browser | undefined;
let site: Server | undefined;
let broker: StartBrokerResult | undefined;
let siteOrigin = "";

/** The page: loads the bundled client as a module and hands it to the test as `globalThis.ds`. */
const PAGE = `<!doctype html><title>reader</title>
<script type="module">import * as ds from "/durable-streams.js"; globalThis.ds = ds;</script>`;

beforeAll(async () => {
  if (chromium === undefined) return;
  // The client as a bundler would ship it to a browser: one ES module, browser conditions.
  const bundled = await build({
    stdin: {
      contents: 'export { DurableStream, stream } from "@durable-streams/client";',
      resolveDir: fileURLToPath(new URL("..", import.meta.url)),
      loader: "js",
    },
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const bundle = bundled.outputFiles[0]!.text;
  site = createServer((req, res) => {
    if (req.url === "/") return void res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
    if (req.url === "/durable-streams.js") return void res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => site!.listen(0, "127.0.0.1", resolve));
  siteOrigin = `http://${SITE}:${(site.address() as { port: number }).port}`;
  broker = await startBroker({
    dataDir: tempDir(),
    port: 0,
    logger: { error() {} },
    cors: { origins: [siteOrigin] },
    streams: { longPollTimeoutMs: 2_000 },
  });
  browser = await launchChromium(chromium, SITE);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await broker?.close();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
});

/** What the page saw of one stream (`live` mode, `json` or bytes). */
interface Seen {
  /** JSON: the items in order; bytes: every byte received, in order. */
  received: unknown[] | number[];
  /** A fresh catch-up read from the offset saved after the first two appends. */
  resumed: unknown[] | number[];
  savedOffset: string;
}

it.skipIf(chromium === undefined)(
  "a page reads live with @durable-streams/client (sse, long-poll; JSON, bytes) and resumes from a saved offset",
  async () => {
    const tab = await browser!.newPage();
    const errors: string[] = [];
    tab.on("pageerror", (error) => errors.push(String((error as Error).message ?? error)));
    const liveReads = new Set<string>();
    tab.on("request", (request) => {
      const live = new URL(request.url()).searchParams.get("live");
      if (live !== null) liveReads.add(`${request.method()} ${new URL(request.url()).pathname} ${live}`);
    });
    await tab.goto(siteOrigin);
    await tab.waitForFunction("globalThis.ds !== undefined");
    const seen = (await tab.evaluate(async (base: string) => {
      // Runs in the page: the module comes from the site, the streams from the broker (cross-origin, CORS).
      const ds = (globalThis as unknown as { ds: typeof import("@durable-streams/client") }).ds;
      const run = async (live: "sse" | "long-poll", json: boolean) => {
        const url = `${base}/v1/stream/browser/${live}-${json ? "json" : "bytes"}`;
        const handle = await ds.DurableStream.create({ url, contentType: json ? "application/json" : "application/octet-stream" });
        const message = (i: number) =>
          json ? JSON.stringify({ i, text: `m${i} ü\n"` }) : Uint8Array.from({ length: 64 }, (_, b) => (i * 64 + b) & 255);
        await handle.append(message(0));
        await handle.append(message(1));
        const head = await handle.head();
        if (!head.exists) throw new Error("the stream is gone");
        const savedOffset = head.offset!;
        const res = await handle.stream({ live });
        const received: unknown[] = [];
        let appended = false;
        await new Promise<void>((resolve, reject) => {
          const want = json ? 4 : 4 * 64;
          const onBatch = async (items: ArrayLike<unknown>) => {
            for (let k = 0; k < items.length; k++) received.push(items[k]);
            // Caught up: the rest arrives live, appended while the read waits.
            if (!appended && received.length === want / 2) {
              appended = true;
              void handle
                .append(message(2))
                .then(() => handle.append(message(3)))
                .catch(reject);
            }
            if (received.length >= want) resolve();
          };
          if (json) res.subscribeJson(async (batch) => onBatch(batch.items));
          else res.subscribeBytes(async (chunk) => onBatch(chunk.data));
          void res.closed.catch(reject);
        });
        res.cancel();
        const resumedRes = await ds.stream({ url, offset: savedOffset, live: false });
        const resumed = json ? await resumedRes.json() : Array.from(await resumedRes.body());
        return { received, resumed, savedOffset };
      };
      return [await run("sse", true), await run("sse", false), await run("long-poll", true), await run("long-poll", false)];
    }, broker!.url)) as Seen[];
    await tab.close();
    expect(errors).toEqual([]);
    // Each read went over the transport it asked for.
    expect([...liveReads].sort()).toEqual([
      "GET /v1/stream/browser/long-poll-bytes long-poll",
      "GET /v1/stream/browser/long-poll-json long-poll",
      "GET /v1/stream/browser/sse-bytes sse",
      "GET /v1/stream/browser/sse-json sse",
    ]);

    const item = (i: number) => ({ i, text: `m${i} ü\n"` });
    const bytes = (from: number, to: number) => Array.from({ length: (to - from) * 64 }, (_, k) => (from * 64 + k) & 255);
    const [sseJson, sseBytes, pollJson, pollBytes] = seen;
    for (const s of [sseJson!, pollJson!]) {
      expect(s.received).toEqual([item(0), item(1), item(2), item(3)]);
      expect(s.resumed).toEqual([item(2), item(3)]);
      expect(s.savedOffset).toBe("0000000000000000_0000000000000002");
    }
    for (const s of [sseBytes!, pollBytes!]) {
      expect(s.received).toEqual(bytes(0, 4));
      expect(s.resumed).toEqual(bytes(2, 4));
    }
    // What the page read is what the broker stored.
    const stored = await fetch(`${broker!.url}/v1/stream/browser/sse-json?offset=-1`);
    expect(await stored.json()).toEqual([item(0), item(1), item(2), item(3)]);
  },
  60_000,
);
