// Resource exhaustion (issue 15): a real broker process under a low descriptor limit (`prlimit --nofile`)
// creates topics until its partition limit refuses, with every topic whole, and starts again under the same
// limit and serves all of them. In-process: an EMFILE that the store cannot work around is a retriable 503
// TOO_MANY_OPEN_FILES and leaves no topic behind.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { LogStore } from "@minikafka/log-store";
import { describe, expect, it } from "vitest";
import { exited, onLines } from "../../../test-support/spawn-ts.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { createBrokerApp } from "../src/index.js";

const child = fileURLToPath(new URL("./helpers/limited-broker-child.ts", import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm")).href;
const hasPrlimit = process.platform === "linux" && spawnSync("prlimit", ["--version"]).status === 0;
/** Far below the 2 descriptors per partition the store held before its descriptor pool (800 here). */
const NOFILE = 192;
const TOPICS = 100;
const PARTITIONS = 4;

function spawnLimited(dataDir: string) {
  const proc = spawn(
    "prlimit",
    [
      `--nofile=${NOFILE}:${NOFILE}`,
      process.execPath,
      "--import",
      tsxLoader,
      "--conditions=@minikafka/source",
      child,
      dataDir,
      String(TOPICS * PARTITIONS),
    ],
    { stdio: "pipe" },
  );
  let stderr = "";
  proc.stderr.on("data", (chunk) => (stderr += String(chunk)));
  const port = new Promise<number>((resolve, reject) => {
    onLines(proc, (line) => line.startsWith("listening ") && resolve(Number(line.slice("listening ".length))));
    proc.once("exit", (code, signal) => reject(new Error(`broker exited early (${code ?? signal}): ${stderr}`)));
  });
  return { proc, port, stderr: () => stderr };
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe.runIf(hasPrlimit)("a broker under a low descriptor limit", () => {
  it(`creates topics until the partition limit (${TOPICS} × ${PARTITIONS}) with ulimit -n ${NOFILE}, then restarts and serves them all`, async () => {
    const dataDir = tempDir();
    let broker = spawnLimited(dataDir);
    let url = `http://127.0.0.1:${await broker.port}`;
    const answers: number[] = [];
    let refusal: { status: number; body: { error: { code: string; retriable: boolean } } } | undefined;
    for (let i = 0; refusal === undefined && i < TOPICS + 10; i++) {
      const res = await post(`${url}/v1/topics`, { name: `t${i}`, partitions: PARTITIONS });
      if (res.status === 201) answers.push(i);
      else refusal = { status: res.status, body: (await res.json()) as never };
    }
    expect(answers).toHaveLength(TOPICS);
    expect(refusal).toMatchObject({ status: 409, body: { error: { code: "TOPIC_LIMIT_REACHED", retriable: false } } });
    // Every topic is whole, and nothing half-made is on disk.
    const listed = ((await (await fetch(`${url}/v1/topics`)).json()) as { topics: Array<{ name: string; partitions: unknown[] }> }).topics;
    expect(listed).toHaveLength(TOPICS);
    expect(listed.every((t) => t.partitions.length === PARTITIONS)).toBe(true);
    expect(readdirSync(dataDir).filter((name) => name.startsWith("~"))).toEqual([]);
    for (let i = 0; i < TOPICS; i += 7) {
      expect((await post(`${url}/v1/topics/t${i}/records`, { records: [{ value: `v${i}`, partition: i % PARTITIONS }] })).status).toBe(200);
    }
    broker.proc.kill("SIGTERM");
    await exited(broker.proc);
    expect(broker.proc.exitCode, broker.stderr()).toBe(0);

    // Restart under the same limit: it starts (it used to die of EMFILE here) and serves every topic.
    broker = spawnLimited(dataDir);
    url = `http://127.0.0.1:${await broker.port}`;
    try {
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      for (let i = 0; i < TOPICS; i++) {
        const partition = i % PARTITIONS;
        const res = await post(`${url}/v1/topics/t${i}/records`, { records: [{ value: "after", partition }] });
        expect(res.status, await res.clone().text()).toBe(200);
      }
      for (let i = 0; i < TOPICS; i += 7) {
        const res = await fetch(`${url}/v1/topics/t${i}/partitions/${i % PARTITIONS}/records?offset=0`);
        const body = (await res.json()) as { records: Array<{ value: string }> };
        expect(body.records.map((r) => r.value)).toEqual([`v${i}`, "after"]);
      }
    } finally {
      broker.proc.kill("SIGTERM");
      await exited(broker.proc);
    }
  }, 120_000);
});

describe("out of descriptors", () => {
  it("answers topic creation with a retriable 503 TOO_MANY_OPEN_FILES and leaves no topic", async () => {
    const dataDir = tempDir();
    let exhausted = false;
    const fs = await import("../../log-store/src/file-system.js");
    const faulty = {
      ...fs.nodeFileSystem,
      openSync: (path: string, flags: Parameters<typeof fs.nodeFileSystem.openSync>[1]) => {
        if (exhausted) throw Object.assign(new Error(`EMFILE: too many open files, open '${path}'`), { code: "EMFILE" });
        return fs.nodeFileSystem.openSync(path, flags);
      },
    };
    const store = await LogStore.openWith({ dataDir, retentionCheckIntervalMs: 0 }, faulty);
    const app = createBrokerApp({ store });
    const create = () =>
      app.request("/v1/topics", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "t", partitions: 3 }),
      });
    try {
      exhausted = true;
      const res = await create();
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: "TOO_MANY_OPEN_FILES", retriable: true } });
      exhausted = false;
      expect(await (await app.request("/v1/topics")).json()).toEqual({ topics: [] });
      expect((await create()).status).toBe(201);
    } finally {
      await store.close();
    }
  });
});
