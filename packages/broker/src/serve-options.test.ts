import { describe, expect, it } from "vitest";
import { parseServeCommand, serveHelp } from "./serve-options.js";

type Serve = Extract<ReturnType<typeof parseServeCommand>, { kind: "serve" }>;

/** Parses with an in-memory config file system: `files` maps absolute paths to their text. */
const serve = (argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}): Serve => {
  const command = parseServeCommand(argv, env, {
    cwd: "/work",
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
      return text;
    },
  });
  if (command.kind !== "serve") throw new Error(`expected serve, got ${command.kind}`);
  return command;
};
const fails = (argv: string[], env: Record<string, string>, message: string, files: Record<string, string> = {}) =>
  expect(() => serve(argv, env, files)).toThrow(expect.objectContaining({ code: "INVALID_REQUEST", message }));
const file = (value: unknown) => ({ "/etc/mk.json": JSON.stringify(value) });

describe("parseServeCommand", () => {
  it("defaults to 127.0.0.1:8000, ./data, fsync always, text logs at info, slow requests from 1 s", () => {
    const command = serve([]);
    expect(command.start).toEqual({ host: "127.0.0.1", port: 8000, fsync: "always", cors: { origins: [] }, slowRequestMs: 1000 });
    expect([command.dataDir, command.logFormat, command.logLevel, command.configFile]).toEqual(["/work/data", "text", "info", undefined]);
  });

  it("takes PORT/HOST/DATA_DIR and MINIKAFKA_*, and flags over them", () => {
    const env = {
      PORT: "9000",
      HOST: "0.0.0.0",
      DATA_DIR: "/srv/mk",
      MINIKAFKA_FSYNC: "never",
      MINIKAFKA_LOG_FORMAT: "json",
      MINIKAFKA_LOG_LEVEL: "debug",
      MINIKAFKA_SLOW_REQUEST_MS: "0",
    };
    const fromEnv = serve([], env);
    expect(fromEnv.start).toMatchObject({ host: "0.0.0.0", port: 9000, fsync: "never", slowRequestMs: 0 });
    expect([fromEnv.dataDir, fromEnv.logFormat, fromEnv.logLevel]).toEqual(["/srv/mk", "json", "debug"]);
    const flags = serve(
      [
        "--port",
        "9100",
        "--data-dir",
        "d",
        "--host",
        "::1",
        "--fsync",
        "interval",
        "--fsync-interval-ms",
        "20",
        "--log-format",
        "text",
        "--log-level=warn",
      ],
      env,
    );
    expect(flags.start).toMatchObject({ host: "::1", port: 9100, fsync: "interval", fsyncIntervalMs: 20 });
    expect([flags.dataDir, flags.logFormat, flags.logLevel]).toEqual(["/work/d", "text", "warn"]);
    expect(serve(["--session-timeout-ms", "6000", "--slow-request-ms", "250"]).start).toMatchObject({
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 2000,
      slowRequestMs: 250,
    });
    expect(serve(["--session-timeout-ms", "60000"]).start).not.toHaveProperty("heartbeatIntervalMs");
    expect(serve(["--heartbeat-interval-ms", "100"]).start).toMatchObject({ heartbeatIntervalMs: 100 });
    // The store's limits reach startBroker() under their own names.
    expect(serve(["--max-open-files", "64", "--max-topics", "5"], { MINIKAFKA_MAX_TOTAL_PARTITIONS: "40" }).start).toMatchObject({
      maxOpenFiles: 64,
      maxTopics: 5,
      maxTotalPartitions: 40,
    });
    // The store-wide journal: a boolean from a flag, the environment or the file.
    expect(serve(["--journal", "true"]).start).toMatchObject({ journal: true });
    expect(serve([], { MINIKAFKA_JOURNAL: "false" }).start).toMatchObject({ journal: false });
    expect(serve(["--config", "/etc/mk.json"], {}, file({ journal: true })).start).toMatchObject({ journal: true });
    expect(serve([]).start).not.toHaveProperty("journal");
    expect(serve([], { MINIKAFKA_CORS_ORIGINS: "https://a.example, http://localhost:5173" }).start).toMatchObject({
      cors: { origins: ["https://a.example", "http://localhost:5173"] },
    });
    expect(serve(["--cors-origins", "https://b.example"], { MINIKAFKA_CORS_ORIGINS: "https://a.example" }).start).toMatchObject({
      cors: { origins: ["https://b.example"] },
    });
  });

  it("reads cluster mode from the config file's cluster object, flags or the environment, and checks it whole", () => {
    const cluster = { nodeId: 2, etcd: ["http://10.0.0.9:2379"], advertisedUrl: "http://10.0.0.2:8002", name: "prod", leaseTtlSeconds: 4 };
    expect(serve(["--config", "/etc/mk.json"], {}, file({ cluster })).start).toMatchObject({ cluster });
    expect(serve(["--node-id", "3", "--replica-lag-time-ms", "2000"], { MINIKAFKA_ETCD: "http://a:2379, http://b:2379" }).start.cluster).toEqual({
      nodeId: 3,
      etcd: ["http://a:2379", "http://b:2379"],
      replicaLagTimeMs: 2000,
    });
    expect(serve([]).start).not.toHaveProperty("cluster");
    fails(["--node-id", "1"], {}, "cluster mode needs cluster.etcd (--etcd) too");
    fails(
      ["--config", "/etc/mk.json"],
      {},
      "config file /etc/mk.json: cluster mode needs cluster.nodeId (--node-id) too",
      file({ cluster: { etcd: ["http://e:2379"] } }),
    );
    fails(["--node-id", "0", "--etcd", "http://e:2379"], {}, '--node-id must be an integer from 1 to 2147483647, got "0"');
    fails(["--node-id", "1", "--etcd", "e:2379"], {}, '--etcd must be a non-empty list of http(s) URLs, got "e:2379"');
    fails(
      ["--node-id", "1", "--etcd", "http://e:2379", "--host", "0.0.0.0"],
      {},
      "listening on all interfaces (0.0.0.0), the broker cannot tell the others where to reach it: set cluster.advertisedUrl (--advertised-url)",
    );
    fails(
      ["--node-id", "1", "--etcd", "http://e:2379", "--port", "0"],
      {},
      "cluster mode with port 0 needs cluster.advertisedUrl (--advertised-url): the port is not known in advance",
    );
    const token = { principals: [{ name: "a", tokenSha256: "0".repeat(64) }] };
    fails(
      ["--config", "/etc/mk.json"],
      {},
      "config file /etc/mk.json: cluster mode does not support auth yet (brokers fetch from each other without a token): remove auth or cluster",
      file({ cluster: { nodeId: 1, etcd: ["http://e:2379"] }, auth: token }),
    );
  });

  it("asks for help or the version", () => {
    expect(parseServeCommand(["--help"], {})).toEqual({ kind: "help" });
    expect(parseServeCommand(["-h", "--port", "x"], {})).toEqual({ kind: "help" });
    expect(parseServeCommand(["--version"], {})).toEqual({ kind: "version" });
  });

  it("rejects bad values, naming where they came from, and unknown flags", () => {
    fails(["--port", "80a"], {}, '--port must be an integer from 0 to 65535, got "80a"');
    fails([], { PORT: "70000" }, 'PORT must be an integer from 0 to 65535, got "70000"');
    fails(["--fsync", "sometimes"], {}, '--fsync must be one of always, interval, never, got "sometimes"');
    fails([], { MINIKAFKA_LOG_LEVEL: "trace" }, 'MINIKAFKA_LOG_LEVEL must be one of error, warn, info, debug, got "trace"');
    fails(["--data-dir", ""], {}, '--data-dir must be a non-empty string, got ""');
    fails(["--journal", "yes"], {}, '--journal must be true or false, got "yes"');
    fails(
      ["--journal", "true", "--fsync", "interval"],
      {},
      'journal needs fsync "always" (it replaces the per-partition fsyncs of that mode), got fsync "interval"',
    );
    fails(
      ["--config", "/etc/mk.json"],
      {},
      'config file /etc/mk.json: journal needs fsync "always" (it replaces the per-partition fsyncs of that mode), got fsync "never"',
      file({ journal: true, fsync: "never" }),
    );
    fails(["--cors-origins", "a.example"], {}, '--cors-origins: "a.example" is not an origin like "https://app.example.com"');
    fails(
      ["--headers-timeout-ms", "200000"],
      {},
      "headersTimeoutMs (200000) must not be above requestTimeoutMs (120000): the headers are part of the request",
    );
    fails(["--max-request-header-bytes", "100"], {}, '--max-request-header-bytes must be an integer from 1024 to 16777216, got "100"');
    fails(
      ["--heartbeat-interval-ms", "9000", "--session-timeout-ms", "9000"],
      {},
      "the heartbeat interval (9000 ms) must be below the session timeout (9000 ms)",
    );
    fails(
      ["--session-timeout-ms", "10000", "--min-session-timeout-ms", "20000"],
      {},
      "the session timeout (10000 ms) must be within the minimum and maximum session timeouts (20000 to 1800000 ms)",
    );
    expect(() => parseServeCommand(["--verbose"], {})).toThrow(
      expect.objectContaining({ code: "INVALID_REQUEST", message: expect.stringContaining("--verbose") }),
    );
    expect(() => parseServeCommand(["data"], {})).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
    expect(() => parseServeCommand(["--port"], {})).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
  });
});

