// Helpers shared by the packages' tests and benchmarks (not published): child processes that run
// TypeScript sources directly, through tsx, with the "@minikafka/source" export condition.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
// tsx's ESM loader, resolved from this file so the child works whatever its working directory.
const tsxLoader = pathToFileURL(require.resolve("tsx/esm")).href;

/**
 * Runs a TypeScript file in a fresh Node process (a real process, so it can really be killed), with its
 * stdin, stdout and stderr piped; `cwd` is its working directory and `env` its environment (default: this
 * process's).
 */
export function spawnTs(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ["--import", tsxLoader, "--conditions=@minikafka/source", file, ...args], {
    stdio: "pipe",
    cwd: options.cwd,
    env: options.env,
  });
}

/** Calls `onLine` for every complete line the child writes to stdout (a torn last line is dropped). */
export function onLines(child: ChildProcessWithoutNullStreams, onLine: (line: string) => void): void {
  let pending = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      onLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
    }
  });
}

/** Resolves when the child has exited. */
export function exited(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}
