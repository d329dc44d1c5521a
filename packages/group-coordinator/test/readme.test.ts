// The README's quick start, run as written (only the package name points at the sources), followed by lines
// that print what it did; the host's timer it starts is why the run ends with an explicit exit.
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { readmeSample, runSample, sourceOf } from "../../../test-support/readme-sample.js";

it("runs the README quick start", async () => {
  const code = readmeSample(fileURLToPath(new URL("../README.md", import.meta.url)), 0, [sourceOf("group-coordinator")]);
  const run = await runSample(
    `${code}
console.log(JSON.stringify({ epoch: r.memberEpoch, assignment: r.assignment, committed: await gc.fetchOffsets("billing") }));
process.exit(0);`,
  );
  expect([run.exitCode, run.stderr]).toEqual([0, ""]);
  expect(JSON.parse(run.stdout)).toEqual({
    epoch: 1,
    assignment: [{ topic: "orders", partitions: [0, 1, 2, 3, 4, 5] }],
    committed: [{ topic: "orders", partition: 0, offset: 42 }],
  });
});
