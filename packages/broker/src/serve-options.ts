// The one table of the broker command's settings (`minikafka-broker`, `pnpm start`): each row is a key of
// the config file, with its typebox schema, default, and (for most) a flag and an environment variable.
// The config file's schema, the flag parser, the environment reader and `--help` are all derived from it,
// so a new setting is one row. Precedence: flags > environment > config file > defaults.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve as resolvePath } from "node:path";
import { parseArgs } from "node:util";
import type { FsyncPolicy } from "@minikafka/log-store";
import { Type, type TSchema } from "typebox";
import { Compile } from "typebox/compile";
import { BrokerError } from "./errors.js";
import { systemClock } from "@minikafka/group-coordinator";
import { Access, type AclEntry, type AuthOptions } from "./access.js";
import { Quotas, type QuotaOptions } from "./quotas.js";
import { socketLimits } from "./socket-guard.js";
import { corsOrigins } from "./web-guard.js";

/** Output format of the broker's log lines. */
export type LogFormat = "text" | "json";
/** Severity of a log line, most severe first; a level shows its own lines and the more severe ones. */
export type LogLevel = "error" | "warn" | "info" | "debug";

/**
 * One setting: where it sits in the config file (`path`, dot-separated), what it may hold (`schema`),
 * its default, and how flags and the environment name it. Internal.
 */
interface Setting {
  /** Its key in the config file, e.g. `group.sessionTimeoutMs`. */
  readonly path: string;
  /**
   * Where its value goes in `startBroker()`'s options (dot-separated; default: `path`), or `null` for the
   * settings the command itself uses (logging, the data directory's resolution).
   */
  readonly option?: string | null;
  /** Its flag without the dashes (none: config file only). */
  readonly flag?: string;
  /** Its environment variable (none: not read from the environment). */
  readonly env?: string;
  /** The flag's value in `--help`, e.g. `MS`. */
  readonly value?: string;
  readonly help: string;
  /** What the value may be; flags and environment text is converted to the schema's type first. */
  readonly schema: TSchema;
  /** The value when no source gives one (undefined: the library's own default, named in `help`). */
  readonly fallback?: unknown;
  /**
   * A file or directory path: from the config file relative to the file, from a flag or the environment
   * relative to the working directory (always absolute once parsed).
   */
  readonly isPath?: true;
}

const MAX_MS = 86_400_000 * 365;
const ms = (minimum = 0, maximum = MAX_MS) => Type.Integer({ minimum, maximum });
const bytes = (minimum = 1, maximum = Number.MAX_SAFE_INTEGER) => Type.Integer({ minimum, maximum });
const nonEmpty = Type.String({ minLength: 1 });
const oneOf = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));
/** A count limit from 1. */
const count = (maximum: number) => Type.Integer({ minimum: 1, maximum });
/** `x-rule`: what a schema's complaint says instead of the generic one ("must be …"). */
const RULE = "x-rule";
const closed = <T extends Record<string, TSchema>>(properties: T) => Type.Object(properties, { additionalProperties: false });

/** `auth` in the config file: the same shape as `startBroker({ auth })`. */
const AUTH_SCHEMA = closed({
  principals: Type.Array(
    closed({
      name: nonEmpty,
      tokenSha256: Type.String({ pattern: "^[0-9a-fA-F]{64}$", [RULE]: "must be 64 hex digits (the token's SHA-256)" }),
    }),
    { minItems: 1, maxItems: 100_000, [RULE]: "must be a non-empty list of { name, tokenSha256 }" },
  ),
  superUsers: Type.Optional(Type.Array(nonEmpty, { maxItems: 100_000 })),
});
/** `acls` in the config file: the same shape as `startBroker({ acls })`. */
const ACLS_SCHEMA = Type.Array(
  closed({
    principal: nonEmpty,
    resource: oneOf(["topic", "group", "cluster", "stream"]),
    name: nonEmpty,
    pattern: Type.Optional(oneOf(["literal", "prefixed"])),
    operations: Type.Array(oneOf(["read", "write", "create", "delete", "alter", "describe", "all"]), {
      minItems: 1,
      [RULE]: "must be a non-empty list of read, write, create, delete, alter, describe, all",
    }),
    permission: oneOf(["allow", "deny"]),
  }),
  { maxItems: 1_000_000 },
);
const QUOTA_LIMITS = {
  produceBytesPerSecond: Type.Optional(bytes()),
  fetchBytesPerSecond: Type.Optional(bytes()),
  maxLongPolls: Type.Optional(count(1_000_000)),
  maxSseStreams: Type.Optional(count(1_000_000)),
};
/** `quotas` in the config file: the same shape as `startBroker({ quotas })`. */
const QUOTAS_SCHEMA = closed({ ...QUOTA_LIMITS, principals: Type.Optional(Type.Record(Type.String(), closed(QUOTA_LIMITS))) });

