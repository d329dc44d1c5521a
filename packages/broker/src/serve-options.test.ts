import { describe, expect, it } from "vitest";
import { parseServeCommand, serveHelp } from "./serve-options.js";

const serve = (argv: string[], env: Record<string, string> = {}) => {
  const command = parseServeCommand(argv, env);
  if (command.kind !== "serve") throw new Error(`expected serve, got ${command.kind}`);
  return command.options;
};

describe("parseServeCommand", () => {
  it("defaults to 127.0.0.1:8000, ./data, fsync always, text logs at info, slow requests from 1 s", () => {
    expect(serve([])).toEqual({
      host: "127.0.0.1",
      port: 8000,
      dataDir: "./data",
      fsync: "always",
      fsyncIntervalMs: undefined,
      maxOpenFiles: undefined,
      maxTopics: undefined,
      maxTotalPartitions: undefined,
      sessionTimeoutMs: undefined,
      heartbeatIntervalMs: undefined,
      logFormat: "text",
      logLevel: "info",
      slowRequestMs: 1000,
      corsOrigins: [],
    });
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
    expect(serve([], env)).toMatchObject({
      host: "0.0.0.0",
      port: 9000,
      dataDir: "/srv/mk",
      fsync: "never",
      logFormat: "json",
      logLevel: "debug",
      slowRequestMs: 0,
    });
    expect(
      serve(
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
      ),
    ).toMatchObject({ host: "::1", port: 9100, dataDir: "d", fsync: "interval", fsyncIntervalMs: 20, logFormat: "text", logLevel: "warn" });
    expect(serve(["--session-timeout-ms", "6000", "--slow-request-ms", "250"])).toMatchObject({
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 2000,
      slowRequestMs: 250,
    });
    expect(serve(["--max-open-files", "64", "--max-topics", "10"], { MINIKAFKA_MAX_TOTAL_PARTITIONS: "40" })).toMatchObject({
      maxOpenFiles: 64,
      maxTopics: 10,
      maxTotalPartitions: 40,
    });
    expect(() => serve(["--max-open-files", "3"])).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
    expect(serve(["--session-timeout-ms", "60000"])).toMatchObject({ sessionTimeoutMs: 60000, heartbeatIntervalMs: undefined });
    expect(serve(["--heartbeat-interval-ms", "100"])).toMatchObject({ heartbeatIntervalMs: 100 });
    expect(serve([], { MINIKAFKA_CORS_ORIGINS: "https://a.example, http://localhost:5173" })).toMatchObject({
      corsOrigins: ["https://a.example", "http://localhost:5173"],
    });
    expect(serve(["--cors-origins", "https://b.example"], { MINIKAFKA_CORS_ORIGINS: "https://a.example" })).toMatchObject({
      corsOrigins: ["https://b.example"],
    });
  });

  it("asks for help or the version", () => {
    expect(parseServeCommand(["--help"], {})).toEqual({ kind: "help" });
    expect(parseServeCommand(["-h", "--port", "x"], {})).toEqual({ kind: "help" });
    expect(parseServeCommand(["--version"], {})).toEqual({ kind: "version" });
  });

  it("rejects bad values, naming where they came from, and unknown flags", () => {
    const fails = (argv: string[], env: Record<string, string>, message: string) =>
      expect(() => parseServeCommand(argv, env)).toThrow(expect.objectContaining({ code: "INVALID_REQUEST", message }));
    fails(["--port", "80a"], {}, '--port must be an integer from 0 to 65535, got "80a"');
    fails([], { PORT: "70000" }, 'PORT must be an integer from 0 to 65535, got "70000"');
    fails(["--fsync", "sometimes"], {}, '--fsync must be one of always, interval, never, got "sometimes"');
    fails([], { MINIKAFKA_LOG_LEVEL: "trace" }, 'MINIKAFKA_LOG_LEVEL must be one of error, warn, info, debug, got "trace"');
    fails(["--data-dir", ""], {}, "--data-dir must not be empty");
    fails(["--cors-origins", "a.example"], {}, '--cors-origins: "a.example" is not an origin like "https://app.example.com"');
    fails(
      ["--heartbeat-interval-ms", "9000", "--session-timeout-ms", "9000"],
      {},
      "the heartbeat interval (9000 ms) must be below the session timeout (9000 ms)",
    );
    expect(() => parseServeCommand(["--verbose"], {})).toThrow(
      expect.objectContaining({ code: "INVALID_REQUEST", message: expect.stringContaining("--verbose") }),
    );
    expect(() => parseServeCommand(["data"], {})).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
    expect(() => parseServeCommand(["--port"], {})).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
  });
});

describe("serveHelp", () => {
  it("lists every flag with its environment variable", () => {
    const help = serveHelp("minikafka-broker");
    expect(help.split("\n")[0]).toBe("usage: minikafka-broker [options]");
    for (const [flag, env] of [
      ["--port N", "PORT"],
      ["--host ADDR", "HOST"],
      ["--data-dir DIR", "DATA_DIR"],
      ["--fsync always|interval|never", "MINIKAFKA_FSYNC"],
      ["--fsync-interval-ms MS", "MINIKAFKA_FSYNC_INTERVAL_MS"],
      ["--max-open-files N", "MINIKAFKA_MAX_OPEN_FILES"],
      ["--max-topics N", "MINIKAFKA_MAX_TOPICS"],
      ["--max-total-partitions N", "MINIKAFKA_MAX_TOTAL_PARTITIONS"],
      ["--session-timeout-ms MS", "MINIKAFKA_SESSION_TIMEOUT_MS"],
      ["--heartbeat-interval-ms MS", "MINIKAFKA_HEARTBEAT_INTERVAL_MS"],
      ["--log-format text|json", "MINIKAFKA_LOG_FORMAT"],
      ["--log-level error|warn|info|debug", "MINIKAFKA_LOG_LEVEL"],
      ["--slow-request-ms MS", "MINIKAFKA_SLOW_REQUEST_MS"],
      ["--cors-origins ORIGIN,…", "MINIKAFKA_CORS_ORIGINS"],
    ]) {
      expect(help).toMatch(new RegExp(`^  ${flag!.replace(/\|/g, "\\|")} .*env ${env}$`, "m"));
    }
    expect(help).toContain("-h, --help");
    expect(help).toContain("-v, --version");
  });
});
