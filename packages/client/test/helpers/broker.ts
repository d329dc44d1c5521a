import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker, type StartBrokerOptions } from "@minikafka/broker";
import { afterEach } from "vitest";

/** A broker started for one test: its URL, and `close()` (also run after the test). */
export interface TestBroker {
  url: string;
  close(): Promise<void>;
}

const running: Array<() => Promise<void>> = [];

/**
 * Starts a real broker on a free port over a fresh temp directory; it is closed and the directory removed
 * after the current test. Defaults suit tests: fsync "never" (speed), a quiet logger, and a short shutdown timeout (connections of
 * long polls the client aborted would otherwise hold close() for the default 10 s).
 */
export async function startTestBroker(options: Partial<StartBrokerOptions> = {}): Promise<TestBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), "minikafka-client-"));
  const broker = await startBroker({
    host: "127.0.0.1",
    port: 0,
    dataDir,
    fsync: "never",
    logger: { error() {} },
    shutdownTimeoutMs: 200,
    ...options,
  });
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= broker.close().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
    }));
  running.push(close);
  return { url: broker.url, close };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((close) => close()));
});