/** Every setting, once. */
const SETTINGS: readonly Setting[] = [
  { path: "host", flag: "host", env: "HOST", value: "ADDR", help: "interface to listen on", schema: nonEmpty, fallback: "127.0.0.1" },
  {
    path: "port",
    flag: "port",
    env: "PORT",
    value: "N",
    help: "port to listen on; 0 picks a free one",
    schema: Type.Integer({ minimum: 0, maximum: 65_535 }),
    fallback: 8000,
  },
  {
    path: "dataDir",
    option: null,
    flag: "data-dir",
    env: "DATA_DIR",
    value: "DIR",
    help: "where topics and offsets are stored (in a config file: relative to the file)",
    schema: nonEmpty,
    fallback: "./data",
    isPath: true,
  },
  {
    path: "fsync",
    flag: "fsync",
    env: "MINIKAFKA_FSYNC",
    value: "always|interval|never",
    help: "when appends reach the disk (produce answers after)",
    schema: oneOf(["always", "interval", "never"]),
    fallback: "always",
  },
  {
    path: "fsyncIntervalMs",
    flag: "fsync-interval-ms",
    env: "MINIKAFKA_FSYNC_INTERVAL_MS",
    value: "MS",
    help: "longest time between fsyncs with --fsync interval (default 100)",
    schema: ms(1, 3_600_000),
  },
  {
    path: "journal",
    flag: "journal",
    env: "MINIKAFKA_JOURNAL",
    value: "true|false",
    help: "with --fsync always: one store-wide journal, one fsync per round for all partitions (default false)",
    schema: Type.Boolean(),
  },
  {
    path: "maxOpenFiles",
    flag: "max-open-files",
    env: "MINIKAFKA_MAX_OPEN_FILES",
    value: "N",
    help: "most segment and index files open at once (default 1000, or half of ulimit -n when lower)",
    schema: Type.Integer({ minimum: 4, maximum: 1_000_000 }),
  },
  {
    path: "maxTopics",
    flag: "max-topics",
    env: "MINIKAFKA_MAX_TOPICS",
    value: "N",
    help: "most topics; creating more is refused with TOPIC_LIMIT_REACHED (default 10000)",
    schema: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
  },
  {
    path: "maxTotalPartitions",
    flag: "max-total-partitions",
    env: "MINIKAFKA_MAX_TOTAL_PARTITIONS",
    value: "N",
    help: "most partitions of all topics together (default 20000)",
    schema: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
  },
  {
    path: "shutdownTimeoutMs",
    flag: "shutdown-timeout-ms",
    env: "MINIKAFKA_SHUTDOWN_TIMEOUT_MS",
    value: "MS",
    help: "how long a stop lets in-flight requests finish (default 10000)",
    schema: ms(0, 3_600_000),
  },
  // Defaults of new topics (a topic's own config overrides them).
  {
    path: "topicDefaults.segmentBytes",
    option: "segmentBytes",
    flag: "segment-bytes",
    env: "MINIKAFKA_SEGMENT_BYTES",
    value: "BYTES",
    help: "roll to a new segment file past this size (default 67108864)",
    schema: bytes(1024, 2 ** 40),
  },
  {
    path: "topicDefaults.retentionMs",
    option: "retentionMs",
    flag: "retention-ms",
    env: "MINIKAFKA_RETENTION_MS",
    value: "MS",
    help: "delete old segments whose newest record is older (default: keep forever)",
    schema: ms(1, Number.MAX_SAFE_INTEGER),
  },
  {
    path: "topicDefaults.retentionBytes",
    option: "retentionBytes",
    flag: "retention-bytes",
    env: "MINIKAFKA_RETENTION_BYTES",
    value: "BYTES",
    help: "delete old segments while a partition is larger (default: no limit)",
    schema: bytes(1),
  },
  {
    path: "retentionCheckIntervalMs",
    flag: "retention-check-interval-ms",
    env: "MINIKAFKA_RETENTION_CHECK_INTERVAL_MS",
    value: "MS",
    help: "how often time-based retention runs; 0 = never (default 300000)",
    schema: ms(0),
  },
  // Consumer groups.
  {
    path: "group.sessionTimeoutMs",
    option: "sessionTimeoutMs",
    flag: "session-timeout-ms",
    env: "MINIKAFKA_SESSION_TIMEOUT_MS",
    value: "MS",
    help: "a member silent this long is evicted, unless it asked for its own (default 45000)",
    schema: ms(2, 86_400_000),
  },
  {
    path: "group.heartbeatIntervalMs",
    option: "heartbeatIntervalMs",
    flag: "heartbeat-interval-ms",
    env: "MINIKAFKA_HEARTBEAT_INTERVAL_MS",
    value: "MS",
    help: "how often members heartbeat; below the session timeout (default 5000, or a third of a shorter session timeout)",
    schema: ms(1, 86_400_000),
  },
  {
    path: "group.minSessionTimeoutMs",
    option: "minSessionTimeoutMs",
    flag: "min-session-timeout-ms",
    env: "MINIKAFKA_MIN_SESSION_TIMEOUT_MS",
    value: "MS",
    help: "shortest session timeout a member may ask for (default 6000; group.min.session.timeout.ms)",
    schema: ms(2, 86_400_000),
  },
  {
    path: "group.maxSessionTimeoutMs",
    option: "maxSessionTimeoutMs",
    flag: "max-session-timeout-ms",
    env: "MINIKAFKA_MAX_SESSION_TIMEOUT_MS",
    value: "MS",
    help: "longest session timeout a member may ask for (default 1800000; group.max.session.timeout.ms)",
    schema: ms(2, 86_400_000),
  },
  // Limits.
  {
    path: "limits.maxBodyBytes",
    option: "maxBodyBytes",
    flag: "max-body-bytes",
    env: "MINIKAFKA_MAX_BODY_BYTES",
    value: "BYTES",
    help: "largest request body; larger → 413 (default 8388608)",
    schema: bytes(1, 2 ** 31 - 1),
  },
  {
    path: "limits.maxWaitMs",
    option: "maxWaitMs",
    flag: "max-wait-ms",
    env: "MINIKAFKA_MAX_WAIT_MS",
    value: "MS",
    help: "longest long-poll wait; a larger waitMs is capped (default 30000)",
    schema: ms(1, 3_600_000),
  },
  {
    path: "limits.maxRecordsPerRequest",
    option: "maxRecordsPerRequest",
    flag: "max-records-per-request",
    env: "MINIKAFKA_MAX_RECORDS_PER_REQUEST",
    value: "N",
    help: "records in one produce request; more → 413 RECORD_LIST_TOO_LARGE (default 10000)",
    schema: count(100_000),
  },
  {
    path: "limits.maxRecordKeyBytes",
    option: "maxRecordKeyBytes",
    flag: "max-record-key-bytes",
    env: "MINIKAFKA_MAX_RECORD_KEY_BYTES",
    value: "BYTES",
    help: "a record's key; larger → 413 MESSAGE_TOO_LARGE (default 65536)",
    schema: bytes(1, 2 ** 31 - 1),
  },
  {
    path: "limits.maxRecordValueBytes",
    option: "maxRecordValueBytes",
    flag: "max-record-value-bytes",
    env: "MINIKAFKA_MAX_RECORD_VALUE_BYTES",
    value: "BYTES",
    help: "a record's value; larger → 413 MESSAGE_TOO_LARGE (default 1048576)",
    schema: bytes(1, 2 ** 31 - 1),
  },
  {
    path: "limits.maxRecordHeaders",
    option: "maxRecordHeaders",
    flag: "max-record-headers",
    env: "MINIKAFKA_MAX_RECORD_HEADERS",
    value: "N",
    help: "headers of one record; more → 413 MESSAGE_TOO_LARGE (default 64)",
    schema: count(100_000),
  },
  {
    path: "limits.maxRecordHeaderBytes",
    option: "maxRecordHeaderBytes",
    flag: "max-record-header-bytes",
    env: "MINIKAFKA_MAX_RECORD_HEADER_BYTES",
    value: "BYTES",
    help: "one record header, name and value; larger → 413 MESSAGE_TOO_LARGE (default 65536)",
    schema: bytes(1, 2 ** 31 - 1),
  },
  {
    path: "limits.maxPartitionsPerTopic",
    option: "maxPartitions",
    flag: "max-partitions-per-topic",
    env: "MINIKAFKA_MAX_PARTITIONS_PER_TOPIC",
    value: "N",
    help: "partitions of one topic; more → 400 INVALID_PARTITIONS (default 1000)",
    schema: count(100_000),
  },
  {
    path: "limits.maxRequestHeaderBytes",
    option: "maxRequestHeaderBytes",
    flag: "max-request-header-bytes",
    env: "MINIKAFKA_MAX_REQUEST_HEADER_BYTES",
    value: "BYTES",
    help: "request line and headers (and so the seed's messages); more → 431 (default 16384)",
    schema: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024 }),
  },
  {
    path: "limits.headersTimeoutMs",
    option: "headersTimeoutMs",
    flag: "headers-timeout-ms",
    env: "MINIKAFKA_HEADERS_TIMEOUT_MS",
    value: "MS",
    help: "a request's headers (and a TLS handshake) must arrive within this; else 408 and closed (default 20000)",
    schema: ms(1, 3_600_000),
  },
  {
    path: "limits.requestTimeoutMs",
    option: "requestTimeoutMs",
    flag: "request-timeout-ms",
    env: "MINIKAFKA_REQUEST_TIMEOUT_MS",
    value: "MS",
    help: "a whole request, body included, must arrive within this (default 120000)",
    schema: ms(1, 3_600_000),
  },
  {
    path: "limits.keepAliveTimeoutMs",
    option: "keepAliveTimeoutMs",
    flag: "keep-alive-timeout-ms",
    env: "MINIKAFKA_KEEP_ALIVE_TIMEOUT_MS",
    value: "MS",
    help: "an idle keep-alive connection is closed after this, plus Node's second (default 5000)",
    schema: ms(1, 3_600_000),
  },
  {
    path: "limits.idleTimeoutMs",
    option: "idleTimeoutMs",
    flag: "idle-timeout-ms",
    env: "MINIKAFKA_IDLE_TIMEOUT_MS",
    value: "MS",
    help: "a connection where nothing moves is closed after this, long polls and SSE excepted; 0 = never (default 60000)",
    schema: ms(0, 3_600_000),
  },
  // Web pages.
  {
    path: "cors.origins",
    flag: "cors-origins",
    env: "MINIKAFKA_CORS_ORIGINS",
    value: "ORIGIN,…",
    help: "origins (https://app.example.com) whose web pages may call the broker, comma-separated",
    schema: Type.Array(nonEmpty, { maxItems: 1000 }),
    fallback: [],
  },
  // HTTPS.
  {
    path: "tls.certFile",
    flag: "tls-cert-file",
    env: "MINIKAFKA_TLS_CERT_FILE",
    value: "FILE",
    help: "serve HTTPS (only) with this PEM certificate (chain); needs --tls-key-file",
    schema: nonEmpty,
    isPath: true,
  },
  {
    path: "tls.keyFile",
    flag: "tls-key-file",
    env: "MINIKAFKA_TLS_KEY_FILE",
    value: "FILE",
    help: "the certificate's PEM private key (unencrypted)",
    schema: nonEmpty,
    isPath: true,
  },
  // Cluster mode (all of it needs cluster.nodeId and cluster.etcd).
  {
    path: "cluster.nodeId",
    flag: "node-id",
    env: "MINIKAFKA_NODE_ID",
    value: "N",
    help: "cluster mode: this broker's id, unique in the cluster (needs --etcd)",
    schema: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  },
  {
    path: "cluster.etcd",
    flag: "etcd",
    env: "MINIKAFKA_ETCD",
    value: "URL,…",
    help: "cluster mode: etcd client URLs, comma-separated (http://127.0.0.1:2379)",
    schema: Type.Array(Type.String({ pattern: "^https?://.+", [RULE]: "must be an http(s) URL" }), {
      minItems: 1,
      maxItems: 100,
      [RULE]: "must be a non-empty list of http(s) URLs",
    }),
  },
  {
    path: "cluster.advertisedUrl",
    flag: "advertised-url",
    env: "MINIKAFKA_ADVERTISED_URL",
    value: "URL",
    help: "cluster mode: where clients and the other brokers reach this one (default: the address listened on)",
    schema: Type.String({ pattern: "^https?://[^/]+$", [RULE]: "must be an http(s) URL with no path, e.g. http://10.0.0.1:8001" }),
  },
  {
    path: "cluster.name",
    flag: "cluster-name",
    env: "MINIKAFKA_CLUSTER_NAME",
    value: "NAME",
    help: 'cluster mode: names the cluster in etcd, so that several share one etcd (default "default")',
    schema: Type.String({ pattern: "^[a-zA-Z0-9._-]{1,64}$", [RULE]: "must be 1 to 64 of a-z, A-Z, 0-9, '.', '_', '-'" }),
  },
  {
    path: "cluster.leaseTtlSeconds",
    flag: "lease-ttl-seconds",
    env: "MINIKAFKA_LEASE_TTL_SECONDS",
    value: "S",
    help: "cluster mode: a broker that stops renewing its etcd lease loses its leaderships this long after (default 6)",
    schema: Type.Integer({ minimum: 1, maximum: 3600 }),
  },
  {
    path: "cluster.replicaLagTimeMs",
    flag: "replica-lag-time-ms",
    env: "MINIKAFKA_REPLICA_LAG_TIME_MS",
    value: "MS",
    help: "cluster mode: a follower not caught up for this long leaves the ISR (default 10000)",
    schema: ms(100, 3_600_000),
  },
  {
    path: "cluster.ackTimeoutMs",
    help: "cluster mode: a produce not replicated to the ISR within this answers NOT_ENOUGH_REPLICAS_AFTER_APPEND (default 30000)",
    schema: ms(100, 3_600_000),
  },
  // Who may call, and what they may do (config file only: they are structured).
  { path: "auth", help: "bearer-token principals { principals: [{ name, tokenSha256 }], superUsers }", schema: AUTH_SCHEMA },
  { path: "acls", help: "Kafka-model ACLs [{ principal, resource, name, pattern, operations, permission }] (needs auth)", schema: ACLS_SCHEMA },
  {
    path: "quotas",
    help: "per-principal produceBytesPerSecond, fetchBytesPerSecond, maxLongPolls, maxSseStreams, and principals.<name> overrides",
    schema: QUOTAS_SCHEMA,
  },
  // The broker's own log.
  {
    path: "logging.format",
    option: null,
    flag: "log-format",
    env: "MINIKAFKA_LOG_FORMAT",
    value: "text|json",
    help: "log lines as text, or one JSON object per line",
    schema: oneOf(["text", "json"]),
    fallback: "text",
  },
  {
    path: "logging.level",
    option: null,
    flag: "log-level",
    env: "MINIKAFKA_LOG_LEVEL",
    value: "error|warn|info|debug",
    help: "least severe lines logged (debug adds every request)",
    schema: oneOf(["error", "warn", "info", "debug"]),
    fallback: "info",
  },
  {
    path: "logging.slowRequestMs",
    option: "slowRequestMs",
    flag: "slow-request-ms",
    env: "MINIKAFKA_SLOW_REQUEST_MS",
    value: "MS",
    help: "log requests slower than this, long polls excepted; 0 = off",
    schema: ms(0, 3_600_000),
    fallback: 1_000,
  },
];

