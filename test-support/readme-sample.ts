// Runs a README's code sample as written, in a fresh Node process (through tsx, with the packages' source
// condition), so the documentation cannot drift from the code.
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exited, spawnTs } from "./spawn-ts.js";
import { tempDir } from "./temp-dir.js";

/** What a sample run printed, and how it ended. */
export interface SampleRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

/**
 * The `index`-th ```ts block of `readmePath` (0 = the first), with each `[from, to]` of `replace` applied
 * (package names to source paths, URLs to test servers) — nothing else is changed.
 */
export function readmeSample(readmePath: string, index = 0, replace: ReadonlyArray<readonly [string, string]> = []): string {
  const blocks = [...readFileSync(readmePath, "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  let code = blocks[index];
  if (code === undefined) throw new Error(`${readmePath} has no ts block number ${index}`);
  for (const [from, to] of replace) {
    if (!code.includes(from)) throw new Error(`the sample does not contain ${JSON.stringify(from)}`);
    code = code.replaceAll(from, to);
  }
  return code;
}

/**
 * The `[from, to]` pair that points `"@minikafka/<name>"` (with its quotes, as an import names it) at that
 * package's sources (`entry` inside `packages/<name>/`, default `src/index.ts`).
 */
export function sourceOf(name: string, entry = "src/index.ts"): readonly [string, string] {
  return [`"@minikafka/${name}"`, JSON.stringify(fileURLToPath(new URL(`../packages/${name}/${entry}`, import.meta.url)))];
}

/** Starts `code` as an ES module (top-level await) in a fresh process with `cwd` as its working directory. */
export function startSample(code: string, cwd = tempDir()): ChildProcessWithoutNullStreams {
  const file = join(cwd, `sample-${Date.now()}-${++samples}.mts`);
  writeFileSync(file, code);
  return spawnTs(file, [], { cwd });
}
let samples = 0;

/** Runs `code` as an ES module (top-level await) with `cwd` as its working directory, until it exits. */
export async function runSample(code: string, cwd = tempDir()): Promise<SampleRun> {
  const child = startSample(code, cwd);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += String(d)));
  child.stderr.on("data", (d) => (stderr += String(d)));
  await exited(child);
  return { stdout, stderr, exitCode: child.exitCode };
}