describe("config file", () => {
  const full = {
    $schema: "./minikafka.schema.json",
    host: "0.0.0.0",
    port: 9200,
    dataDir: "state",
    fsync: "interval",
    fsyncIntervalMs: 50,
    shutdownTimeoutMs: 2000,
    retentionCheckIntervalMs: 60000,
    topicDefaults: { segmentBytes: 1048576, retentionMs: 3600000, retentionBytes: 1e9 },
    group: { sessionTimeoutMs: 30000, heartbeatIntervalMs: 3000, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60000 },
    limits: {
      maxBodyBytes: 65536,
      maxWaitMs: 10000,
      maxRecordsPerRequest: 500,
      maxRecordKeyBytes: 100,
      maxRecordValueBytes: 1000,
      maxRecordHeaders: 4,
      maxRecordHeaderBytes: 200,
      maxPartitionsPerTopic: 12,
      maxRequestHeaderBytes: 4096,
      headersTimeoutMs: 3000,
      requestTimeoutMs: 9000,
      keepAliveTimeoutMs: 2000,
      idleTimeoutMs: 0,
    },
    cors: { origins: ["https://app.example"] },
    tls: { certFile: "tls/cert.pem", keyFile: "/keys/key.pem" },
    auth: { principals: [{ name: "alice", tokenSha256: "ab".repeat(32) }], superUsers: ["alice"] },
    acls: [{ principal: "alice", resource: "topic", name: "orders.", pattern: "prefixed", operations: ["write", "describe"], permission: "allow" }],
    quotas: { produceBytesPerSecond: 1000, maxSseStreams: 2, principals: { alice: { maxLongPolls: 3 } } },
    logging: { format: "json", level: "warn", slowRequestMs: 200 },
  };

  it("--config FILE or MINIKAFKA_CONFIG sets every key; a relative dataDir is relative to the file", () => {
    for (const command of [serve(["--config", "/etc/mk.json"], {}, file(full)), serve([], { MINIKAFKA_CONFIG: "/etc/mk.json" }, file(full))]) {
      expect(command.configFile).toBe("/etc/mk.json");
      expect(command.dataDir).toBe("/etc/state");
      expect([command.logFormat, command.logLevel]).toEqual(["json", "warn"]);
      expect(command.start).toEqual({
        host: "0.0.0.0",
        port: 9200,
        fsync: "interval",
        fsyncIntervalMs: 50,
        shutdownTimeoutMs: 2000,
        retentionCheckIntervalMs: 60000,
        segmentBytes: 1048576,
        retentionMs: 3600000,
        retentionBytes: 1e9,
        sessionTimeoutMs: 30000,
        heartbeatIntervalMs: 3000,
        minSessionTimeoutMs: 1000,
        maxSessionTimeoutMs: 60000,
        maxBodyBytes: 65536,
        maxWaitMs: 10000,
        maxRecordsPerRequest: 500,
        maxRecordKeyBytes: 100,
        maxRecordValueBytes: 1000,
        maxRecordHeaders: 4,
        maxRecordHeaderBytes: 200,
        maxPartitions: 12,
        maxRequestHeaderBytes: 4096,
        headersTimeoutMs: 3000,
        requestTimeoutMs: 9000,
        keepAliveTimeoutMs: 2000,
        idleTimeoutMs: 0,
        cors: { origins: ["https://app.example"] },
        // A relative certificate path is relative to the file, like dataDir.
        tls: { certFile: "/etc/tls/cert.pem", keyFile: "/keys/key.pem" },
        auth: full.auth,
        acls: full.acls,
        quotas: full.quotas,
        slowRequestMs: 200,
      });
    }
    // From flags or the environment, relative to the working directory.
    expect(serve(["--tls-cert-file", "c.pem"], { MINIKAFKA_TLS_KEY_FILE: "k.pem" }).start).toMatchObject({
      tls: { certFile: "/work/c.pem", keyFile: "/work/k.pem" },
    });
    // A relative --config is relative to the working directory.
    expect(serve(["-c", "mk.json"], {}, { "/work/mk.json": '{"port": 1234}' }).start).toMatchObject({ port: 1234 });
  });

  it("precedence: flags > environment > file > defaults", () => {
    const files = file({ port: 1, host: "10.0.0.1", fsync: "never", logging: { level: "debug" } });
    const command = serve(["--config", "/etc/mk.json", "--port", "3"], { PORT: "2", HOST: "10.0.0.2" }, files);
    expect(command.start).toMatchObject({ port: 3, host: "10.0.0.2", fsync: "never", slowRequestMs: 1000 });
    expect(command.logLevel).toBe("debug");
    // --config wins over MINIKAFKA_CONFIG.
    expect(serve(["--config", "/etc/mk.json"], { MINIKAFKA_CONFIG: "/nowhere.json" }, files).start).toMatchObject({ port: 1 });
    // A data dir from the environment is relative to the working directory, not to the file.
    expect(serve(["--config", "/etc/mk.json"], { DATA_DIR: "here" }, file({ dataDir: "there" })).dataDir).toBe("/work/here");
  });

  it("an unknown key or a wrong type stops with one line naming the key's path", () => {
    const at = "config file /etc/mk.json: ";
    fails(["--config", "/etc/mk.json"], {}, `${at}unknown key prot`, file({ prot: 8000 }));
    fails(["--config", "/etc/mk.json"], {}, `${at}unknown key group.sessionTimeout`, file({ group: { sessionTimeout: 1 } }));
    fails(["--config", "/etc/mk.json"], {}, `${at}port must be an integer from 0 to 65535, got "8000"`, file({ port: "8000" }));
    fails(
      ["--config", "/etc/mk.json"],
      {},
      `${at}group.sessionTimeoutMs must be an integer from 2 to 86400000, got 1.5`,
      file({ group: { sessionTimeoutMs: 1.5 } }),
    );
    fails(["--config", "/etc/mk.json"], {}, `${at}logging.format must be one of text, json, got "xml"`, file({ logging: { format: "xml" } }));
    fails(
      ["--config", "/etc/mk.json"],
      {},
      `${at}cors.origins[1] must be a non-empty string, got 7`,
      file({ cors: { origins: ["https://a.example", 7] } }),
    );
    fails(["--config", "/etc/mk.json"], {}, `${at}group must be an object, got 5`, file({ group: 5 }));
    // auth, acls, tls, quotas: the same, down to the field of a list item.
    const alice = { name: "alice", tokenSha256: "ab".repeat(32) };
    fails(["-c", "/etc/mk.json"], {}, `${at}unknown key auth.principals[0].token`, file({ auth: { principals: [{ ...alice, token: "x" }] } }));
    fails(["-c", "/etc/mk.json"], {}, `${at}auth.principals[0].tokenSha256 is missing`, file({ auth: { principals: [{ name: "alice" }] } }));
    fails(
      ["-c", "/etc/mk.json"],
      {},
      `${at}auth.principals[0].tokenSha256 must be 64 hex digits (the token's SHA-256), got "secret"`,
      file({ auth: { principals: [{ name: "alice", tokenSha256: "secret" }] } }),
    );
    fails(
      ["-c", "/etc/mk.json"],
      {},
      `${at}auth.principals must be a non-empty list of { name, tokenSha256 }, got a list of 0`,
      file({ auth: { principals: [] } }),
    );
    const acl = { principal: "alice", resource: "topic", name: "t", operations: ["read"], permission: "allow" };
    fails(
      ["-c", "/etc/mk.json"],
      {},
      `${at}acls[1].operations[0] must be one of read, write, create, delete, alter, describe, all, got "publish"`,
      file({ auth: { principals: [alice] }, acls: [acl, { ...acl, operations: ["publish"] }] }),
    );
    fails(
      ["-c", "/etc/mk.json"],
      {},
      `${at}acls[0].resource must be one of topic, group, cluster, stream, got "queue"`,
      file({ auth: { principals: [alice] }, acls: [{ ...acl, resource: "queue" }] }),
    );
    // What the schema cannot say (a principal no one configured) is still one line naming the key.
    fails(
      ["-c", "/etc/mk.json"],
      {},
      `${at}acls[0].principal: "bob" is neither "*" nor in auth.principals`,
      file({ auth: { principals: [alice] }, acls: [{ ...acl, principal: "bob" }] }),
    );
    fails(["-c", "/etc/mk.json"], {}, `${at}acls need auth (principals with tokens) to apply to`, file({ acls: [acl] }));
    fails(["-c", "/etc/mk.json"], {}, `${at}unknown key tls.cert`, file({ tls: { cert: "c.pem" } }));
    fails(
      ["-c", "/etc/mk.json"],
      {},
      "tls needs both a certificate and its key (tls.certFile and tls.keyFile, or --tls-cert-file and --tls-key-file)",
      file({ tls: { certFile: "c.pem" } }),
    );
    fails(
      ["-c", "/etc/mk.json"],
      {},
      `${at}unknown key quotas.principals.alice.maxPolls`,
      file({ quotas: { principals: { alice: { maxPolls: 1 } } } }),
    );
    fails(
      ["-c", "/etc/mk.json"],
      {},
      `${at}quotas.maxSseStreams must be an integer from 1 to 1000000, got 0`,
      file({ quotas: { maxSseStreams: 0 } }),
    );
    fails(["--config", "/etc/mk.json"], {}, `${at}must hold a JSON object, got a list of 0`, file([]));
    fails(
      ["--config", "/etc/mk.json"],
      {},
      'cors.origins: "nope" is not an origin like "https://app.example.com"',
      file({ cors: { origins: ["nope"] } }),
    );
    expect(() => serve(["--config", "/etc/mk.json"], {}, { "/etc/mk.json": "{ port: 1 }" })).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/^config file \/etc\/mk\.json is not JSON: /) }),
    );
    fails(["--config", "/etc/missing.json"], {}, "config file /etc/missing.json cannot be read: no such file");
    // Bad values that a flag or the environment overrides are still refused: the file is checked whole.
    fails(["--config", "/etc/mk.json", "--port", "1"], {}, `${at}port must be an integer from 0 to 65535, got -1`, file({ port: -1 }));
  });
});

