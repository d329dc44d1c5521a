import { readFileSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { usage } from "./cli-error.js";
import { consume } from "./commands/consume.js";
import { GROUPS_SUBCOMMANDS, groups } from "./commands/groups.js";
import { produce } from "./commands/produce.js";
import { TOPICS_SUBCOMMANDS, topics } from "./commands/topics.js";
import type { Context } from "./context.js";
import { describeError } from "./describe-error.js";
import { HELP } from "./help.js";

/** Where {@link runCli} reads and writes, and what stops it; each defaults to the process's own. */
export interface CliIo {
  /** Input of `produce` (default `process.stdin`). */
  stdin?: Readable | undefined;
  /** Results (default `process.stdout`). */
  stdout?: Writable | undefined;
  /** Errors and progress (default `process.stderr`); progress is shown only when it is a TTY. */
  stderr?: Writable | undefined;
  /** Environment for `MINIKAFKA_BROKER` and `MINIKAFKA_TOKEN` (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * Stops a running command cleanly, as Ctrl-C does in the `minikafka` bin: `consume` commits what it
   * printed and exits 0; `produce` stops reading, sends what it read, and exits 130.
   */
  signal?: AbortSignal | undefined;
}

// Options that take a value, so that `minikafka --broker URL topics list` finds the command.
const VALUE_OPTIONS = new Set(["--broker", "--token"]);

/**
 * Runs the `minikafka` command line (`argv` without the node and script paths, e.g.
 * `["topics", "list"]`) and resolves with its exit status: 0 on success, 1 when the broker refused the
 * request or could not be reached, 2 for a bad command line, 130 when `produce` was interrupted. It
 * never rejects: errors are written to stderr as one line, `error: …`.
 *
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2));
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const context: Context = {
    stdin: io.stdin ?? process.stdin,
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
    signal: io.signal ?? new AbortController().signal,
  };
  try {
    await dispatch(context, argv);
    return 0;
  } catch (error) {
    const { message, exitCode } = describeError(error, context.brokerUrl);
    context.stderr.write(`error: ${message}\n`);
    if (context.env.MINIKAFKA_DEBUG === "1" && error instanceof Error && error.stack !== undefined) context.stderr.write(error.stack + "\n");
    return exitCode;
  }
}

async function dispatch(context: Context, argv: readonly string[]): Promise<void> {
  // Connection options may come before the command: move them after it.
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith("-")) {
    const arg = argv[i++]!;
    leading.push(arg);
    if (VALUE_OPTIONS.has(arg) && i < argv.length) leading.push(argv[i++]!);
  }
  const command = argv[i];
  const rest = [...leading, ...argv.slice(i + 1)];
  if (command === undefined || command === "help") {
    if (leading.includes("--version")) return print(context, version() + "\n");
    if (command === undefined && !leading.includes("--help") && !leading.includes("-h")) throw usage("missing command");
    return print(context, HELP[""]! + "\n");
  }
  const wantsHelp = rest.includes("--help") || rest.includes("-h");
  switch (command) {
    case "topics":
    case "groups": {
      const subcommands = command === "topics" ? TOPICS_SUBCOMMANDS : GROUPS_SUBCOMMANDS;
      const subIndex = firstPositional(rest);
      const sub = subIndex < 0 ? undefined : rest[subIndex];
      if (sub === undefined || !(sub in subcommands)) {
        if (wantsHelp && sub === undefined) return print(context, HELP[command]! + "\n");
        throw usage(sub === undefined ? `missing ${command} subcommand` : `unknown ${command} subcommand ${JSON.stringify(sub)}`, command);
      }
      if (wantsHelp) return print(context, HELP[`${command} ${sub}`]! + "\n");
      const subArgs = rest.filter((_, j) => j !== subIndex);
      return command === "topics" ? topics(context, sub, subArgs) : groups(context, sub, subArgs);
    }
    case "produce":
    case "consume":
      if (wantsHelp) return print(context, HELP[command]! + "\n");
      return command === "produce" ? produce(context, rest) : consume(context, rest);
    default:
      throw usage(`unknown command ${JSON.stringify(command)}`);
  }
}

/** Index of the first argument that is not an option or the value of `--broker` / `--token` (-1 if none). */
function firstPositional(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return i + 1 < args.length ? i + 1 : -1;
    if (!arg.startsWith("-")) return i;
    if (VALUE_OPTIONS.has(arg)) i++;
  }
  return -1;
}

function print(context: Context, text: string): void {
  context.stdout.write(text);
}

/** The package's version, read next to the code (src/ and dist/ are both one level below it). */
function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}
