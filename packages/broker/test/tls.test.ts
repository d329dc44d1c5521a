// TLS end to end: a self-signed certificate made here with the openssl CLI (`.ci/run` installs it when
// missing), a broker serving HTTPS only, a request checked against that certificate as CA, and the client
// in a fresh Node process trusting it through NODE_EXTRA_CA_CERTS.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { get, type RequestOptions } from "node:https";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startBroker } from "../src/index.js";
import { exited, spawnTs } from "../../../test-support/spawn-ts.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { selfSigned } from "./helpers/tls.js";

/** GET over https, trusting `ca`: status and body. */
function httpsGet(url: string, options: RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, options, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    }).on("error", reject);
  });
}

const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");

describe("tls", () => {
  it("serves HTTPS only, and the client reaches it trusting the certificate", async () => {
    const dir = tempDir();
    const tls = selfSigned(dir);
    const ca = readFileSync(tls.certFile);
    const broker = await startBroker({
      dataDir: join(dir, "data"),
      port: 0,
      fsync: "never",
      logger: { error() {} },
      shutdownTimeoutMs: 200,
      tls,
      auth: { principals: [{ name: "app", tokenSha256: sha256("app-token") }] },
    });
    try {
      expect(broker.url).toBe(`https://127.0.0.1:${broker.port}`);
      expect(await httpsGet(`${broker.url}/healthz`, { ca })).toEqual({ status: 200, body: '{"status":"ok"}' });
      // An unknown certificate is refused by the client; plain HTTP on the port gets no answer.
      await expect(httpsGet(`${broker.url}/healthz`, {})).rejects.toThrow(/self-signed|self signed/);
      await expect(fetch(`http://127.0.0.1:${broker.port}/healthz`)).rejects.toThrow();

      // The client in Node, over https, with the token.
      const script = join(dir, "client.mts");
      const client = fileURLToPath(new URL("../../client/src/index.ts", import.meta.url));
      writeFileSync(
        script,
        `import { createClient } from ${JSON.stringify(client)};
const kafka = createClient({ brokers: ${JSON.stringify(broker.url)}, token: "app-token" });
await kafka.admin().createTopics({ topics: [{ topic: "secure", numPartitions: 1 }] });
console.log(JSON.stringify(await kafka.producer().send({ topic: "secure", messages: [{ value: "over tls" }] })));`,
      );
      const child = spawnTs(script, [], { env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.certFile } });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => (out += String(d)));
      child.stderr.on("data", (d) => (err += String(d)));
      await exited(child);
      expect({ out, err, code: child.exitCode }).toEqual({ out: '[{"partition":0,"offset":0}]\n', err: "", code: 0 });
      const records = await httpsGet(`${broker.url}/v1/topics/secure/partitions/0/records?offset=0`, {
        ca,
        headers: { authorization: "Bearer app-token" },
      });
      expect(JSON.parse(records.body).records.map((r: { value: string }) => r.value)).toEqual(["over tls"]);
    } finally {
      await broker.close();
    }
  }, 30_000);

  it("refuses a missing certificate file before opening the store", async () => {
    const dir = tempDir();
    await expect(
      startBroker({ dataDir: join(dir, "data"), port: 0, tls: { certFile: join(dir, "none.pem"), keyFile: join(dir, "none.pem") } }),
    ).rejects.toThrow(expect.objectContaining({ code: "INVALID_REQUEST", message: expect.stringContaining("tls.certFile: cannot read") }));
  });
});
