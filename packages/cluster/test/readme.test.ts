// The README's sample, run as written (only the etcd URL and the package name point at this test's etcd and
// at the sources).
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { readmeSample, runSample } from "../../../test-support/readme-sample.js";
import { etcdForThisFile, hasEtcd } from "../../../test-support/etcd-suite.js";

const etcd = etcdForThisFile();

it.skipIf(!hasEtcd)(
  "runs the README sample",
  async () => {
    const code = readmeSample(fileURLToPath(new URL("../README.md", import.meta.url)), 0, [
      ["http://127.0.0.1:2379", etcd.endpoint],
      ['"@minikafka/cluster"', JSON.stringify(fileURLToPath(new URL("../src/index.ts", import.meta.url)))],
    ]);
    const run = await runSample(code);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("leaderEpoch: 0");
    expect(run.stdout.match(/partition: \d/g)).toHaveLength(6);
  },
  30_000,
);
