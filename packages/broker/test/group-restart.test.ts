// Exactly one owner per partition across a broker restart (graceful, and kill -9), with real consumers.
//
// Group membership lives in memory, so a restarted broker knows nothing of the members from before, which
// may still be working through records they fetched. The broker holds every partition of the topics it
// finds at start for one session timeout (the restart hold): old members that reach it are told to rejoin
// at their next heartbeat, old members that cannot reach it stop on their own after a session without a
// successful heartbeat, and only then are partitions handed out. Each handler call takes a while (simulated
// work) and the old consumers hold big fetched batches, so without the hold a consumer that joins the
// restarted broker would process a partition while an old one still does.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createClient, type Consumer } from "../../client/src/index.js";
import { startBroker } from "../src/index.js";
import { OwnershipTracker } from "../../client/test/helpers/ownership.js";
import { exited, onLines, spawnTs } from "../../../test-support/spawn-ts.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { until } from "./helpers/wait.js";

const child = fileURLToPath(new URL("./helpers/group-broker-child.ts", import.meta.url));
const SESSION_MS = 2_000;
const HEARTBEAT_MS = 200;
const PARTITIONS = 4;
const PER_PARTITION = 400;
/** Simulated work per message, so that a fetched batch keeps a consumer busy across the restart. */
const WORK_MS = 15;

interface BrokerProcess {
  readonly url: string;
  readonly port: number;
  stop(signal: "SIGKILL" | "SIGTERM"): Promise<void>;
}

const brokerOptions = (dataDir: string, port: number, restartHoldMs: number | undefined) => ({
  dataDir,
  port,
  sessionTimeoutMs: SESSION_MS,
  heartbeatIntervalMs: HEARTBEAT_MS,
  tickIntervalMs: 100,
  ...(restartHoldMs === undefined ? {} : { restartHoldMs }),
});

/** The first broker: a real process, so that it can really be killed. */
async function spawnBroker(dataDir: string, restartHoldMs?: number): Promise<BrokerProcess> {
  const proc = spawnTs(child, [JSON.stringify({ ...brokerOptions(dataDir, 0, restartHoldMs), handleSignals: true })]);
  let stderr = "";
  proc.stderr.on("data", (chunk) => (stderr += String(chunk)));
  const listening = await new Promise<number>((resolve, reject) => {
    onLines(proc, (line) => {
      if (line.startsWith("listening ")) resolve(Number(line.slice("listening ".length)));
    });
    proc.once("exit", (code, signal) => reject(new Error(`broker exited early (${code ?? signal}): ${stderr}`)));
  });
  return {
    url: `http://127.0.0.1:${listening}`,
    port: listening,
    async stop(signal) {
      proc.kill(signal);
      await exited(proc);
      expect(signal === "SIGTERM" ? [proc.exitCode, stderr] : [proc.signalCode]).toEqual(signal === "SIGTERM" ? [0, ""] : ["SIGKILL"]);
    },
  };
}

/**
 * The restarted broker, over the same data directory, in this process: it starts in a fraction of the
 * time a fresh TypeScript process takes, so the old consumers are still busy when it comes up.
 */
async function restartBroker(dataDir: string, port: number, restartHoldMs?: number) {
  const broker = await startBroker({
    ...brokerOptions(dataDir, port, restartHoldMs),
    fsync: "always",
    logger: { error() {} },
    shutdownTimeoutMs: 500,
  });
  return { url: broker.url, close: () => broker.close() };
}