describe("serveHelp", () => {
  it("lists every flag with its environment variable and config key", () => {
    const help = serveHelp("minikafka-broker");
    expect(help.split("\n")[0]).toBe("usage: minikafka-broker [options]");
    for (const [flag, env, key] of [
      ["-c, --config FILE", "MINIKAFKA_CONFIG", undefined],
      ["--port N", "PORT", "port"],
      ["--host ADDR", "HOST", "host"],
      ["--data-dir DIR", "DATA_DIR", "dataDir"],
      ["--fsync always|interval|never", "MINIKAFKA_FSYNC", "fsync"],
      ["--fsync-interval-ms MS", "MINIKAFKA_FSYNC_INTERVAL_MS", "fsyncIntervalMs"],
      ["--journal true|false", "MINIKAFKA_JOURNAL", "journal"],
      ["--max-open-files N", "MINIKAFKA_MAX_OPEN_FILES", "maxOpenFiles"],
      ["--max-topics N", "MINIKAFKA_MAX_TOPICS", "maxTopics"],
      ["--max-total-partitions N", "MINIKAFKA_MAX_TOTAL_PARTITIONS", "maxTotalPartitions"],
      ["--shutdown-timeout-ms MS", "MINIKAFKA_SHUTDOWN_TIMEOUT_MS", "shutdownTimeoutMs"],
      ["--segment-bytes BYTES", "MINIKAFKA_SEGMENT_BYTES", "topicDefaults.segmentBytes"],
      ["--retention-ms MS", "MINIKAFKA_RETENTION_MS", "topicDefaults.retentionMs"],
      ["--retention-bytes BYTES", "MINIKAFKA_RETENTION_BYTES", "topicDefaults.retentionBytes"],
      ["--retention-check-interval-ms MS", "MINIKAFKA_RETENTION_CHECK_INTERVAL_MS", "retentionCheckIntervalMs"],
      ["--session-timeout-ms MS", "MINIKAFKA_SESSION_TIMEOUT_MS", "group.sessionTimeoutMs"],
      ["--heartbeat-interval-ms MS", "MINIKAFKA_HEARTBEAT_INTERVAL_MS", "group.heartbeatIntervalMs"],
      ["--min-session-timeout-ms MS", "MINIKAFKA_MIN_SESSION_TIMEOUT_MS", "group.minSessionTimeoutMs"],
      ["--max-session-timeout-ms MS", "MINIKAFKA_MAX_SESSION_TIMEOUT_MS", "group.maxSessionTimeoutMs"],
      ["--max-body-bytes BYTES", "MINIKAFKA_MAX_BODY_BYTES", "limits.maxBodyBytes"],
      ["--max-wait-ms MS", "MINIKAFKA_MAX_WAIT_MS", "limits.maxWaitMs"],
      ["--max-records-per-request N", "MINIKAFKA_MAX_RECORDS_PER_REQUEST", "limits.maxRecordsPerRequest"],
      ["--max-record-key-bytes BYTES", "MINIKAFKA_MAX_RECORD_KEY_BYTES", "limits.maxRecordKeyBytes"],
      ["--max-record-value-bytes BYTES", "MINIKAFKA_MAX_RECORD_VALUE_BYTES", "limits.maxRecordValueBytes"],
      ["--max-record-headers N", "MINIKAFKA_MAX_RECORD_HEADERS", "limits.maxRecordHeaders"],
      ["--max-record-header-bytes BYTES", "MINIKAFKA_MAX_RECORD_HEADER_BYTES", "limits.maxRecordHeaderBytes"],
      ["--max-partitions-per-topic N", "MINIKAFKA_MAX_PARTITIONS_PER_TOPIC", "limits.maxPartitionsPerTopic"],
      ["--max-request-header-bytes BYTES", "MINIKAFKA_MAX_REQUEST_HEADER_BYTES", "limits.maxRequestHeaderBytes"],
      ["--headers-timeout-ms MS", "MINIKAFKA_HEADERS_TIMEOUT_MS", "limits.headersTimeoutMs"],
      ["--request-timeout-ms MS", "MINIKAFKA_REQUEST_TIMEOUT_MS", "limits.requestTimeoutMs"],
      ["--keep-alive-timeout-ms MS", "MINIKAFKA_KEEP_ALIVE_TIMEOUT_MS", "limits.keepAliveTimeoutMs"],
      ["--idle-timeout-ms MS", "MINIKAFKA_IDLE_TIMEOUT_MS", "limits.idleTimeoutMs"],
      ["--cors-origins ORIGIN,…", "MINIKAFKA_CORS_ORIGINS", "cors.origins"],
      ["--tls-cert-file FILE", "MINIKAFKA_TLS_CERT_FILE", "tls.certFile"],
      ["--tls-key-file FILE", "MINIKAFKA_TLS_KEY_FILE", "tls.keyFile"],
      ["--node-id N", "MINIKAFKA_NODE_ID", "cluster.nodeId"],
      ["--etcd URL,…", "MINIKAFKA_ETCD", "cluster.etcd"],
      ["--advertised-url URL", "MINIKAFKA_ADVERTISED_URL", "cluster.advertisedUrl"],
      ["--cluster-name NAME", "MINIKAFKA_CLUSTER_NAME", "cluster.name"],
      ["--lease-ttl-seconds S", "MINIKAFKA_LEASE_TTL_SECONDS", "cluster.leaseTtlSeconds"],
      ["--replica-lag-time-ms MS", "MINIKAFKA_REPLICA_LAG_TIME_MS", "cluster.replicaLagTimeMs"],
      ["--log-format text|json", "MINIKAFKA_LOG_FORMAT", "logging.format"],
      ["--log-level error|warn|info|debug", "MINIKAFKA_LOG_LEVEL", "logging.level"],
      ["--slow-request-ms MS", "MINIKAFKA_SLOW_REQUEST_MS", "logging.slowRequestMs"],
    ] as const) {
      const line = help.split("\n").find((l) => l.startsWith(`  ${flag} `));
      expect(line, flag).toBeDefined();
      expect(line).toContain(`env ${env}`);
      if (key !== undefined) expect(line).toContain(`config ${key}`);
    }
    expect(help).toMatch(/^ {2}-h, --help +show this help$/m);
    // The structured keys are listed under "config file only".
    const fileOnly = help.slice(help.indexOf("config file only:"));
    for (const key of ["cluster.ackTimeoutMs", "auth", "acls", "quotas"]) expect(fileOnly).toMatch(new RegExp(`^  ${key} +\\S`, "m"));
  });
});
