import { readFileSync } from "node:fs";
import { miniKafkaErrorCode } from "./errors.js";
import { onShutdownSignal, startBroker, type StartBrokerOptions, type StartBrokerResult } from "./node.js";
import { parseServeCommand, serveHelp, type ServeCommand } from "./serve-options.js";
import { StructuredLogger } from "./structured-logger.js";

/** Options of {@link runBroker}. */
export interface RunBrokerOptions {
  /** Name shown in `--help` and error lines (default `minikafka-broker`). */
  program?: string | undefined;
  /** Environment read for `PORT`, `HOST`, `DATA_DIR`, `MINIKAFKA_*` (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** A relative `--data-dir` is resolved against this (default `process.cwd()`). */
  cwd?: string | undefined;
  /** Where help, the version and log lines go (default `process.stdout`). */
  stdout?: { write(text: string): unknown } | undefined;
  /** Where a failure to start goes, as one line (default `process.stderr`). */
  stderr?: { write(text: string): unknown } | undefined;
  /**
   * Stops the broker when aborted. Default: SIGINT and SIGTERM stop it (a second signal, more than
   * half a second after the first, exits at once).
   */
  signal?: AbortSignal | undefined;
  /** Called once the broker serves (tests, embedding). */
  onStarted?: ((broker: StartBrokerResult) => void) | undefined;
}

/**
 * The `minikafka-broker` command (also `pnpm start`): reads flags and environment (see `--help`), runs a
 * broker with a structured log on stdout until SIGINT/SIGTERM (or `options.signal`), then closes it
 * gracefully (in-flight requests finish, the store is flushed and closed) and resolves with the exit code.
 *
 * Exit codes: 0 after a clean stop (or `--help` / `--version`); 2 for a bad flag or value; 1 when the
 * broker cannot start, with one line on stderr naming the problem (a busy port, a locked data
 * directory, damaged data…), no stack trace.
 */
export async function runBroker(argv: readonly string[], options: RunBrokerOptions = {}): Promise<number> {
  const program = options.program ?? "minikafka-broker";
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  let serve: Extract<ServeCommand, { kind: "serve" }>;
  try {
    const command = parseServeCommand(argv, options.env ?? process.env, { cwd: options.cwd });
    if (command.kind === "help") {
      stdout.write(serveHelp(program));
      return 0;
    }
    if (command.kind === "version") {
      stdout.write(`${version()}\n`);
      return 0;
    }
    serve = command;
  } catch (error) {
    stderr.write(`${program}: ${(error as Error).message} (see ${program} --help)\n`);
    return 2;
  }
  const dataDir = serve.dataDir;
  const log = new StructuredLogger({ format: serve.logFormat, level: serve.logLevel, write: (line) => stdout.write(line) });

  // Listen for signals before starting: a Ctrl-C while the store recovers still stops cleanly.
  let stop!: (reason: string) => void;
  const stopped = new Promise<string>((resolveStop) => (stop = resolveStop));
  const removeSignals = options.signal === undefined ? onShutdownSignal((signal) => stop(signal)) : () => undefined;
  const onAbort = () => stop("abort");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) stop("abort");

  let broker: StartBrokerResult;
  try {
    broker = await startBroker({ ...(serve.start as Partial<StartBrokerOptions>), dataDir, log });
  } catch (error) {
    removeSignals();
    options.signal?.removeEventListener("abort", onAbort);
    stderr.write(`${program}: ${describeStartError(error, serve, dataDir)}\n`);
    return 1;
  }
  options.onStarted?.(broker);
  const reason = await stopped;
  log.log("info", "broker.stopping", `stopping (${reason}): finishing in-flight requests`, { reason });
  try {
    await broker.close();
    return 0;
  } catch (error) {
    log.error("minikafka broker: shutdown failed", error);
    return 1;
  } finally {
    removeSignals();
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** One line for a broker that could not start: what is wrong and what to do, no stack. */
function describeStartError(error: unknown, serve: Extract<ServeCommand, { kind: "serve" }>, dataDir: string): string {
  const code = miniKafkaErrorCode(error) ?? (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const host = serve.settings.get("host") as string;
  const where = `${host.includes(":") ? `[${host}]` : host}:${String(serve.settings.get("port"))}`;
  switch (code) {
    case "EADDRINUSE":
      return `cannot listen on ${where}: the port is already in use (another broker running? choose one with --port)`;
    case "EACCES":
      return `cannot listen on ${where}: permission denied (ports below 1024 need privileges; choose one with --port)`;
    case "EADDRNOTAVAIL":
      return `cannot listen on ${where}: ${host} is not an address of this machine (choose one with --host)`;
    case "DATA_DIR_LOCKED":
      return `${message} (DATA_DIR_LOCKED)`;
    case undefined:
      return `cannot start: ${message}`;
    default:
      return `cannot start with data directory ${dataDir}: ${message} (${String(code)})`;
  }
}

function version(): string {
  // src/run-broker.ts and dist/bin.js both sit one level below package.json.
  for (const candidate of ["../package.json", "../../package.json"]) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(candidate, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (manifest.name === "@minikafka/broker") return manifest.version ?? "unknown";
    } catch {
      // Try the next place.
    }
  }
  return "unknown";
}
