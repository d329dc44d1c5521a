// The README's sample, run as written (the package name points at the sources, whose entry builds the files
// in memory instead of reading dist/), followed by a line that prints what it got.
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { readmeSample, runSample, sourceOf } from "../../../test-support/readme-sample.js";

it("runs the README sample", async () => {
  const code = readmeSample(fileURLToPath(new URL("../README.md", import.meta.url)), 0, [sourceOf("console", "src/source.ts")]);
  const run = await runSample(
    `${code}
const res = new Response(asset.body, { headers: { "content-type": asset.contentType, "cache-control": asset.cacheControl } });
console.log(JSON.stringify([asset === index, res.headers.get("content-type"), res.headers.get("cache-control"), (await res.text()).startsWith("<!doctype html>")]));`,
  );
  expect([run.exitCode, run.stderr]).toEqual([0, ""]);
  expect(JSON.parse(run.stdout)).toEqual([true, "text/html; charset=utf-8", "no-cache", true]);
}, 30_000);
