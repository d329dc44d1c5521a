import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker, type StartBrokerOptions } from "@minikafka/broker";
import type { TestContext } from "vitest";

/** A broker started for one test: its URL, and `close()` (also run after the test). */
export interface TestBroker {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts a real broker on a free port over a fresh temp directory (fsync "never", quiet, short shutdown);
 * it is closed and the directory removed when the test `context` finishes (works for concurrent tests).
 */
export async function startTestBroker(context: Pick<TestContext, "onTestFinished">, options: Partial<StartBrokerOptions> = {}): Promise<TestBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), "minikafka-cli-"));
  const broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir, fsync: "never", logger: { error() {} }, shutdownTimeoutMs: 200, ...options });
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= broker.close().finally(() => rmSync(dataDir, { recursive: true, force: true })));
  context.onTestFinished(() => close());
  return { url: broker.url, close };
}
