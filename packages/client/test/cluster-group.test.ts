// A consumer group across its coordinator's failover, with real consumers of this client on three real
// brokers in cluster mode (in this process) over a real etcd: the broker that coordinates the group leaves;
// the new coordinator (the new leader of the group's offsets partition) resumes from the committed offsets
// and hands nothing out for a session timeout, so no partition is ever processed by two consumers at once.
import { afterEach, describe, expect, it } from "vitest";
import { startBroker, type StartBrokerResult } from "@minikafka/broker";
import { etcdForThisFile, hasEtcd } from "../../../test-support/etcd-suite.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { createClient, type Consumer } from "../src/index.js";
import { OwnershipTracker } from "./helpers/ownership.js";
import { until } from "./helpers/until.js";

const SESSION_MS = 1_500;
const PARTITIONS = 4;
const PER_PARTITION = 300;
/** Simulated work per message, so that consumers are busy when the coordinator leaves. */
const WORK_MS = 5;

const etcd = etcdForThisFile();
const running = new Set<StartBrokerResult>();
afterEach(async () => {
  await Promise.all([...running].map((b) => b.close()));
  running.clear();
});

async function startNode(nodeId: number): Promise<{ nodeId: number; broker: StartBrokerResult }> {
  const broker = await startBroker({
    dataDir: tempDir(),
    port: 0,
    streams: false,
    logger: { error() {} },
    sessionTimeoutMs: SESSION_MS,
    heartbeatIntervalMs: 150,
    minSessionTimeoutMs: 100,
    tickIntervalMs: 50,
    cluster: { nodeId, etcd: [etcd.endpoint], name: "group-failover", leaseTtlSeconds: 2, replicaLagTimeMs: 2_000 },
  });
  running.add(broker);
  return { nodeId, broker };
}

interface Call {
  consumer: string;
  partition: number;
  offset: number;
  start: number;
}

describe.skipIf(!hasEtcd)("a consumer group across its coordinator's failover", () => {
  it("keeps its committed offsets and exactly one owner per partition", async () => {
    const nodes = [await startNode(1), await startNode(2), await startNode(3)];
    const urls = nodes.map((n) => n.broker.url);
    const kafka = createClient({ brokers: urls, timeoutMs: 2_000, retry: { retries: 5, initialRetryTimeMs: 50, maxRetryTimeMs: 300 } });
    await kafka.admin().createTopics({ topics: [{ topic: "t", numPartitions: PARTITIONS, replicationFactor: 3 }] });
    const producer = kafka.producer();
    for (let p = 0; p < PARTITIONS; p++) {
      // A leader may not have seen the new topic yet: send again until it has.
      const messages = Array.from({ length: PER_PARTITION }, (_, i) => ({ partition: p, value: `${p}/${i}` }));
      await until(
        `partition ${p} written`,
        () =>
          producer.send({ topic: "t", messages }).then(
            () => true,
            () => false,
          ),
        30_000,
      );
    }
    await producer.disconnect();

    const tracker = new OwnershipTracker();
    const calls: Call[] = [];
    const consumers: Consumer<string>[] = [];
    const start = async (name: string) => {
      const consumer = createClient({ brokers: urls, timeoutMs: 2_000, retry: { retries: 5, initialRetryTimeMs: 50, maxRetryTimeMs: 300 } }).consumer(
        {
          groupId: "g",
          sessionTimeoutMs: SESSION_MS,
          fromBeginning: true,
          maxWaitTimeMs: 200,
          maxRecords: 50,
          messageFormat: "text",
        },
      );
      await consumer.subscribe({ topics: ["t"] });
      await consumer.run({
        eachMessage: ({ topic, partition, message }) =>
          tracker.run("g", name, topic, partition, async () => {
            calls.push({ consumer: name, partition, offset: Number(message.offset), start: Date.now() });
            await new Promise((resolve) => setTimeout(resolve, WORK_MS)); // the work itself
          }),
      });
      consumers.push(consumer);
    };
    try {
      await start("a");
      await start("b");
      await until("both consumers working", () => ["a", "b"].every((n) => calls.filter((c) => c.consumer === n).length >= 20), 30_000);

      const coordinator = await until(
        "the group's coordinator",
        async () => {
          const res = await fetch(`${urls[0]}/v1/groups/g/coordinator`);
          return res.status === 200 ? ((await res.json()) as { nodeId: number }) : undefined;
        },
        30_000,
      );
      const home = nodes.find((n) => n.nodeId === coordinator.nodeId)!;
      const committedBefore = (await kafka.admin().fetchOffsets({ groupId: "g" }))[0]!.partitions.map(
        (p) => [p.partition, Number(p.offset)] as const,
      );
      running.delete(home.broker);
      const leftAt = Date.now();
      await home.broker.close();

      // Every partition makes progress again after the new coordinator's hold.
      const resumed = (p: number) => calls.filter((c) => c.partition === p && c.start >= leftAt + SESSION_MS).length;
      await until("every partition resumed", () => Array.from({ length: PARTITIONS }, (_, p) => p).every((p) => resumed(p) >= 5), 45_000);
      expect(tracker.violations).toEqual([]);
      // Resumed from what was committed before: no partition went back past its committed offset.
      for (const [p, committed] of committedBefore) {
        const after = calls.filter((c) => c.partition === p && c.start >= leftAt + SESSION_MS);
        expect(Math.min(...after.map((c) => c.offset)), `partition ${p}`).toBeGreaterThanOrEqual(committed);
      }
    } finally {
      await Promise.all(consumers.map((c) => c.disconnect()));
    }
  }, 90_000);
});
