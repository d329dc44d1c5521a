import type { BrokerLogger } from "./error-handler.js";
import { miniKafkaErrorCode } from "./errors.js";
import type { LogFormat, LogLevel } from "./serve-options.js";

/** Fields of one log line: plain JSON values. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined | readonly unknown[]>>;

/** Options of {@link StructuredLogger}. */
export interface StructuredLoggerOptions {
  /** `text` (`<time> <LEVEL> <message> key=value …`) or `json` (one object per line). Default `text`. */
  format?: LogFormat | undefined;
  /** Least severe level written (default `info`). */
  level?: LogLevel | undefined;
  /** Receives each finished line, newline included (default: `process.stdout.write`). */
  write?: ((line: string) => void) | undefined;
  /** Time of each line in ms since the epoch (default `Date.now`). */
  now?: (() => number) | undefined;
}

/** Codes of the log store's own failures: their lines are `storage.error`. */
const STORAGE_CODES: ReadonlySet<string> = new Set(["CORRUPT_RECORD", "KAFKA_STORAGE_ERROR", "DISK_FULL"]);

const RANK: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * The broker's log: one line per event, each with a stable `event` name (`broker.started`,
 * `topic.created`, `group.member.expired`, …), a human `msg` and its fields. Also a {@link BrokerLogger},
 * so the HTTP error handler's errors land in the same stream (event `storage.error` for `CORRUPT_RECORD`,
 * `KAFKA_STORAGE_ERROR` and `DISK_FULL`, `broker.error` for the rest).
 */
export class StructuredLogger implements BrokerLogger {
  readonly format: LogFormat;
  readonly level: LogLevel;
  readonly #write: (line: string) => void;
  readonly #now: () => number;

  constructor(options: StructuredLoggerOptions = {}) {
    this.format = options.format ?? "text";
    this.level = options.level ?? "info";
    this.#write = options.write ?? ((line) => process.stdout.write(line));
    this.#now = options.now ?? Date.now;
  }

  /** Whether lines of `level` are written. */
  enabled(level: LogLevel): boolean {
    return RANK[level] <= RANK[this.level];
  }

  /** Writes one line, if `level` is enabled. */
  log(level: LogLevel, event: string, msg: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    const time = new Date(this.#now()).toISOString();
    if (this.format === "json") {
      this.#write(`${JSON.stringify({ time, level, event, msg, ...fields })}\n`);
      return;
    }
    let line = `${time} ${level.toUpperCase().padEnd(5)} ${msg}`;
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined || key === "stack") continue;
      const shown = typeof value === "string" ? value : JSON.stringify(value);
      line += ` ${key}=${/^[^\s"=]+$/.test(shown) ? shown : JSON.stringify(shown)}`;
    }
    if (typeof fields.stack === "string") line += `\n${fields.stack}`;
    this.#write(`${line}\n`);
  }

  /** `BrokerLogger`: an error the HTTP layer met (a 5xx answer, a failed background step). */
  error(message: string, ...details: unknown[]): void {
    const fields: Record<string, string | undefined> = {};
    let event = "broker.error";
    for (const detail of details) {
      if (detail instanceof Error || miniKafkaErrorCode(detail) !== undefined) {
        const error = detail as Error;
        const code = miniKafkaErrorCode(detail) ?? (error as NodeJS.ErrnoException).code;
        fields.error = error.message;
        if (code !== undefined) fields.code = String(code);
        if (code !== undefined && STORAGE_CODES.has(String(code))) event = "storage.error";
        // A stack helps only where the error is not one of ours, i.e. a bug.
        if (miniKafkaErrorCode(detail) === undefined && error.stack !== undefined) fields.stack = error.stack;
      } else if (detail !== undefined) {
        fields.detail = String(detail);
      }
    }
    this.log("error", event, message.replace(/^minikafka broker: /, ""), fields);
  }
}
