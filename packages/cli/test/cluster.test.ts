// `topics create --replication-factor N --min-insync-replicas N` against a real cluster (three brokers in
// cluster mode over a real etcd), and what a single-node broker answers to a replication factor above 1.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasEtcd, startEtcd, type EtcdServer } from "../../../test-support/etcd.js";
import { startTestBroker } from "./helpers/broker.js";
import { runCli } from "./helpers/cli.js";

if (!hasEtcd && process.env.CI) throw new Error("CI needs etcd for the cluster tests (apt-get install etcd-server)");

let etcd: EtcdServer;
beforeAll(async () => {
  if (hasEtcd) etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

describe.skipIf(!hasEtcd)("minikafka topics create in a cluster", () => {
  it("creates a replicated topic with its minimum ISR", async (context) => {
    const cluster = (nodeId: number) => ({ cluster: { nodeId, etcd: [etcd.endpoint], name: "cli", leaseTtlSeconds: 2 } });
    const brokers = [
      await startTestBroker(context, cluster(1)),
      await startTestBroker(context, cluster(2)),
      await startTestBroker(context, cluster(3)),
    ];
    const created = await runCli(
      ["topics", "create", "orders", "--partitions", "2", "--replication-factor", "3", "--min-insync-replicas", "2", "--json"],
      { broker: brokers[1]!.url },
    );
    expect(created).toMatchObject({ code: 0, stderr: "" });
    const description = JSON.parse(created.stdout);
    expect(description).toMatchObject({ name: "orders", replicationFactor: 3, minInsyncReplicas: 2 });
    expect(description.partitions.map((p: { replicas: number[] }) => [...p.replicas].sort())).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    // The text description adds the replication settings and each partition's leader, replicas and ISR.
    const described = await runCli(["topics", "describe", "orders"], { broker: brokers[0]!.url });
    expect(described.code).toBe(0);
    const lines = described.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^topic orders {2}partitions 2 {2}replication-factor 3 {2}min-insync-replicas 2 {2}created \S+Z$/);
    expect(lines[1]).toMatch(/^PARTITION +LOG-START +HIGH-WATERMARK +LOG-END +BYTES +LEADER +REPLICAS +ISR$/);
    for (const [i, p] of description.partitions.entries()) {
      expect(lines[2 + i]!.split(/ +/)).toEqual([String(i), "0", "0", "0", "0", String(p.leader), p.replicas.join(","), p.isr.join(",")]);
    }
  }, 30_000);
});

describe("minikafka topics create --replication-factor", () => {
  it("is refused by a single-node broker above 1, accepted at 1, and must be a positive integer", async (context) => {
    const { url: broker } = await startTestBroker(context);
    const refused = await runCli(["topics", "create", "t", "--partitions", "1", "--replication-factor", "2"], { broker });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      "a single-node broker keeps one copy of each partition: replicationFactor and minInsyncReplicas must be 1 (got 2 and 1)",
    );
    expect(
      await runCli(["topics", "create", "t", "--partitions", "1", "--replication-factor", "1", "--min-insync-replicas", "1"], { broker }),
    ).toEqual({
      code: 0,
      stdout: "created topic t with 1 partition\n",
      stderr: "",
    });
    expect(await runCli(["topics", "create", "u", "--partitions", "1", "--min-insync-replicas", "0"], { broker })).toEqual({
      code: 2,
      stdout: "",
      stderr: 'error: --min-insync-replicas must be a positive integer, got "0" (see: minikafka topics create --help)\n',
    });
  });
});