/** `--config FILE` / `MINIKAFKA_CONFIG`: read before everything else, so it is not a setting of its own. */
const CONFIG_FLAG = "config";
const CONFIG_ENV = "MINIKAFKA_CONFIG";

/** The config file's schema, nested from the settings' paths: every object closed, every key optional. */
function fileSchema(): TSchema {
  interface Node {
    [key: string]: Node | TSchema;
  }
  const root: Node = {};
  for (const s of SETTINGS) {
    const parts = s.path.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Node;
    node[parts.at(-1)!] = s.schema;
  }
  const build = (node: Node): TSchema =>
    Type.Object(
      Object.fromEntries(
        Object.entries(node).map(([k, v]) => [k, Type.Optional(SETTINGS.some((s) => s.schema === v) ? (v as TSchema) : build(v as Node))]),
      ),
      { additionalProperties: false },
    );
  const schema = build(root) as TSchema & { properties: Record<string, TSchema> };
  // An editor's `$schema` pointer is allowed at the top.
  schema.properties.$schema = Type.Optional(Type.String());
  return schema;
}

const FILE_SCHEMA = fileSchema();
const FILE_VALIDATOR = Compile(FILE_SCHEMA);

/** The settings of one run, resolved: each setting's path → its value (undefined: the library's default). */
export type ServeOptions = ReadonlyMap<string, unknown>;

