// The README's quick start, run as written (only the package name points at the sources), twice over the
// same directory: a second run must work as well as the first.
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { readmeSample, runSample } from "../../../test-support/readme-sample.js";
import { tempDir } from "../../../test-support/temp-dir.js";

it("runs the README quick start, and runs it again over the same data", async () => {
  const code = readmeSample(fileURLToPath(new URL("../README.md", import.meta.url)), 0, [
    ['"@minikafka/log-store"', JSON.stringify(fileURLToPath(new URL("../src/index.ts", import.meta.url)))],
  ]);
  const cwd = tempDir();
  for (const round of [1, 2]) {
    const run = await runSample(code, cwd);
    expect([run.exitCode, run.stderr], `run ${round}`).toEqual([0, ""]);
    expect(run.stdout).toBe("created\n");
  }
}, 30_000);

it("runs the idempotent producer sample: the resent batch is not appended again", async () => {
  const sample = readmeSample(fileURLToPath(new URL("../README.md", import.meta.url)), 1);
  const code = [
    `import { LogStore } from ${JSON.stringify(fileURLToPath(new URL("../src/index.ts", import.meta.url)))};`,
    `const store = await LogStore.open({ dataDir: "./data" });`,
    `await store.createTopic("orders", { partitions: 1 });`,
    sample,
    `const { records } = await store.read("orders", 0, 0);`,
    `console.log(records.map((r) => r.offset + "=" + new TextDecoder().decode(r.value!)).join(" "));`,
    `await store.close();`,
  ].join("\n");
  const run = await runSample(code);
  expect(run).toEqual({ stdout: "0=a 1=b 2=c\n", stderr: "", exitCode: 0 });
}, 30_000);
