// The tutorial's own Python client and example script, run against a real broker. Needs python3 with
// `requests` (`.ci/run` installs Debian's python3-requests); where that is missing the test is skipped
// and says why, except under CI, where a missing Python fails the run instead of passing it silently.
import { execFile, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBroker } from "@minikafka/broker";
import { describe, expect, it } from "vitest";

const here = fileURLToPath(new URL("./seed-python/", import.meta.url));
const python = spawnSync("python3", ["-c", "import requests"], { stdio: "ignore" }).status === 0;

if (!python && process.env.CI) throw new Error("CI needs python3 with requests for the seed client test (apt-get install python3-requests)");

describe.skipIf(!python)("the tutorial's Python client (python3 + requests)", () => {
  it("runs the tutorial's example script unchanged", async () => {
    const work = mkdtempSync(join(tmpdir(), "minikafka-seed-py-"));
    const broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: join(work, "data") });
    try {
      copyFileSync(join(here, "client.py"), join(work, "client.py"));
      const example = readFileSync(join(here, "example.py"), "utf8");
      expect(example).toContain('BROKER_URL = "http://127.0.0.1:8000"');
      writeFileSync(join(work, "example.py"), example.replace('BROKER_URL = "http://127.0.0.1:8000"', `BROKER_URL = "${broker.url}"`));
      // Async, so the in-process broker keeps serving while the script runs.
      const output = await new Promise<string>((resolve, reject) => {
        execFile("python3", ["example.py"], { cwd: work, timeout: 60_000 }, (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
        );
      });
      const lines = output.split("\n");
      expect(lines.filter((l) => l.startsWith("Message sent with offset:"))).toHaveLength(60);
      expect(lines).toContain("Message sent with offset: 0, to partition 2");
      expect(lines).toContain("Message sent with offset: 19, to partition 2");
      expect(lines.filter((l) => l.startsWith("  Consumer 1 received"))).toHaveLength(60);
      expect(lines).toContain("Consumer 1 finished. Received 60 messages.");
      expect(lines).toContain("Consumer 2 finished. Received 0 messages.");
      expect(lines).toContain("Consumer 3 finished. Received 0 messages.");
      expect(lines).toContain("Example finished.");
    } finally {
      await broker.close();
      rmSync(work, { recursive: true, force: true });
    }
  }, 90_000);
});
