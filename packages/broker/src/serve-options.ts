import { parseArgs } from "node:util";
import type { FsyncPolicy } from "@minikafka/log-store";
import { BrokerError } from "./errors.js";
import { corsOrigins } from "./web-guard.js";

/** Output format of the broker's log lines. */
export type LogFormat = "text" | "json";
/** Severity of a log line, most severe first; a level shows its own lines and the more severe ones. */
export type LogLevel = "error" | "warn" | "info" | "debug";

/** What `minikafka-broker` (and `pnpm start`) runs with, resolved from flags, environment and defaults. */
export interface ServeOptions {
  /** Interface to listen on (default `127.0.0.1`). */
  host: string;
  /** Port to listen on (default 8000; 0 picks a free port). */
  port: number;
  /** Data directory, as given (relative paths are resolved by the caller; default `./data`). */
  dataDir: string;
  /** When appends reach the disk (default `always`). */
  fsync: FsyncPolicy;
  /** Longest time between fsyncs with `fsync: "interval"`, in ms (default: the store's, 100). */
  fsyncIntervalMs: number | undefined;
  /** Most segment and index files open at once (default: the store's, 1000 or half of `ulimit -n`). */
  maxOpenFiles: number | undefined;
  /** Most topics (default: the store's, 10 000). */
  maxTopics: number | undefined;
  /** Most partitions of all topics together (default: the store's, 20 000). */
  maxTotalPartitions: number | undefined;
  /** Consumer-group session timeout in ms (default: the coordinator's, 45 000). */
  sessionTimeoutMs: number | undefined;
  /**
   * Heartbeat interval handed to consumer-group members, in ms (default 5 000, or a third of a session
   * timeout given below 15 000).
   */
  heartbeatIntervalMs: number | undefined;
  /** `text` (default) or `json` (one JSON object per line). */
  logFormat: LogFormat;
  /** Least severe level logged (default `info`). */
  logLevel: LogLevel;
  /** Requests slower than this are logged at `warn`, in ms (default 1 000; 0 turns it off). Long polls are not counted. */
  slowRequestMs: number;
  /** Origins whose web pages may call the broker (`cors.origins`; default none). */
  corsOrigins: string[];
}

/** What the command line asks for: help, the version, or a broker. */
export type ServeCommand = { kind: "help" } | { kind: "version" } | { kind: "serve"; options: ServeOptions };

/** The raw text of each option from one source (a layer: flags, environment; later a config file). */
type RawValues = Partial<Record<keyof ServeOptions, string>>;

interface OptionSpec<K extends keyof ServeOptions> {
  readonly key: K;
  readonly flag: string;
  readonly env: string;
  readonly value: string;
  readonly help: string;
  readonly fallback: ServeOptions[K];
  readonly parse: (text: string, name: string) => ServeOptions[K];
}

