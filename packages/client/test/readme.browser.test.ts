// The README's browser quick start, run as written in a real headless Chromium: the page (on a DNS name,
// as a real site is) loads the client as an ES module and sends through "its server", which proxies
// `/kafka` to the broker. Only the module URL is changed: from esm.sh to the client bundled from the
// sources and served by the same server. Needs Chromium (`.ci/run` installs Debian's `chromium`).
import { request as httpRequest, createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startBroker, type StartBrokerResult } from "@minikafka/broker";
import { findChromium, launchChromium } from "../../console/test/helpers/chromium.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { createClient } from "../src/index.js";
import { bundleForBrowser } from "./helpers/browser-bundle.js";

const chromium = findChromium();
if (chromium === undefined && process.env.CI) throw new Error("CI needs Chromium for the browser README test (apt-get install chromium)");

const README = fileURLToPath(new URL("../README.md", import.meta.url));
const SITE = "app.test"; // mapped to 127.0.0.1 in Chromium only: a DNS name, not an address

let browser: Browser;
let site: Server;
let siteOrigin = "";
let brokerPort = 0;
let page = "";
let bundle = "";

/** The README's one html block, with the client's CDN URL pointed at the bundle this test serves. */
async function readmePage(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const blocks = [...(await readFile(README, "utf8")).matchAll(/```html\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks).toHaveLength(1);
  const cdn = "https://esm.sh/@minikafka/client";
  expect(blocks[0]).toContain(cdn);
  return `<!doctype html><title>shop</title>\n${blocks[0]!.replace(cdn, "/client.js")}`;
}

beforeAll(async () => {
  if (chromium === undefined) return;
  page = await readmePage();
  const built = await bundleForBrowser(false);
  bundle = built.outputFiles[0]!.text;
  // "Your server": the page, the client module, and the broker under /kafka (a reverse proxy passing the
  // request through, headers included, as `proxy_pass` with `proxy_set_header Host $host` does).
  site = createServer((req, res) => {
    if (req.url === "/") return void res.writeHead(200, { "content-type": "text/html" }).end(page);
    if (req.url === "/client.js") return void res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    if (!req.url?.startsWith("/kafka/")) return void res.writeHead(404).end();
    const upstream = httpRequest(
      { host: "127.0.0.1", port: brokerPort, method: req.method, path: req.url.slice("/kafka".length), headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  siteOrigin = `http://${SITE}:${(site.address() as { port: number }).port}`;
  browser = await launchChromium(chromium, SITE);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
});

/** Starts a broker behind the site's proxy, with the topic the sample sends to. */
async function brokerBehindSite(cors: { origins: string[] } | undefined): Promise<StartBrokerResult> {
  const broker = await startBroker({ dataDir: tempDir(), port: 0, cors });
  brokerPort = broker.port;
  await createClient({ brokers: broker.url })
    .admin()
    .createTopics({ topics: [{ topic: "clicks", numPartitions: 1 }] });
  return broker;
}

/** Opens the page; `errors` collects what its module throws (the sample has no other way to fail). */
async function openPage(): Promise<{ errors: string[]; firstError: Promise<string>; close(): Promise<void> }> {
  const tab = await browser.newPage();
  const errors: string[] = [];
  const firstError = new Promise<string>((resolve) =>
    tab.on("pageerror", (error) => {
      errors.push(String((error as Error).message ?? error));
      resolve(errors[0]!);
    }),
  );
  await tab.goto(siteOrigin);
  return { errors, firstError, close: () => tab.close() };
}

it.skipIf(chromium === undefined)(
  "sends from a page whose origin is in cors.origins, through its server's /kafka",
  async () => {
    const broker = await brokerBehindSite({ origins: [siteOrigin] });
    try {
      const tab = await openPage();
      // The record arrives: a long poll waits for it rather than the test guessing when it landed.
      const res = await fetch(`${broker.url}/v1/topics/clicks/partitions/0/records?offset=0&waitMs=15000`);
      const body = (await res.json()) as { records: Array<{ offset: number; key: string | null; value: string | null }> };
      expect(body.records.map((r) => [r.offset, r.key, r.value])).toEqual([[0, "user-7", "button:buy"]]);
      expect(tab.errors).toEqual([]);
      await tab.close();
    } finally {
      await broker.close();
    }
  },
  60_000,
);

it.skipIf(chromium === undefined)(
  "is refused, changing nothing, when the page's origin is not listed (a DNS name is never trusted)",
  async () => {
    const broker = await brokerBehindSite(undefined);
    try {
      const tab = await openPage();
      expect(await tab.firstError).toMatch(/origin http:\/\/app\.test:\d+ are not allowed/);
      await tab.close();
      const res = await fetch(`${broker.url}/v1/topics/clicks/partitions/0/records?offset=0`);
      expect(((await res.json()) as { records: unknown[] }).records).toEqual([]);
    } finally {
      await broker.close();
    }
  },
  60_000,
);
