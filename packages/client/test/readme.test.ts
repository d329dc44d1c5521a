// The README's Node samples, run as written against a real broker (only the broker URL and the package names
// point at this test's broker and at the sources). The quick start runs twice: a second run must work as
// well as the first, and its consumer must resume after what the first one committed on SIGTERM.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startBroker, type StartBrokerResult } from "@minikafka/broker";
import { partitionForKey } from "@minikafka/partitioner";
import { hasEtcd, startEtcd } from "../../../test-support/etcd.js";
import { readmeSample, runSample, sourceOf, startSample } from "../../../test-support/readme-sample.js";
import { exited, onLines } from "../../../test-support/spawn-ts.js";

const README = fileURLToPath(new URL("../README.md", import.meta.url));
let broker: StartBrokerResult;

// One broker for the whole file, over a directory of its own (test-support's tempDir() is removed after
// each test, under the running broker).
const dataDir = mkdtempSync(join(tmpdir(), "minikafka-client-readme-"));
beforeAll(async () => {
  broker = await startBroker({ dataDir, port: 0 });
});
afterAll(async () => {
  await broker?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs the quick start until its consumer has printed `lines` records, then SIGTERMs it as the sample expects. */
async function quickStart(lines: number): Promise<{ printed: string[]; stderr: string; exitCode: number | null }> {
  const code = readmeSample(README, 0, [["http://127.0.0.1:8000", broker.url], sourceOf("client")]);
  const child = startSample(code);
  const printed: string[] = [];
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += String(d)));
  const enough = new Promise<void>((resolve) =>
    onLines(child, (line) => {
      printed.push(line);
      if (printed.length === lines) resolve();
    }),
  );
  await Promise.race([enough, exited(child)]);
  child.kill("SIGTERM");
  await exited(child);
  return { printed, stderr, exitCode: child.exitCode };
}

it("runs the Node quick start, and again: the consumer resumes after what the first run committed on SIGTERM", async () => {
  const first = await quickStart(1);
  expect(first).toEqual({ printed: [expect.stringMatching(/^orders [0-2] 0 order-42 \{"total":9\.5\}$/)], stderr: "", exitCode: 0 });
  const partition = first.printed[0]!.split(" ")[1];

  const second = await quickStart(1);
  // The same key goes to the same partition; offset 0 was committed by the first run, so only the new record is printed.
  expect(second).toEqual({ printed: [`orders ${partition} 1 order-42 {"total":9.5}`], stderr: "", exitCode: 0 });
}, 60_000);

it("runs the ManualClock sample: the linger ends when the test advances the clock", async () => {
  const sample = readmeSample(README, 1);
  const code = [
    `import { createClient } from ${sourceOf("client")[1]};`,
    `import { ManualClock } from ${sourceOf("group-coordinator")[1]};`,
    `const url = ${JSON.stringify(broker.url)};`,
    `await createClient({ brokers: url }).admin().createTopics({ topics: [{ topic: "orders", numPartitions: 3 }] });`,
    sample,
    `console.log(JSON.stringify((await sent).map((r) => typeof r.offset)));`,
    `await producer.disconnect();`,
  ].join("\n");
  const run = await runSample(code);
  expect(run).toEqual({ stdout: '["number"]\n', stderr: "", exitCode: 0 });
}, 30_000);

it.skipIf(!hasEtcd)(
  "runs the Cluster sample against three brokers in cluster mode: one record on each key's partition, at offset 0",
  async () => {
    const etcd = await startEtcd();
    const dirs = [1, 2, 3].map((n) => mkdtempSync(join(tmpdir(), `minikafka-client-readme-cluster-${n}-`)));
    const nodes: StartBrokerResult[] = [];
    try {
      for (const [i, dataDir] of dirs.entries()) {
        nodes.push(
          await startBroker({
            dataDir,
            port: 0,
            streams: false,
            cluster: { nodeId: i + 1, etcd: [etcd.endpoint], name: "readme", leaseTtlSeconds: 2 },
          }),
        );
      }
      const code = readmeSample(README, 2, [
        ["http://127.0.0.1:8001", nodes[0]!.url],
        ["http://127.0.0.1:8002", nodes[1]!.url],
        ["http://127.0.0.1:8003", nodes[2]!.url],
        sourceOf("client"),
      ]);
      const run = await runSample(code);
      const partitions = ["alice", "bob"].map((key) => partitionForKey(key, 6));
      const expected = partitions[0] === partitions[1] ? `${partitions[0]}:0 ${partitions[1]}:1` : `${partitions[0]}:0 ${partitions[1]}:0`;
      expect(run).toEqual({ stdout: `${expected}\n`, stderr: "", exitCode: 0 });
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await etcd.stop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  },
  60_000,
);
