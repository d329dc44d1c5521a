import { parseArgs } from "node:util";
import { usage } from "./cli-error.js";

/** An option of a command, as `util.parseArgs` takes it. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
}

/** Parsed options: strings, booleans, or `undefined` when absent. */
export type OptionValues = Record<string, string | boolean | undefined>;

/** The options every command takes. */
export const COMMON_OPTIONS = {
  broker: { type: "string" },
  token: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Record<string, OptionSpec>;

/** `--json`, for the commands that have a machine-readable output. */
export const JSON_OPTION = { json: { type: "boolean" } } as const satisfies Record<string, OptionSpec>;

/** What {@link parseCommand} returns. */
export interface ParsedCommand {
  values: OptionValues;
  positionals: string[];
}

/**
 * `util.parseArgs` in strict mode over one command's arguments, with its errors turned into one-line
 * usage errors that name the command.
 * @throws CliError `USAGE` for an unknown option, a missing value, or a wrong number of positionals
 *   (unless `--help` was given: then the caller prints the help).
 */
export function parseCommand(
  args: readonly string[],
  options: Record<string, OptionSpec>,
  command: string,
  positionals: readonly string[],
): ParsedCommand {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw usage(parseArgsMessage(error), command);
  }
  const values = parsed.values as OptionValues;
  if (values.help === true) return { values, positionals: parsed.positionals };
  if (parsed.positionals.length < positionals.length) {
    throw usage(`missing ${positionals.slice(parsed.positionals.length).join(" and ")}`, command);
  }
  if (parsed.positionals.length > positionals.length) {
    throw usage(`unexpected argument ${JSON.stringify(parsed.positionals[positionals.length])}`, command);
  }
  return { values, positionals: parsed.positionals };
}

function parseArgsMessage(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${option ?? message}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return option === undefined
        ? message
        : message.includes("argument missing")
          ? `option ${option} needs a value`
          : `option ${option} takes no value`;
    default:
      return message;
  }
}

/** A string option, or `undefined`. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * A non-negative (or, with `min: 1`, positive) integer option, or `undefined` when absent.
 * @throws CliError `USAGE` for anything else.
 */
export function integerOption(values: OptionValues, name: string, command: string, min = 0): number | undefined {
  const value = stringOption(values, name);
  return value === undefined ? undefined : parseInteger(value, `--${name}`, command, min);
}

/**
 * Parses a decimal integer ≥ `min` (a safe integer).
 * @throws CliError `USAGE` naming `what`.
 */
export function parseInteger(text: string, what: string, command: string, min = 0): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    const kind = min === 0 ? "a non-negative integer" : min === 1 ? "a positive integer" : `an integer ≥ ${min}`;
    throw usage(`${what} must be ${kind}, got ${JSON.stringify(text)}`, command);
  }
  return n;
}
