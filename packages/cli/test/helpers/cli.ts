// Runs the real `minikafka` executable as a child process. The bin is bundled from the TypeScript sources
// once per test file (esbuild, a few hundred ms) so that each run starts as fast as the published one.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll } from "vitest";

// Beside package.json's folder level (like dist/), so that `--version` finds ../package.json.
const cacheDir = fileURLToPath(new URL("../../.cache/", import.meta.url));
const binPath = `${cacheDir}bin-${randomUUID()}.mjs`;
let built: Promise<void> | undefined;

function buildBin(): Promise<void> {
  built ??= (async () => {
    mkdirSync(cacheDir, { recursive: true });
    await build({
      entryPoints: [fileURLToPath(new URL("../../src/bin.ts", import.meta.url))],
      outfile: binPath,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      conditions: ["@minikafka/source"],
      logLevel: "silent",
    });
  })();
  return built;
}

afterAll(() => rmSync(binPath, { force: true }));

/** What a finished run printed, and how it ended. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The path of the bundled `minikafka` executable (run it with `node`), built on first use. */
export async function builtBin(): Promise<string> {
  await buildBin();
  return binPath;
}

/** Options of {@link runCli} and {@link spawnCli}. */
export interface RunOptions {
  /** The broker URL, passed as `MINIKAFKA_BROKER`. */
  broker?: string;
  /** Written to stdin, which is then closed (default: closed at once). */
  stdin?: string;
  /** More environment. */
  env?: Record<string, string>;
}

/** Starts `minikafka ...args` with piped stdio. */
export async function spawnCli(args: readonly string[], options: RunOptions = {}): Promise<ChildProcessWithoutNullStreams> {
  await buildBin();
  const env: Record<string, string | undefined> = { ...process.env, MINIKAFKA_BROKER: options.broker, MINIKAFKA_TOKEN: undefined, ...options.env };
  if (options.broker === undefined) delete env.MINIKAFKA_BROKER;
  const child = spawn(process.execPath, [binPath, ...args], { stdio: "pipe", env });
  if (options.stdin !== undefined) child.stdin.end(options.stdin);
  else child.stdin.end();
  return child;
}

/** Runs `minikafka ...args` to its end. */
export async function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return finished(await spawnCli(args, options));
}

/** Collects a child's output until it exits. */
export function finished(child: ChildProcessWithoutNullStreams): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
