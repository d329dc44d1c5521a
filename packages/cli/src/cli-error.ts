/**
 * What went wrong in a way the user can fix: `"USAGE"` for a bad command line (exit code 2), `"FAILED"`
 * for a request that could not be carried out (exit code 1), `"INTERRUPTED"` for a command stopped by
 * Ctrl-C before it finished its work (exit code 130, as a shell reports SIGINT).
 */
export type CliErrorCode = "USAGE" | "FAILED" | "INTERRUPTED";

/**
 * An error the CLI reports as one line on stderr. Internal: everything the CLI throws for a reason of its
 * own is one of these; client errors are turned into one by `describeError`.
 */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly code: CliErrorCode;
  /** For a usage error: the command whose `--help` to point at (e.g. `"topics create"`). */
  readonly command: string | undefined;

  constructor(code: CliErrorCode, message: string, command?: string) {
    super(message);
    this.code = code;
    this.command = command;
  }
}

/** A usage error (exit code 2) for `command`. */
export function usage(message: string, command?: string): CliError {
  return new CliError("USAGE", message, command);
}

/** A failure (exit code 1). */
export function failed(message: string): CliError {
  return new CliError("FAILED", message);
}