/** What the command line asks for: help, the version, or a broker with its settings. */
export type ServeCommand =
  | { kind: "help" }
  | { kind: "version" }
  | {
      kind: "serve";
      /** Every setting's value, by path. */
      settings: ServeOptions;
      /** The data directory, absolute. */
      dataDir: string;
      /** What `startBroker()` gets (without `dataDir`, `log` and signal handling). */
      start: Record<string, unknown>;
      logFormat: LogFormat;
      logLevel: LogLevel;
      /** The config file read, if any (absolute). */
      configFile: string | undefined;
    };

/** Options of {@link parseServeCommand}. */
export interface ParseServeOptions {
  /** Relative paths of flags and the environment are resolved against this (default `process.cwd()`). */
  cwd?: string | undefined;
  /** Reads the config file (default `readFileSync(path, "utf8")`). */
  readFile?: ((path: string) => string) | undefined;
}

/**
 * Reads the command line, environment and config file of `minikafka-broker` / `pnpm start`. Flags win
 * over environment variables (`PORT`, `HOST`, `DATA_DIR`, `MINIKAFKA_*`, see {@link serveHelp}), which win
 * over the config file (`--config FILE` or `MINIKAFKA_CONFIG`), which wins over defaults.
 *
 * @throws BrokerError `INVALID_REQUEST` for an unknown flag, a missing or malformed value, a positional
 *   argument, or a config file that cannot be read, is not JSON, has an unknown key or a wrong type (the
 *   message names the key's path).
 */
