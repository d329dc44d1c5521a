// The README's samples, run as written (only the package names point at the sources, and ports at free ones
// so that a broker a developer runs on 8000 does not interfere), each followed by lines that check what the
// README says it does.
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { freePort } from "../../../test-support/free-port.js";
import { readmeSample, runSample, sourceOf, startSample } from "../../../test-support/readme-sample.js";
import { exited, onLines } from "../../../test-support/spawn-ts.js";

const README = fileURLToPath(new URL("../README.md", import.meta.url));

/** Starts `code`, resolves with its first stdout line; `stop()` SIGTERMs it and resolves with how it ended. */
async function startAndRead(code: string): Promise<{ line: string; stderr: () => string; stop(): Promise<number | null> }> {
  const child = startSample(code);
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += String(d)));
  const line = await Promise.race([
    new Promise<string>((resolve) => onLines(child, resolve)),
    exited(child).then(() => {
      throw new Error(`the sample exited (${child.exitCode}): ${stderr}`);
    }),
  ]);
  return {
    line,
    stderr: () => stderr,
    async stop() {
      child.kill("SIGTERM");
      await exited(child);
      return child.exitCode;
    },
  };
}

it("runs the quick start: a broker on the port, stopped gracefully by SIGTERM", async () => {
  const port = await freePort();
  const code = readmeSample(README, 0, [sourceOf("broker"), ["port: 8000", `port: ${port}`]]);
  const broker = await startAndRead(code);
  expect(broker.line).toBe(`minikafka on http://127.0.0.1:${port}`);
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  expect(await broker.stop()).toBe(0);
  expect(broker.stderr()).toBe("");
}, 30_000);

it("runs the embedding sample: the app answers app.request() without a server", async () => {
  const code = readmeSample(README, 1, [sourceOf("broker"), sourceOf("log-store")]);
  const run = await runSample(
    `${code}
const created = await app.request("/v1/topics", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "orders", partitions: 2 }) });
console.log(created.status, (await app.request("/healthz")).status);
await store.close();`,
  );
  expect(run).toEqual({ stdout: "201 200\n", stderr: "", exitCode: 0 });
}, 30_000);

it("runs the web pages sample: the listed origin's preflight is answered, another origin is refused", async () => {
  const port = await freePort();
  const code = readmeSample(README, 2, [['dataDir: "./data",', `dataDir: "./data", port: ${port},`]]);
  const broker = await startAndRead(`import { startBroker } from ${sourceOf("broker")[1]};\n${code}\nconsole.log("started");`);
  expect(broker.line).toBe("started");
  const preflight = (origin: string) =>
    fetch(`http://127.0.0.1:${port}/v1/topics`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
  const listed = await preflight("https://app.example.com");
  expect([listed.status, listed.headers.get("access-control-allow-origin")]).toEqual([204, "https://app.example.com"]);
  const other = await preflight("https://evil.example");
  expect([other.status, other.headers.get("access-control-allow-origin")]).toEqual([403, null]);
  await broker.stop();
  expect(broker.stderr()).toBe("");
}, 30_000);

it("runs the auth sample: alice's token lists the topics she may describe", async () => {
  const port = await freePort();
  const code = readmeSample(README, 3, [sourceOf("broker"), ['dataDir: "./data",', `dataDir: "./data", port: ${port},`]]);
  expect(await runSample(code)).toEqual({ stdout: "200 { topics: [] }\n", stderr: "", exitCode: 0 });
}, 30_000);

it("the Cluster section's config file is one the broker command accepts", async () => {
  const { readFileSync } = await import("node:fs");
  const { parseServeCommand } = await import("../src/serve-options.js");
  const text = readFileSync(README, "utf8");
  const section = text.slice(text.indexOf("## Cluster"));
  const json = /```json\n([\s\S]*?)```/.exec(section)![1]!;
  const command = parseServeCommand(["--config", "/etc/minikafka.json"], {}, { readFile: () => json });
  expect(command.kind).toBe("serve");
  if (command.kind !== "serve") return;
  expect(command.start).toMatchObject({
    port: 8001,
    cluster: { nodeId: 1, etcd: ["http://127.0.0.1:2379"], advertisedUrl: "http://127.0.0.1:8001" },
  });
  expect(command.dataDir).toBe("/etc/data/1");
});
