// The README's sample, run as written (only the package names point at the sources), followed by a line
// that prints what its comments promise.
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { readmeSample, runSample, sourceOf } from "../../../test-support/readme-sample.js";

it("runs the README sample", async () => {
  const code = readmeSample(fileURLToPath(new URL("../README.md", import.meta.url)), 0, [
    sourceOf("protocol"),
    ['"@minikafka/protocol/errors"', sourceOf("protocol", "src/errors.ts")[1]],
  ]);
  const run = await runSample(
    `${code}
console.log(JSON.stringify([ROUTES.produce.path, ERRORS.OFFSET_OUT_OF_RANGE, errorRow("STALE_MEMBER_EPOCH")?.retriable, body.records.length]));`,
  );
  expect([run.exitCode, run.stderr]).toEqual([0, ""]);
  expect(JSON.parse(run.stdout)).toEqual(["/v1/topics/:topic/records", { status: 416, kafka: 1 }, true, 1]);
});
