// The console's first load, in headless Chromium (Debian's `chromium`, or CHROMIUM_PATH). From
// packages/console:
//
//   pnpm bench                       # 1,000 topics of 1 partition, 5 rounds
//   pnpm bench --topics=5000 --partitions=3 --rounds=10
//
// 1. The first load's weight: the JS and CSS the page loads, gzipped (level 9) as a server would send them.
// 2. First render with N topics: a real broker (in this process, port 0, fsync "never") holds N topics; each
//    round opens /console/#/topics in a fresh browser context (empty cache) and times, from navigation
//    start (performance.now() in the page), until the topics table has all N rows: page load, script
//    start, GET /v1/topics, and the render. The files are built before the first round (as `pnpm build`
//    would have), so no round pays for the build. Reports every round, the median and the worst.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import puppeteer from "puppeteer-core";
import { startBroker } from "../../broker/src/index.js";
import { buildConsoleFiles } from "../src/build-assets.js";
import { chromiumPath } from "../test/helpers/chromium.js";

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => /^--([^=]+)=(.*)$/.exec(a))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]),
);
const TOPICS = Number(args.topics ?? 1000);
const ROUNDS = Number(args.rounds ?? 5);
const PARTITIONS = Number(args.partitions ?? 1);
const TARGET_MS = 1000;
const BUDGET_BYTES = 150 * 1024;

const files = await buildConsoleFiles();
let gzipped = 0;
let raw = 0;
for (const [name, body] of files) {
  if (!/\.(js|css)$/.test(name)) continue;
  const size = gzipSync(body, { level: 9 }).byteLength;
  console.log(`${name.padEnd(24)} ${String(body.byteLength).padStart(7)} B, ${String(size).padStart(6)} B gzipped`);
  raw += body.byteLength;
  gzipped += size;
}
console.log(
  `first load (JS + CSS): ${(raw / 1024).toFixed(1)} KiB, ${(gzipped / 1024).toFixed(1)} KiB gzipped (budget ${BUDGET_BYTES / 1024} KiB): ${gzipped < BUDGET_BYTES ? "ok" : "OVER"}`,
);

const dataDir = mkdtempSync(join(tmpdir(), "minikafka-console-bench-"));
const broker = await startBroker({ dataDir, port: 0, fsync: "never", logger: { error() {} } });
const browser = await puppeteer.launch({
  executablePath: chromiumPath(),
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const names = Array.from({ length: TOPICS }, (_, i) => `topic-${String(i).padStart(5, "0")}`);
  for (let i = 0; i < names.length; i += 32) {
    await Promise.all(
      names.slice(i, i + 32).map(async (name) => {
        const res = await fetch(`${broker.url}/v1/topics`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name, partitions: PARTITIONS }),
        });
        if (res.status !== 201) throw new Error(`creating ${name}: ${res.status} ${await res.text()}`);
      }),
    );
  }
  await (await fetch(`${broker.url}/console/`)).text(); // the files are built on the first request
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.goto(`${broker.url}/console/#/topics`, { waitUntil: "domcontentloaded" });
    const handle = await page.waitForFunction(
      (n: number) => {
        const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document;
        return doc.querySelectorAll("[data-testid=topics-table] tbody tr").length === n && performance.now();
      },
      { polling: "mutation", timeout: 30_000 },
      TOPICS,
    );
    const ms = (await handle.jsonValue()) as number;
    times.push(ms);
    console.log(`round ${round + 1}: first render with ${TOPICS} topics in ${ms.toFixed(0)} ms`);
    await context.close();
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const worst = sorted[sorted.length - 1]!;
  console.log(
    `first render with ${TOPICS} topics: median ${median.toFixed(0)} ms, worst ${worst.toFixed(0)} ms (target < ${TARGET_MS} ms): ${worst < TARGET_MS ? "ok" : "OVER"}`,
  );
} finally {
  await browser.close();
  await broker.close();
  rmSync(dataDir, { recursive: true, force: true });
}
