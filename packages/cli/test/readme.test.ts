// The command-line samples of this package's README and of the repository's README, run as written by bash
// against a real broker (`MINIKAFKA_BROKER` points at it, as both READMEs say it may; `minikafka` is the
// bin bundled from the sources instead of `dist/`), and the README's `runCli` sample.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { readmeSample, runSample, sourceOf } from "../../../test-support/readme-sample.js";
import { startTestBroker } from "./helpers/broker.js";
import { builtBin } from "./helpers/cli.js";

const README = fileURLToPath(new URL("../README.md", import.meta.url));
const ROOT_README = fileURLToPath(new URL("../../../README.md", import.meta.url));

/** The ```sh block of `readme` that contains `marker`. */
function shBlock(readme: string, marker: string): string {
  const blocks = [...readFileSync(readme, "utf8").matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes(marker));
  expect(blocks).toHaveLength(1);
  return blocks[0]!;
}

/** Runs `script` with bash (exit on the first failing command), `minikafka` being the bundled bin. */
async function bash(script: string, broker: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bin = await builtBin();
  const child = spawn("bash", ["-c", `set -euo pipefail\nminikafka() { node ${JSON.stringify(bin)} "$@"; }\n${script}`], {
    stdio: "pipe",
    env: { ...process.env, MINIKAFKA_BROKER: broker, MINIKAFKA_TOKEN: undefined },
  });
  child.stdin.end();
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += String(d)));
  child.stderr.on("data", (d) => (stderr += String(d)));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  return { code, stdout, stderr };
}

/** What the quick start's consume line prints: the 3 records, each key's in order, as `%p %o %k %s`. */
function expectConsumed(lines: string[]): void {
  expect(lines).toHaveLength(3);
  const parsed = lines.map((line) => line.split(" "));
  for (const [p, o] of parsed) expect([p, o]).toEqual([expect.stringMatching(/^[0-2]$/), expect.stringMatching(/^\d+$/)]);
  expect(parsed.filter((l) => l[2] === "order-1").map((l) => l[3])).toEqual(["created", "paid"]);
  expect(parsed.filter((l) => l[2] === "order-2").map((l) => l[3])).toEqual(["created"]);
}

it("runs the package README's quick start, twice (topic creation is --if-not-exists)", async (context) => {
  const broker = await startTestBroker(context);
  const script = shBlock(README, "minikafka topics create orders");
  const first = await bash(script, broker.url);
  expect([first.code, first.stderr]).toEqual([0, ""]);
  const lines = first.stdout.split("\n");
  const consumed = lines.filter((line) => /^[0-2] \d+ order-\d /.test(line));
  expectConsumed(consumed);
  expect(first.stdout).toContain("billing"); // groups describe
  const described = JSON.parse(lines.slice(lines.findIndex((l) => l.startsWith("{"))).join("\n")) as { name: string; partitions: unknown[] };
  expect([described.name, described.partitions.length]).toEqual(["orders", 3]);

  const second = await bash(script, broker.url);
  expect([second.code, second.stderr]).toEqual([0, ""]);
}, 60_000);

it("runs the repository README's command-line sample", async (context) => {
  const broker = await startTestBroker(context);
  const block = shBlock(ROOT_README, "minikafka topics create orders");
  const first = 'pnpm build && minikafka() { node "$PWD/packages/cli/dist/bin.js" "$@"; }\n';
  expect(block.startsWith(first)).toBe(true);
  const run = await bash(block.slice(first.length), broker.url);
  expect([run.code, run.stderr]).toEqual([0, ""]);
  expectConsumed(run.stdout.split("\n").filter((line) => /^[0-2] \d+ order-\d /.test(line)));
}, 60_000);

it("runs the README's runCli sample", async (context) => {
  const broker = await startTestBroker(context);
  const code = readmeSample(README, 0, [sourceOf("cli"), ["http://127.0.0.1:8000", broker.url]]);
  const run = await runSample(`${code}\nconsole.log("status", status);`);
  expect(run).toEqual({ stdout: "[]\nstatus 0\n", stderr: "", exitCode: 0 });
}, 30_000);
