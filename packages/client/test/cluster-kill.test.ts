// kill -9 of a partition leader under an idempotent producer given all three brokers of a cluster (real
// processes, fsync "always", a 2 s etcd lease, a real etcd), with the client's default retry settings: every
// send is acknowledged, and each partition's log on its new leader holds every message exactly once, in send
// order, at the offset its send was told. Prints how long the killed leader's partitions went unacknowledged.
import { describe, expect, it } from "vitest";
import { etcdForThisFile, hasEtcd } from "../../../test-support/etcd-suite.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { createClient, type RecordMetadata } from "../src/index.js";
import { BrokerProcess } from "./helpers/broker-process.js";
import { until } from "./helpers/until.js";

const PARTITIONS = 6;
const OUTSTANDING = 8;

const etcd = etcdForThisFile();

interface PartitionView {
  partition: number;
  leader: number;
}

async function leadersOf(url: string, topic: string): Promise<number[] | undefined> {
  const body = (await (await fetch(`${url}/v1/metadata`)).json()) as { topics: Array<{ name: string; partitions: PartitionView[] }> };
  const partitions = body.topics.find((t) => t.name === topic)?.partitions;
  return partitions?.length === PARTITIONS && partitions.every((p) => p.leader > 0) ? partitions.map((p) => p.leader) : undefined;
}

async function readPartition(url: string, topic: string, partition: number): Promise<string[]> {
  const values: string[] = [];
  for (;;) {
    const res = await fetch(`${url}/v1/topics/${topic}/partitions/${partition}/records?offset=${values.length}&maxRecords=5000`);
    const body = (await res.json()) as { records: Array<{ offset: number; value: string }>; highWatermark: number };
    for (const r of body.records) {
      expect(r.offset).toBe(values.length);
      values.push(r.value);
    }
    if (body.records.length === 0 || values.length >= body.highWatermark) return values;
  }
}

describe.skipIf(!hasEtcd)("kill -9 of a leader under a producer given the whole cluster", () => {
  it("acknowledges every send and stores each message once, in order, on the new leaders", async () => {
    const nodes = [1, 2, 3].map(
      (nodeId) =>
        new BrokerProcess(tempDir(), {
          streams: false,
          cluster: { nodeId, etcd: [etcd.endpoint], name: "kill", leaseTtlSeconds: 2, replicaLagTimeMs: 1_500, ackTimeoutMs: 10_000 },
        }),
    );
    try {
      for (const node of nodes) await node.start();
      const urls = nodes.map((n) => n.url);
      const kafka = createClient({ brokers: urls }); // the default retry settings
      await kafka.admin().createTopics({ topics: [{ topic: "t", numPartitions: PARTITIONS, replicationFactor: 3, minInsyncReplicas: 2 }] });
      const leaders = await until("every broker to see the topic's leaders", async () => {
        const views = await Promise.all(urls.map((url) => leadersOf(url, "t").catch(() => undefined)));
        return views.every((v) => v !== undefined && v.join() === views[0]!.join()) ? views[0] : undefined;
      });
      // The leader of partition 1, unless that is node 1 (the client's home broker, kept up here).
      const victimId = leaders[1] === 1 ? leaders.find((l) => l !== 1)! : leaders[1]!;
      const victimPartitions = leaders.flatMap((l, p) => (l === victimId ? [p] : []));

      const producer = kafka.producer();
      const sent = Array.from({ length: PARTITIONS }, () => [] as string[]);
      const acknowledged: Array<{ value: string; at: RecordMetadata; ackedAt: number }> = [];
      let seq = 0;
      let killedAt = 0;
      let stop = false;
      const sendOne = async () => {
        const messages = Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value: `v${seq++}` }));
        for (const m of messages) sent[m.partition]!.push(m.value);
        const results = await producer.send({ topic: "t", messages });
        const now = Date.now();
        results.forEach((at, i) => acknowledged.push({ value: messages[i]!.value, at, ackedAt: now }));
      };
      const worker = async () => {
        while (!stop) await sendOne();
      };
      const workers = Array.from({ length: OUTSTANDING }, worker);
      await until("some acknowledgements before the kill", () => acknowledged.length >= 300, 30_000);
      killedAt = Date.now();
      await nodes[victimId - 1]!.kill();
      await until(
        "acknowledgements on the killed leader's partitions after the kill",
        () => acknowledged.filter((a) => a.ackedAt > killedAt && victimPartitions.includes(a.at.partition)).length >= 60,
        30_000,
      );
      stop = true;
      await Promise.all(workers);
      await producer.disconnect();

      const firstAfter = Math.min(
        ...acknowledged.filter((a) => a.ackedAt > killedAt && victimPartitions.includes(a.at.partition)).map((a) => a.ackedAt),
      );
      console.log(`kill -9 of node ${victimId}: its partitions ${victimPartitions.join(",")} acknowledged again after ${firstAfter - killedAt} ms`);

      const survivor = nodes.find((_, i) => i + 1 !== victimId)!;
      const after = await until("new leaders", async () => {
        const v = await leadersOf(survivor.url, "t").catch(() => undefined);
        return v !== undefined && !v.includes(victimId) ? v : undefined;
      });
      expect(acknowledged.length).toBe(seq); // every send was acknowledged
      for (let p = 0; p < PARTITIONS; p++) {
        const leaderUrl = nodes[after[p]! - 1]!.url;
        const values = await until(`partition ${p} complete on its leader`, async () => {
          const v = await readPartition(leaderUrl, "t", p);
          return v.length >= sent[p]!.length ? v : undefined;
        });
        expect(values).toEqual(sent[p]); // once each, in send order: nothing lost, nothing doubled
      }
      for (const { value, at } of acknowledged) expect(sent[at.partition]![at.offset]).toBe(value);
    } finally {
      for (const node of nodes) if (node.port !== 0) await node.kill();
    }
  }, 120_000);
});