const integer =
  (min: number, max: number) =>
  (text: string, name: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw new BrokerError("INVALID_REQUEST", `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
    }
    return value;
  };

const oneOf =
  <T extends string>(values: readonly T[]) =>
  (text: string, name: string): T => {
    if (!(values as readonly string[]).includes(text)) {
      throw new BrokerError("INVALID_REQUEST", `${name} must be one of ${values.join(", ")}, got ${JSON.stringify(text)}`);
    }
    return text as T;
  };

const text = (value: string, name: string): string => {
  if (value === "") throw new BrokerError("INVALID_REQUEST", `${name} must not be empty`);
  return value;
};

const origins = (value: string, name: string): string[] => {
  const list = value
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
  try {
    corsOrigins({ origins: list });
  } catch (error) {
    throw new BrokerError("INVALID_REQUEST", `${name}: ${(error as Error).message.replace(/^cors\.origins: /, "")}`);
  }
  return list;
};

const spec = <K extends keyof ServeOptions>(s: OptionSpec<K>): OptionSpec<K> => s;

/**
 * Every option, once: its flag, environment variable, default and parser. The one table the parser, the
 * help text and (later) a config file read from; precedence is flag > environment > default.
 */
const SPECS = [
  spec({
    key: "port",
    flag: "port",
    env: "PORT",
    value: "N",
    help: "port to listen on; 0 picks a free one",
    fallback: 8000,
    parse: integer(0, 65_535),
  }),
  spec({ key: "host", flag: "host", env: "HOST", value: "ADDR", help: "interface to listen on", fallback: "127.0.0.1", parse: text }),
  spec({
    key: "dataDir",
    flag: "data-dir",
    env: "DATA_DIR",
    value: "DIR",
    help: "where topics and offsets are stored",
    fallback: "./data",
    parse: text,
  }),
  spec({
    key: "fsync",
    flag: "fsync",
    env: "MINIKAFKA_FSYNC",
    value: "always|interval|never",
    help: "when appends reach the disk (produce answers after)",
    fallback: "always" as FsyncPolicy,
    parse: oneOf<FsyncPolicy>(["always", "interval", "never"]),
  }),
  spec({
    key: "fsyncIntervalMs",
    flag: "fsync-interval-ms",
    env: "MINIKAFKA_FSYNC_INTERVAL_MS",
    value: "MS",
    help: "longest time between fsyncs with --fsync interval (default 100)",
    fallback: undefined as number | undefined,
    parse: integer(1, 3_600_000),
  }),
  spec({
    key: "maxOpenFiles",
    flag: "max-open-files",
    env: "MINIKAFKA_MAX_OPEN_FILES",
    value: "N",
    help: "most segment and index files open at once (default 1000, or half of ulimit -n when lower)",
    fallback: undefined as number | undefined,
    parse: integer(4, 1_000_000),
  }),
  spec({
    key: "maxTopics",
    flag: "max-topics",
    env: "MINIKAFKA_MAX_TOPICS",
    value: "N",
    help: "most topics; creating more is refused with TOPIC_LIMIT_REACHED (default 10000)",
    fallback: undefined as number | undefined,
    parse: integer(1, 1_000_000_000),
  }),
  spec({
    key: "maxTotalPartitions",
    flag: "max-total-partitions",
    env: "MINIKAFKA_MAX_TOTAL_PARTITIONS",
    value: "N",
    help: "most partitions of all topics together (default 20000)",
    fallback: undefined as number | undefined,
    parse: integer(1, 1_000_000_000),
  }),
  spec({
    key: "sessionTimeoutMs",
    flag: "session-timeout-ms",
    env: "MINIKAFKA_SESSION_TIMEOUT_MS",
    value: "MS",
    help: "a consumer-group member silent this long is evicted (default 45000)",
    fallback: undefined as number | undefined,
    parse: integer(2, 86_400_000),
  }),
  spec({
    key: "heartbeatIntervalMs",
    flag: "heartbeat-interval-ms",
    env: "MINIKAFKA_HEARTBEAT_INTERVAL_MS",
    value: "MS",
    help: "how often members heartbeat; below the session timeout (default 5000, or a third of a shorter session timeout)",
    fallback: undefined as number | undefined,
    parse: integer(1, 86_400_000),
  }),
  spec({
    key: "logFormat",
    flag: "log-format",
    env: "MINIKAFKA_LOG_FORMAT",
    value: "text|json",
    help: "log lines as text, or one JSON object per line",
    fallback: "text" as LogFormat,
    parse: oneOf<LogFormat>(["text", "json"]),
  }),
  spec({
    key: "logLevel",
    flag: "log-level",
    env: "MINIKAFKA_LOG_LEVEL",
    value: "error|warn|info|debug",
    help: "least severe lines logged (debug adds every request)",
    fallback: "info" as LogLevel,
    parse: oneOf<LogLevel>(["error", "warn", "info", "debug"]),
  }),
  spec({
    key: "slowRequestMs",
    flag: "slow-request-ms",
    env: "MINIKAFKA_SLOW_REQUEST_MS",
    value: "MS",
    help: "log requests slower than this, long polls excepted; 0 = off",
    fallback: 1_000,
    parse: integer(0, 3_600_000),
  }),
  spec({
    key: "corsOrigins",
    flag: "cors-origins",
    env: "MINIKAFKA_CORS_ORIGINS",
    value: "ORIGIN,…",
    help: "origins (https://app.example.com) whose web pages may call the broker, comma-separated",
    fallback: [] as string[],
    parse: origins,
  }),
] as const;

/**
 * Reads the command line and environment of `minikafka-broker` / `pnpm start`. Flags win over environment
 * variables (`PORT`, `HOST`, `DATA_DIR`, `MINIKAFKA_*`, see {@link serveHelp}), which win over defaults.
 *
 * @throws BrokerError `INVALID_REQUEST` for an unknown flag, a missing or malformed value, or a positional argument.
 */
export function parseServeCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ServeCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    };
    for (const s of SPECS) options[s.flag] = { type: "string" };
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new BrokerError("INVALID_REQUEST", lowerFirst((error as Error).message));
  }
  if (values.help === true) return { kind: "help" };
  if (values.version === true) return { kind: "version" };
  const fromFlags: RawValues = {};
  const fromEnv: RawValues = {};
  for (const s of SPECS) {
    const flag = values[s.flag];
    if (typeof flag === "string") fromFlags[s.key] = flag;
    const fromEnvironment = env[s.env];
    if (fromEnvironment !== undefined && fromEnvironment !== "") fromEnv[s.key] = fromEnvironment;
  }
  const options = resolve([
    { values: fromFlags, name: (s) => `--${s.flag}` },
    { values: fromEnv, name: (s) => s.env },
  ]);
  if (options.sessionTimeoutMs !== undefined && options.heartbeatIntervalMs === undefined && options.sessionTimeoutMs < 15_000) {
    options.heartbeatIntervalMs = Math.max(1, Math.floor(options.sessionTimeoutMs / 3));
  }
  const heartbeat = options.heartbeatIntervalMs ?? 5_000;
  const session = options.sessionTimeoutMs ?? 45_000;
  if (heartbeat >= session) {
    throw new BrokerError("INVALID_REQUEST", `the heartbeat interval (${heartbeat} ms) must be below the session timeout (${session} ms)`);
  }
  return { kind: "serve", options };
}

/** Layers from the most to the least important; each names where a bad value came from. */
function resolve(layers: ReadonlyArray<{ values: RawValues; name: (s: (typeof SPECS)[number]) => string }>): ServeOptions {
  const out: Record<string, unknown> = {};
  for (const s of SPECS) {
    const layer = layers.find((l) => l.values[s.key] !== undefined);
    out[s.key] = layer === undefined ? s.fallback : (s.parse as (text: string, name: string) => unknown)(layer.values[s.key]!, layer.name(s));
  }
  return out as unknown as ServeOptions;
}

/** The `--help` text: every flag with its environment variable and default. */
export function serveHelp(program: string): string {
  const rows: Array<readonly [string, string]> = SPECS.map((s) => {
    const fallback = s.fallback === undefined || (Array.isArray(s.fallback) && s.fallback.length === 0) ? "" : ` (default ${String(s.fallback)})`;
    return [`  --${s.flag} ${s.value}`, `${s.help}${fallback}; env ${s.env}`] as const;
  });
  rows.push(["  -h, --help", "show this help"], ["  -v, --version", "print the version"]);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    `usage: ${program} [options]`,
    "",
    "Runs a minikafka broker until Ctrl-C or SIGTERM (graceful: in-flight requests finish, data is flushed).",
    "",
    "options (flags win over environment variables):",
    ...rows.map(([left, right]) => left.padEnd(width) + right),
    "",
  ].join("\n");
}

const lowerFirst = (message: string) => message.charAt(0).toLowerCase() + message.slice(1);