export function parseServeCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  options: ParseServeOptions = {},
): ServeCommand {
  const cwd = options.cwd ?? process.cwd();
  let values: Record<string, string | boolean | undefined>;
  try {
    const flags: Record<string, { type: "string" | "boolean"; short?: string }> = {
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
      [CONFIG_FLAG]: { type: "string", short: "c" },
    };
    for (const s of SETTINGS) if (s.flag !== undefined) flags[s.flag] = { type: "string" };
    ({ values } = parseArgs({ args: [...argv], options: flags, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new BrokerError("INVALID_REQUEST", lowerFirst((error as Error).message));
  }
  if (values.help === true) return { kind: "help" };
  if (values.version === true) return { kind: "version" };

  const configArg = typeof values[CONFIG_FLAG] === "string" ? (values[CONFIG_FLAG] as string) : nonBlank(env[CONFIG_ENV]);
  if (configArg === "") throw new BrokerError("INVALID_REQUEST", `--${CONFIG_FLAG} must not be empty`);
  const configFile = configArg === undefined ? undefined : resolvePath(cwd, configArg);
  const file = configFile === undefined ? undefined : readConfig(configFile, options.readFile ?? ((p) => readFileSync(p, "utf8")));

  const settings = new Map<string, unknown>();
  const fromFile = new Set<string>();
  for (const s of SETTINGS) {
    const flag = s.flag === undefined ? undefined : values[s.flag];
    const fromEnv = s.env === undefined ? undefined : nonBlank(env[s.env]);
    let value: unknown;
    let base = cwd;
    if (typeof flag === "string") value = fromText(s, flag, `--${s.flag}`);
    else if (fromEnv !== undefined) value = fromText(s, fromEnv, s.env!);
    else if (file !== undefined && at(file, s.path) !== undefined) {
      value = at(file, s.path);
      base = dirname(configFile!);
      fromFile.add(s.path);
    } else value = s.fallback;
    if (s.isPath === true && typeof value === "string" && !isAbsolute(value)) value = resolvePath(base, value);
    settings.set(s.path, value);
  }
  checkTogether(settings, (path) => (fromFile.has(path) ? `config file ${configFile!}: ` : ""));

  const start: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const value = settings.get(s.path);
    if (s.option === null || value === undefined) continue;
    put(start, s.option ?? s.path, value);
  }
  return {
    kind: "serve",
    settings,
    dataDir: settings.get("dataDir") as string,
    start,
    logFormat: settings.get("logging.format") as LogFormat,
    logLevel: settings.get("logging.level") as LogLevel,
    configFile,
  };
}

/**
 * Rules across settings, checked once every source is merged; `where(path)` prefixes a complaint about a
 * setting that came from the config file.
 */
function checkTogether(settings: Map<string, unknown>, where: (path: string) => string): void {
  const get = (path: string) => settings.get(path) as number | undefined;
  const session = get("group.sessionTimeoutMs");
  if (session !== undefined && get("group.heartbeatIntervalMs") === undefined && session < 15_000) {
    settings.set("group.heartbeatIntervalMs", Math.max(1, Math.floor(session / 3)));
  }
  const heartbeat = get("group.heartbeatIntervalMs") ?? 5_000;
  const effectiveSession = session ?? 45_000;
  if (heartbeat >= effectiveSession) {
    throw new BrokerError("INVALID_REQUEST", `the heartbeat interval (${heartbeat} ms) must be below the session timeout (${effectiveSession} ms)`);
  }
  const min = get("group.minSessionTimeoutMs") ?? Math.min(6_000, effectiveSession);
  const max = get("group.maxSessionTimeoutMs") ?? Math.max(1_800_000, effectiveSession);
  if (!(min <= effectiveSession && effectiveSession <= max)) {
    throw new BrokerError(
      "INVALID_REQUEST",
      `the session timeout (${effectiveSession} ms) must be within the minimum and maximum session timeouts (${min} to ${max} ms)`,
    );
  }
  try {
    corsOrigins({ origins: settings.get("cors.origins") as string[] });
  } catch (error) {
    throw new BrokerError("INVALID_REQUEST", (error as Error).message);
  }
  guarded("", () => socketLimits({ headersTimeoutMs: get("limits.headersTimeoutMs"), requestTimeoutMs: get("limits.requestTimeoutMs") }));
  if (settings.get("journal") === true && (settings.get("fsync") ?? "always") !== "always") {
    throw new BrokerError(
      "INVALID_REQUEST",
      `${where("journal")}journal needs fsync "always" (it replaces the per-partition fsyncs of that mode), got fsync ${JSON.stringify(settings.get("fsync"))}`,
    );
  }
  const clusterKeys = [...settings.keys()].filter((k) => k.startsWith("cluster.") && settings.get(k) !== undefined);
  if (clusterKeys.length > 0) {
    for (const needed of ["cluster.nodeId", "cluster.etcd"]) {
      if (settings.get(needed) === undefined) {
        throw new BrokerError(
          "INVALID_REQUEST",
          `${where(clusterKeys[0]!)}cluster mode needs ${needed} (--${needed === "cluster.nodeId" ? "node-id" : "etcd"}) too`,
        );
      }
    }
    const host = String(settings.get("host"));
    if (settings.get("cluster.advertisedUrl") === undefined && (host === "0.0.0.0" || host === "::")) {
      throw new BrokerError(
        "INVALID_REQUEST",
        `listening on all interfaces (${host}), the broker cannot tell the others where to reach it: set cluster.advertisedUrl (--advertised-url)`,
      );
    }
    if (settings.get("cluster.advertisedUrl") === undefined && settings.get("port") === 0) {
      throw new BrokerError(
        "INVALID_REQUEST",
        "cluster mode with port 0 needs cluster.advertisedUrl (--advertised-url): the port is not known in advance",
      );
    }
    if (settings.get("auth") !== undefined) {
      throw new BrokerError(
        "INVALID_REQUEST",
        `${where("auth")}cluster mode does not support auth yet (brokers fetch from each other without a token): remove auth or cluster`,
      );
    }
  }
  if ((settings.get("tls.certFile") === undefined) !== (settings.get("tls.keyFile") === undefined)) {
    throw new BrokerError(
      "INVALID_REQUEST",
      "tls needs both a certificate and its key (tls.certFile and tls.keyFile, or --tls-cert-file and --tls-key-file)",
    );
  }
  // The same checks startBroker() makes, so that a bad principal name in an ACL stops the start in one line
  // naming the key, before anything opens.
  const access = guarded(
    where("auth") || where("acls"),
    () => new Access(settings.get("auth") as AuthOptions | undefined, settings.get("acls") as AclEntry[] | undefined),
  );
  guarded(where("quotas"), () => new Quotas(settings.get("quotas") as QuotaOptions | undefined, access, systemClock));
}

function guarded<T>(prefix: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    throw new BrokerError("INVALID_REQUEST", `${prefix}${(error as Error).message}`);
  }
}

/** Flag or environment text → the setting's type (then checked against its schema). */
function fromText(s: Setting, text: string, name: string): unknown {
  const schema = s.schema as { type?: string };
  let value: unknown = text;
  if (schema.type === "integer") {
    value = /^-?\d+$/.test(text) ? Number(text) : text;
  } else if (schema.type === "boolean") {
    value = text === "true" ? true : text === "false" ? false : text;
  } else if (schema.type === "array") {
    value = text
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
  }
  if (!Compile(s.schema).Check(value)) throw new BrokerError("INVALID_REQUEST", `${name} ${rule(s.schema)}, got ${JSON.stringify(text)}`);
  if (s.path === "cors.origins") {
    try {
      corsOrigins({ origins: value as string[] });
    } catch (error) {
      throw new BrokerError("INVALID_REQUEST", `${name}: ${(error as Error).message.replace(/^cors\.origins: /, "")}`);
    }
  }
  return value;
}

/** What a leaf schema asks for, in words: "must be an integer from 0 to 65535". */
function rule(schema: TSchema): string {
  const custom = (schema as Record<string, unknown>)[RULE];
  if (typeof custom === "string") return custom;
  const s = schema as { type?: string; minimum?: number; maximum?: number; minLength?: number; anyOf?: Array<{ const?: unknown }>; items?: TSchema };
  if (s.type === "integer") return `must be an integer from ${s.minimum ?? "-∞"} to ${s.maximum ?? "∞"}`;
  if (s.anyOf?.every((a) => a.const !== undefined)) return `must be one of ${s.anyOf.map((a) => String(a.const)).join(", ")}`;
  if (s.type === "string") return s.minLength === 1 ? "must be a non-empty string" : "must be a string";
  if (s.type === "array") return `must be a list (${rule(s.items!).replace(/^must be /, "each ")})`;
  if (s.type === "boolean") return "must be true or false";
  if (s.type === "object") return "must be an object";
  return "is not valid";
}

function readConfig(path: string, read: (path: string) => string): Record<string, unknown> {
  const where = `config file ${path}`;
  let text: string;
  try {
    text = read(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BrokerError("INVALID_REQUEST", `${where} cannot be read: ${code === "ENOENT" ? "no such file" : lowerFirst((error as Error).message)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BrokerError("INVALID_REQUEST", `${where} is not JSON: ${lowerFirst((error as Error).message)}`);
  }
  if (FILE_VALIDATOR.Check(value)) return value as Record<string, unknown>;
  const errors = FILE_VALIDATOR.Errors(value);
  // The most precise complaint: unknown keys first, then the deepest path.
  const first =
    errors.find((e) => e.keyword === "additionalProperties") ??
    [...errors].filter((e) => e.keyword !== "anyOf").sort((a, b) => b.instancePath.length - a.instancePath.length)[0] ??
    errors[0]!;
  const path_ = first.instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (first.keyword === "additionalProperties") {
    const names = (first.params as { additionalProperties: string[] }).additionalProperties;
    throw new BrokerError("INVALID_REQUEST", `${where}: unknown key ${showPath([...path_, names[0]!])}`);
  }
  if (first.keyword === "required") {
    const missing = (first.params as { requiredProperties: string[] }).requiredProperties[0]!;
    throw new BrokerError("INVALID_REQUEST", `${where}: ${showPath([...path_, missing])} is missing`);
  }
  if (path_.length === 0) throw new BrokerError("INVALID_REQUEST", `${where}: must hold a JSON object, got ${describe(value)}`);
  const schema = schemaAt(FILE_SCHEMA, path_);
  const message = schema !== undefined ? rule(schema) : lowerFirst(first.message);
  throw new BrokerError("INVALID_REQUEST", `${where}: ${showPath(path_)} ${message}, got ${describe(atPath(value, path_))}`);
}

/** The schema a value at `path` (keys and list indexes) must match. */
function schemaAt(schema: TSchema, path: readonly string[]): TSchema | undefined {
  let node: TSchema | undefined = schema;
  for (const part of path) {
    const s = node as { type?: string; properties?: Record<string, TSchema>; patternProperties?: Record<string, TSchema>; items?: TSchema };
    if (s.type === "object") node = s.properties?.[part] ?? Object.values(s.patternProperties ?? {})[0];
    else if (s.type === "array") node = s.items;
    else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** `group.sessionTimeoutMs`, `cors.origins[0]`. */
const showPath = (parts: readonly string[]) => parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");

function describe(value: unknown): string {
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return JSON.stringify(value);
}

function at(value: unknown, path: string): unknown {
  return atPath(value, path.split("."));
}

function atPath(value: unknown, path: readonly string[]): unknown {
  let node = value;
  for (const part of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function put(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[parts.at(-1)!] = value;
}

const nonBlank = (text: string | undefined) => (text === undefined || text === "" ? undefined : text);

/** The `--help` text: every flag with its environment variable, config key and default. */
export function serveHelp(program: string): string {
  const rows: Array<readonly [string, string]> = [[`  -c, --${CONFIG_FLAG} FILE`, `read settings from a JSON file; env ${CONFIG_ENV}`]];
  for (const s of SETTINGS) {
    if (s.flag === undefined) continue;
    const fallback = s.fallback === undefined || (Array.isArray(s.fallback) && s.fallback.length === 0) ? "" : ` (default ${String(s.fallback)})`;
    rows.push([`  --${s.flag} ${s.value}`, `${s.help}${fallback}; env ${s.env}; config ${s.path}`]);
  }
  rows.push(["  -h, --help", "show this help"], ["  -v, --version", "print the version"]);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const fileOnly = SETTINGS.filter((s) => s.flag === undefined);
  return [
    `usage: ${program} [options]`,
    "",
    "Runs a minikafka broker until Ctrl-C or SIGTERM (graceful: in-flight requests finish, data is flushed).",
    "",
    "options (flags win over environment variables, which win over the config file):",
    ...rows.map(([left, right]) => left.padEnd(width) + right),
    ...(fileOnly.length === 0 ? [] : ["", "config file only:", ...fileOnly.map((s) => `  ${s.path.padEnd(width - 2)}${s.help}`)]),
    "",
  ].join("\n");
}

/** The config file's JSON Schema (for editors: `"$schema"` may point at a copy). Internal. */
export const configFileSchema: TSchema = FILE_SCHEMA;

const lowerFirst = (message: string) => message.charAt(0).toLowerCase() + message.slice(1);

/** The fsync policies, for types elsewhere. */
export type { FsyncPolicy };
