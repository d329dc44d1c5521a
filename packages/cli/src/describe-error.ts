import { isClientError } from "@minikafka/client";
import { CliError } from "./cli-error.js";

/** The one line and exit code an error is reported with. */
export interface ErrorReport {
  message: string;
  exitCode: number;
}

/**
 * Turns anything thrown into one line for stderr (no stack trace) and an exit code: 2 for a usage
 * error, 1 otherwise. The client's typed errors are described by their code: a broker that cannot be
 * reached is named by its URL, a timeout says so, the broker's own messages are passed through with
 * their code.
 */
export function describeError(error: unknown, brokerUrl: string | undefined): ErrorReport {
  if (error instanceof CliError) {
    const hint = error.code === "USAGE" ? ` (see: minikafka ${error.command === undefined ? "" : `${error.command} `}--help)` : "";
    return { message: oneLine(error.message) + hint, exitCode: error.code === "USAGE" ? 2 : error.code === "INTERRUPTED" ? 130 : 1 };
  }
  if (isClientError(error)) {
    const broker = brokerUrl ?? "the broker";
    switch (error.code) {
      case "NETWORK_EXCEPTION": {
        const reason = systemErrorCode(error);
        return {
          message: `cannot reach the broker at ${broker}${reason === undefined ? "" : ` (${reason})`}: is it running? (set --broker or MINIKAFKA_BROKER)`,
          exitCode: 1,
        };
      }
      case "AUTHENTICATION_FAILED":
        return { message: `${oneLine(error.message)} (AUTHENTICATION_FAILED): set --token or MINIKAFKA_TOKEN`, exitCode: 1 };
      case "REQUEST_TIMED_OUT":
        return { message: `the broker at ${broker} did not answer in time: ${oneLine(error.message)}`, exitCode: 1 };
      case "UNKNOWN_SERVER_ERROR":
        return { message: `unexpected answer from ${broker}: ${oneLine(error.message)}`, exitCode: 1 };
      case "BROKER_NOT_AVAILABLE":
      case "COORDINATOR_NOT_AVAILABLE":
      case "STORE_CLOSED":
        return { message: `the broker at ${broker} is not available: ${oneLine(error.message)}`, exitCode: 1 };
      default:
        return { message: `${oneLine(error.message)} (${error.code})`, exitCode: 1 };
    }
  }
  if (error instanceof Error) return { message: oneLine(error.message), exitCode: 1 };
  return { message: oneLine(String(error)), exitCode: 1 };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** The errno code (`ECONNREFUSED`, `ENOTFOUND`, …) somewhere in the cause chain of a network failure. */
function systemErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
    const errors = (current as { errors?: unknown }).errors; // AggregateError (happy eyeballs)
    if (Array.isArray(errors)) {
      const inner = errors.map((e) => systemErrorCode(e)).find((c) => c !== undefined);
      if (inner !== undefined) return inner;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
