// The README's sample, extracted and run as written (only the etcd URL and the package name are pointed at
// this test's etcd and at the sources).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { exited, spawnTs } from "../../../test-support/spawn-ts.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { hasEtcd, startEtcd, type EtcdServer } from "./helpers/etcd.js";

let etcd: EtcdServer;
beforeAll(async () => {
  if (hasEtcd) etcd = await startEtcd();
});
afterAll(() => etcd?.stop());

it.skipIf(!hasEtcd)(
  "runs the README sample",
  async () => {
    const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");
    const sample = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    const file = join(tempDir(), "sample.mts"); // an ES module wherever it lives (top-level await)
    writeFileSync(
      file,
      sample
        .replaceAll("http://127.0.0.1:2379", etcd.endpoint)
        .replace('"@minikafka/cluster"', JSON.stringify(fileURLToPath(new URL("../src/index.ts", import.meta.url)))),
    );
    const child = spawnTs(file, []);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += String(d)));
    child.stderr.on("data", (d) => (stderr += String(d)));
    await exited(child);
    expect(stderr).toBe("");
    expect(child.exitCode).toBe(0);
    expect(stdout).toContain("leaderEpoch: 0");
    expect(stdout.match(/partition: \d/g)).toHaveLength(6);
  },
  30_000,
);
