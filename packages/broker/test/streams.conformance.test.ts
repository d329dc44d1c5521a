// The Durable Streams conformance suite (@durable-streams/server-conformance-tests, pinned) against a real
// broker on port 0, over its real HTTP server and a real data directory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runConformanceTests } from "@durable-streams/server-conformance-tests";
import { afterAll, beforeAll, describe } from "vitest";
import { startBroker, type StartBrokerResult } from "../src/index.js";

// Long polls answer 204 after this long (the suite waits for such timeouts; 30 s would make it crawl).
const LONG_POLL_MS = 1_500;

describe("Durable Streams conformance (server-conformance-tests 0.3.6)", () => {
  const config = { baseUrl: "", longPollTimeoutMs: LONG_POLL_MS };
  let broker: StartBrokerResult;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "minikafka-streams-conformance-"));
    broker = await startBroker({
      dataDir,
      port: 0,
      fsync: "always",
      logger: { error() {} },
      streams: { longPollTimeoutMs: LONG_POLL_MS, sweepIntervalMs: 500 },
      // The suite sends one CORS preflight as a page on https://example.com would.
      cors: { origins: ["https://example.com"] },
    });
    config.baseUrl = broker.url;
  });

  afterAll(async () => {
    await broker?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  runConformanceTests(config);
});