const post = async (url: string, body: unknown) => {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`);
};

/** One handler call: who processed which partition, when (ms since the epoch). */
interface Call {
  readonly consumer: string;
  readonly partition: number;
  readonly start: number;
  end: number;
}

interface Scenario {
  /** How the first broker goes down. */
  readonly stop: "SIGKILL" | "SIGTERM";
  /** Whether the old consumers can reach the restarted broker (same port) or not (it comes back elsewhere). */
  readonly reachable: boolean;
  /** Turns the hold off: only to show that the test catches two owners (not run in CI). */
  readonly restartHoldMs?: number;
}

async function run({ stop, reachable, restartHoldMs }: Scenario) {
  const dataDir = tempDir();
  const first = await spawnBroker(dataDir, restartHoldMs);
  await post(`${first.url}/v1/topics`, { name: "t", partitions: PARTITIONS });
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const records = Array.from({ length: PER_PARTITION }, (_, i) => ({ value: `${partition}/${i}`, partition }));
    await post(`${first.url}/v1/topics/t/records`, { records });
  }

  const tracker = new OwnershipTracker();
  const calls: Call[] = [];
  const consumers: Array<{ name: string; consumer: Consumer<string> }> = [];
  const start = async (name: string, url: string) => {
    const client = createClient({ brokers: url, timeoutMs: 2_000, retry: { retries: 2, initialRetryTimeMs: 50, maxRetryTimeMs: 300 } });
    const consumer = client.consumer({
      groupId: "g",
      sessionTimeoutMs: SESSION_MS,
      fromBeginning: true,
      maxWaitTimeMs: 200,
      maxRecords: 300,
      messageFormat: "text",
    });
    await consumer.subscribe({ topics: ["t"] });
    await consumer.run({
      eachMessage: ({ topic, partition }) =>
        tracker.run("g", name, topic, partition, async () => {
          const call: Call = { consumer: name, partition, start: Date.now(), end: 0 };
          calls.push(call);
          await new Promise((resolve) => setTimeout(resolve, WORK_MS)); // the work itself, not a wait for a condition
          call.end = Date.now();
        }),
    });
    consumers.push({ name, consumer });
  };

  let second: Awaited<ReturnType<typeof restartBroker>> | undefined;
  try {
    await start("old-1", first.url);
    await start("old-2", first.url);
    // Both old consumers are working through batches (two partitions each).
    await until(() => (["old-1", "old-2"].every((n) => calls.filter((c) => c.consumer === n).length >= 10) ? true : undefined), 20_000);

    await first.stop(stop);
    const restartedAt = Date.now();
    second = await restartBroker(dataDir, reachable ? first.port : 0, restartHoldMs);
    const newcomers = reachable ? ["new-1"] : ["new-1", "new-2"];
    for (const name of newcomers) await start(name, second.url);

    // Wait until every partition has made progress after the hold could have ended.
    const resumed = (partition: number) => calls.filter((c) => c.partition === partition && c.start >= restartedAt + SESSION_MS && c.end > 0).length;
    await until(() => (Array.from({ length: PARTITIONS }, (_, p) => p).every((p) => resumed(p) >= 5) ? true : undefined), 30_000);
    return { violations: [...tracker.violations], calls: [...calls], newcomers, restartedAt };
  } finally {
    await Promise.all(consumers.map(({ consumer }) => consumer.disconnect()));
    await second?.close();
  }
}

/** No two consumers ever ran a handler for one partition at once, and nobody new started before the hold ended. */
function expectOneOwner({ violations, calls, newcomers, restartedAt }: Awaited<ReturnType<typeof run>>) {
  expect(violations).toEqual([]);
  const firstNew = Math.min(...calls.filter((c) => newcomers.includes(c.consumer)).map((c) => c.start));
  expect(firstNew).toBeGreaterThanOrEqual(restartedAt + SESSION_MS);
}

describe("exactly one owner per partition across a broker restart", () => {
  it("after kill -9, with the old consumers reconnecting to the restarted broker", async () => {
    expectOneOwner(await run({ stop: "SIGKILL", reachable: true }));
  }, 60_000);

  it("after a graceful shutdown (SIGTERM), with the old consumers reconnecting", async () => {
    expectOneOwner(await run({ stop: "SIGTERM", reachable: true }));
  }, 60_000);

  it("after kill -9, with the old consumers unable to reach the restarted broker (they stop by themselves)", async () => {
    const result = await run({ stop: "SIGKILL", reachable: false });
    expectOneOwner(result);
    // Every old handler call, on every partition, ended before anyone else started on that partition.
    for (let p = 0; p < PARTITIONS; p++) {
      const old = result.calls.filter((c) => c.partition === p && c.consumer.startsWith("old"));
      const taken = result.calls.filter((c) => c.partition === p && result.newcomers.includes(c.consumer));
      expect(taken.length, `partition ${p} resumed`).toBeGreaterThan(0);
      expect(Math.max(...old.map((c) => c.end))).toBeLessThan(Math.min(...taken.map((c) => c.start)));
    }
  }, 60_000);

  // Shows that the check above can fail: without the hold, the consumer that joins the restarted broker
  // first takes partitions that old consumers are still processing. Timing-dependent, so not run in CI.
  it.skipIf(process.env.MINIKAFKA_SHOW_TWO_OWNERS !== "1")(
    "sees two owners without the hold (MINIKAFKA_SHOW_TWO_OWNERS=1)",
    async () => {
      const result = await run({ stop: "SIGKILL", reachable: false, restartHoldMs: 0 });
      expect(result.violations.length).toBeGreaterThan(0);
    },
    60_000,
  );
});
