// A real etcd (Debian's etcd-server) for the cluster tests: one member on free loopback ports over a temp
// data directory, with short raft timers so that leases as short as 1 s are allowed.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";

/** True when an etcd binary is on the PATH. */
export const hasEtcd = spawnSync("etcd", ["--version"], { stdio: "ignore" }).status === 0;

/** A running etcd. */
export interface EtcdServer {
  /** Its client URL. */
  endpoint: string;
  /** Stops it (SIGKILL), waits for the exit and removes its data directory. */
  stop(): Promise<void>;
}

/** Starts etcd (over a fresh temp directory) and resolves once it answers its health check. Benchmarks use it too. */
export async function startEtcd(): Promise<EtcdServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "minikafka-etcd-"));
  const [client, peer] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const proc: ChildProcess = spawn(
    "etcd",
    [
      "--name=test",
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=test=${peerUrl}`,
      "--heartbeat-interval=20",
      "--election-timeout=200",
      "--logger=zap",
      "--log-level=error",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  proc.stderr!.on("data", (chunk) => (stderr += String(chunk)));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`etcd exited: ${stderr}`);
    const health = await fetch(`${endpoint}/health`).then(
      (r) => r.json() as Promise<{ health?: string }>,
      () => undefined,
    );
    if (health?.health === "true") break;
    if (Date.now() > deadline) throw new Error(`etcd did not become healthy: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // no event to await: etcd has no readiness signal
  }
  return {
    endpoint,
    async stop() {
      proc.kill("SIGKILL");
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
