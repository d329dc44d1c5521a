// Runs the real `minikafka-broker` executable as a child process. By default the bin is bundled from the
// TypeScript sources once per test file (esbuild, a few hundred ms: each run then starts as fast as the
// published one, and `pnpm test` needs no build); `binTarget()` is the built `dist/bin.js` that
// package.json's `bin` names, tested as well once `pnpm build` has run (CI builds first).
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll } from "vitest";

const packageDir = fileURLToPath(new URL("../../", import.meta.url));
// One level below package.json (like dist/), so that `--version` finds ../package.json.
const cacheDir = `${packageDir}.cache/`;
const bundled = `${cacheDir}bin-${randomUUID()}.mjs`;
let built: Promise<void> | undefined;

/** The file package.json's `bin.minikafka-broker` points at (the build output). */
export function binTarget(): string {
  const manifest = JSON.parse(readFileSync(`${packageDir}package.json`, "utf8")) as { bin: Record<string, string> };
  return fileURLToPath(new URL(manifest.bin["minikafka-broker"]!, `file://${packageDir}`));
}

function buildBin(): Promise<void> {
  built ??= (async () => {
    mkdirSync(cacheDir, { recursive: true });
    await build({
      entryPoints: [`${packageDir}src/bin.ts`],
      outfile: bundled,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      conditions: ["@minikafka/source"],
      // The console's source entry builds its assets with esbuild on first request: esbuild stays a package.
      external: ["esbuild"],
      logLevel: "silent",
    });
  })();
  return built;
}

afterAll(() => rmSync(bundled, { force: true }));

/** Options of {@link spawnBroker}. */
export interface SpawnOptions {
  /** Environment on top of this process's (variables set to undefined are removed). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Run this file instead of the bundle of the sources (e.g. {@link binTarget}). */
  bin?: string;
}

/** A running `minikafka-broker`: its output so far, line by line, and helpers to await lines and the exit. */
export interface BrokerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdout: string[];
  readonly stderr: string[];
  /** The stdout lines parsed as JSON (with `--log-format json`); lines that are not JSON are skipped. */
  events(): Array<Record<string, unknown>>;
  /** Resolves with the first JSON log line for which `match` is true (already printed or to come). */
  nextEvent(match: (event: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code once the process has exited (and its output is read). */
  readonly exited: Promise<number | null>;
}

const parse = (line: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/** Starts `minikafka-broker ...args` with piped stdio. */
export async function spawnBroker(args: readonly string[], options: SpawnOptions = {}): Promise<BrokerProcess> {
  if (options.bin === undefined) await buildBin();
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn(process.execPath, [options.bin ?? bundled, ...args], { stdio: "pipe", env, cwd: options.cwd });
  child.stdin.end();
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: Array<() => void> = [];
  const lines = (stream: NodeJS.ReadableStream, into: string[]) => {
    let pending = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        into.push(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
      for (const wake of waiters.splice(0)) wake();
    });
    return new Promise<void>((resolve) =>
      stream.once("end", () => {
        if (pending !== "") into.push(pending);
        resolve();
      }),
    );
  };
  const ends = Promise.all([lines(child.stdout, stdout), lines(child.stderr, stderr)]);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      void ends.then(() => {
        for (const wake of waiters.splice(0)) wake();
        resolve(code);
      });
    });
  });
  let done = false;
  void exited.then(
    () => (done = true),
    () => (done = true),
  );
  const events = (): Array<Record<string, unknown>> =>
    stdout.flatMap((line) => {
      const event = parse(line);
      return event === undefined ? [] : [event];
    });
  const nextEvent = async (match: (event: Record<string, unknown>) => boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events().find(match);
      if (found !== undefined) return found;
      if (done) throw new Error(`the broker exited without the awaited line; stdout:\n${stdout.join("\n")}\nstderr:\n${stderr.join("\n")}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no such line within ${timeoutMs} ms; stdout:\n${stdout.join("\n")}\nstderr:\n${stderr.join("\n")}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  return { child, stdout, stderr, events, nextEvent, exited };
}

/** Starts the broker with JSON logs on a free port and waits for its `broker.started` line; returns its URL too. */
export async function startBrokerProcess(args: readonly string[], options: SpawnOptions = {}): Promise<BrokerProcess & { url: string }> {
  const broker = await spawnBroker(["--port", "0", "--log-format", "json", "--fsync", "never", ...args], options);
  try {
    const started = await broker.nextEvent((e) => e.event === "broker.started");
    return Object.assign(broker, { url: String(started.address) });
  } catch (error) {
    broker.child.kill("SIGKILL");
    throw error;
  }
}
