// `pnpm cluster`, run as a user runs it (the script, a real etcd from the PATH, three broker processes), on
// free ports: three brokers in one cluster, a replicated topic works, and SIGINT stops everything.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { freePortRun } from "../../../test-support/free-port.js";
import { tempDir } from "../../../test-support/temp-dir.js";

const SCRIPT = fileURLToPath(new URL("../scripts/cluster.mjs", import.meta.url));
const hasEtcd = spawnSync("etcd", ["--version"], { stdio: "ignore" }).status === 0;
if (!hasEtcd && process.env.CI) throw new Error("CI needs etcd for the cluster tests (apt-get install etcd-server)");

/** Three consecutive free ports (the brokers), and two for etcd (client, peer), apart from each other. */
async function ports(): Promise<{ base: number; etcd: number }> {
  for (;;) {
    const base = await freePortRun(3);
    const etcd = await freePortRun(2);
    if (etcd + 1 < base || etcd > base + 2) return { base, etcd };
  }
}

it.skipIf(!hasEtcd)(
  "pnpm cluster starts etcd and three brokers, prints their URLs, and stops them all on SIGINT",
  async () => {
    const { base, etcd } = await ports();
    const dataDir = tempDir();
    const child = spawn(process.execPath, [SCRIPT], {
      env: { ...process.env, CLUSTER_BASE_PORT: String(base), CLUSTER_ETCD_PORT: String(etcd), CLUSTER_DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stderr.on("data", (d) => (out += String(d)));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const urls = await new Promise<string[]>((resolve, reject) => {
      child.stdout.on("data", (d) => {
        out += String(d);
        const m = /minikafka cluster: (\S+) (\S+) (\S+) /.exec(out);
        if (m) resolve([m[1]!, m[2]!, m[3]!]);
      });
      void exited.then(() => reject(new Error(`pnpm cluster exited: ${out}`)));
    });
    try {
      expect(urls).toEqual([0, 1, 2].map((i) => `http://127.0.0.1:${base + i}`));
      const meta = (await (await fetch(`${urls[2]}/v1/metadata`)).json()) as { brokers: Array<{ url: string }> };
      expect(meta.brokers.map((b) => b.url)).toEqual(urls);
      const created = await fetch(`${urls[0]}/v1/topics`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "orders", partitions: 1, replicationFactor: 3 }),
      });
      expect(created.status).toBe(201);
      const leader = ((await created.json()) as { partitions: Array<{ leader: number }> }).partitions[0]!.leader;
      const produced = await fetch(`${urls[leader - 1]}/v1/topics/orders/records`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ records: [{ value: "hello" }] }),
      });
      expect(produced.status).toBe(200);
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
    for (const url of urls) await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${etcd}/health`)).rejects.toThrow();
  },
  60_000,
);
