import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBroker } from "@minikafka/broker";
import { afterEach, describe, expect, it } from "vitest";
import { runSeedScenario } from "../src/seed-scenario.js";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "minikafka-demo-test-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the tutorial's scenario", () => {
  it("delivers all 60 round-robin messages exactly once to the group, in order per partition", async () => {
    const broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: tempDir() });
    const lines: string[] = [];
    try {
      const received = await runSeedScenario(broker.url, (line) => lines.push(line));
      // Round-robin over 3 partitions: offsets 0..19 on each.
      const sent = lines.filter((l) => l.startsWith("Message sent"));
      expect(sent).toHaveLength(60);
      expect(sent.slice(0, 4)).toEqual([
        "Message sent with offset: 0, to partition 0",
        "Message sent with offset: 0, to partition 1",
        "Message sent with offset: 0, to partition 2",
        "Message sent with offset: 1, to partition 0",
      ]);
      // The first consumer is alone in the group while it polls, so it owns all three partitions and
      // drains them; the group's offsets are committed, so the later members find nothing left.
      expect(received.map((r) => r.length)).toEqual([60, 0, 0]);
      const all = received.flat();
      expect(new Set(all).size).toBe(60);
      for (const partition of [0, 1, 2]) {
        const offsets = all.filter((r) => r.startsWith(`${partition}:`)).map((r) => Number(r.split(":")[1]));
        expect(offsets).toEqual(Array.from({ length: 20 }, (_, i) => i));
      }
      expect(all).toContain("1:0:Hello, Mini Kafka! -- 1");
      expect(lines.at(-1)).toBe("\nExample finished.");
      // Running it again continues from the group's committed offsets: only the 60 new messages.
      const again = await runSeedScenario(broker.url, () => undefined);
      expect(
        again
          .flat()
          .map((r) => Number(r.split(":")[1]))
          .sort((a, b) => a - b),
      ).toEqual(Array.from({ length: 60 }, (_, i) => 20 + Math.floor(i / 3)));
    } finally {
      await broker.close();
    }
  });
});

describe("pnpm start", () => {
  const linesOf = (stream: NodeJS.ReadableStream, into: string[]) => {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => into.push(chunk));
  };

  it("runs as plain node, serves on the given port, reports URL, data dir and fsync policy, and shuts down cleanly on SIGTERM", async () => {
    const dataDir = join(tempDir(), "data");
    // What `pnpm start` runs: built JavaScript under plain node, no TypeScript loader (bundled from the
    // sources first when they changed).
    const start = fileURLToPath(new URL("../scripts/start.mjs", import.meta.url));
    const child = spawn(process.execPath, [start, "--port", "0", "--data-dir", dataDir], { stdio: "pipe" });
    let output = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk) => {
        output += String(chunk);
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match) resolve(match[1]!);
      });
      child.stderr.on("data", (chunk) => (output += String(chunk)));
      child.once("exit", (code) => reject(new Error(`exited early (${code}): ${output}`)));
    });
    expect(output).toMatch(new RegExp(`^\\S+ INFO  minikafka broker listening on ${url} address=${url} dataDir=${dataDir} fsync=always\n`));
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    await health.body?.cancel();
    expect(existsSync(join(dataDir, ".lock"))).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output).toMatch(/INFO  minikafka broker stopped/);
    expect(existsSync(join(dataDir, ".lock"))).toBe(false); // the store was closed, not abandoned
  }, 30_000);

  // What a terminal does on Ctrl-C: SIGINT to every process of the foreground group (pnpm, pnpm again for
  // the filter, tsx, the broker). Exit 0 and no pnpm error line: pnpm runs scripts through its shell
  // emulator (pnpm-workspace.yaml), since a `sh -c` wrapper would die of the SIGINT itself and pnpm report it.
  it("Ctrl-C of `pnpm start` (SIGINT to its process group): graceful stop, exit 0, no pnpm error", async () => {
    const root = fileURLToPath(new URL("../../../", import.meta.url));
    // The settings come from a config file (`pnpm start --config FILE`); its dataDir is relative to the file.
    const dir = tempDir();
    const dataDir = join(dir, "data");
    writeFileSync(join(dir, "minikafka.json"), JSON.stringify({ port: 0, dataDir: "data" }));
    const child = spawn("pnpm", ["start", "--config", join(dir, "minikafka.json")], { cwd: root, stdio: "pipe", detached: true });
    const stdout: string[] = [];
    const stderr: string[] = [];
    linesOf(child.stdout, stdout);
    linesOf(child.stderr, stderr);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", () => {
          const match = /listening on (http:\/\/\S+)/.exec(stdout.join(""));
          if (match) resolve(match[1]!);
        });
        void exited.then((code) => reject(new Error(`exited early (${code}): ${stdout.join("")}${stderr.join("")}`)));
      });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(existsSync(join(dataDir, ".lock"))).toBe(true);
      process.kill(-child.pid!, "SIGINT");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, "SIGKILL");
    }
    const out = stdout.join("");
    const err = stderr.join("");
    expect(`${out}${err}`).not.toMatch(/ERR_PNPM|ELIFECYCLE/);
    expect(out.match(/minikafka broker stopped/g)).toHaveLength(1);
    expect(existsSync(join(dataDir, ".lock"))).toBe(false);
  }, 60_000);
});
