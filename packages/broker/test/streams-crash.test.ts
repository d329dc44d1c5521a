// kill -9 of a real broker process during idempotent stream appends: the producer retries the same
// Producer-Seq against the restarted broker (sometimes after it was acknowledged, sometimes while the
// original was in flight at the kill). Every acknowledged append must be stored exactly once, in order,
// byte-exact, and an SSE read from an offset saved mid-way must deliver exactly the rest.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startBroker } from "../src/index.js";
import { exited, onLines, spawnTs } from "../../../test-support/spawn-ts.js";
import { tempDir } from "../../../test-support/temp-dir.js";

const child = fileURLToPath(new URL("./helpers/broker-child.ts", import.meta.url));
const TOTAL = 50;
const STREAM = "/v1/stream/crash/ü%20x";

function spawnBroker(dataDir: string) {
  const proc = spawnTs(child, [dataDir]);
  let stderr = "";
  proc.stderr.on("data", (chunk) => (stderr += String(chunk)));
  const port = new Promise<number>((resolve, reject) => {
    onLines(proc, (line) => {
      if (line.startsWith("listening ")) resolve(Number(line.slice("listening ".length)));
    });
    proc.once("exit", (code, signal) => reject(new Error(`broker exited early (${code ?? signal}): ${stderr}`)));
  });
  return { proc, port, stderr: () => stderr };
}

/** The bytes of append `seq`: every byte value, lengths 1..200. */
function message(seq: number): Uint8Array {
  const out = new Uint8Array(1 + ((seq * 37) % 200));
  for (let i = 0; i < out.length; i++) out[i] = (seq * 31 + i * 7) & 255;
  return out;
}

const append = (url: string, seq: number) =>
  fetch(`${url}${STREAM}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", "producer-id": "crash-writer", "producer-epoch": "0", "producer-seq": String(seq) },
    body: message(seq),
  });

describe("idempotent stream appends across kill -9", () => {
  it("stores every acknowledged append exactly once, in order, byte-exact; SSE from a saved offset delivers exactly the rest", async () => {
    const dataDir = tempDir();
    let seq = 0;
    let saved: { offset: string; after: number } | undefined;
    const answers = { new: 0, duplicate: 0 };
    for (let round = 0; seq < TOTAL; round++) {
      const broker = spawnBroker(dataDir);
      const url = `http://127.0.0.1:${await broker.port}`;
      if (round === 0)
        expect((await fetch(`${url}${STREAM}`, { method: "PUT", headers: { "content-type": "application/octet-stream" } })).status).toBe(201);
      // Retry the last acknowledged seq first: the restarted broker must know it (204, nothing appended).
      if (seq > 0 && round % 2 === 0) {
        const res = await append(url, seq - 1);
        expect(res.status).toBe(204);
        answers.duplicate++;
      }
      const killAt = seq + 12 + ((round * 5) % 7);
      for (; seq < TOTAL;) {
        const pending = append(url, seq);
        if (seq === killAt) {
          // Killed with this append in flight: it may or may not be stored; the next round retries it.
          broker.proc.kill("SIGKILL");
          await pending.catch(() => undefined);
          break;
        }
        const res = await pending;
        expect([200, 204], await res.clone().text()).toContain(res.status);
        answers[res.status === 200 ? "new" : "duplicate"]++;
        if (seq === 20) saved = { offset: res.headers.get("stream-next-offset")!, after: seq };
        seq++;
      }
      if (broker.proc.exitCode === null && broker.proc.signalCode === null) broker.proc.kill("SIGKILL");
      await exited(broker.proc);
    }
    expect(answers.new).toBeGreaterThanOrEqual(TOTAL - 8);

    const broker = await startBroker({ dataDir, port: 0, logger: { error() {} } });
    try {
      const expected = Buffer.concat(Array.from({ length: TOTAL }, (_, i) => message(i)));
      const parts: Buffer[] = [];
      for (let offset = "-1"; ;) {
        const res = await fetch(`${broker.url}${STREAM}?offset=${offset}`);
        expect(res.status).toBe(200);
        parts.push(Buffer.from(await res.arrayBuffer()));
        offset = res.headers.get("stream-next-offset")!;
        if (res.headers.get("stream-up-to-date") === "true") break;
      }
      expect(Buffer.concat(parts).equals(expected)).toBe(true);

      // SSE from the offset saved after append 20: exactly appends 21.. (base64: a binary stream).
      const stop = new AbortController();
      const res = await fetch(`${broker.url}${STREAM}?offset=${saved!.offset}&live=sse`, { signal: stop.signal });
      expect(res.headers.get("stream-sse-data-encoding")).toBe("base64");
      const reader = res.body!.getReader();
      let text = "";
      while (!/"upToDate":true/.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      stop.abort();
      const data = text
        .split("\n\n")
        .filter((e) => e.startsWith("event: data"))
        .map((e) =>
          Buffer.from(
            e
              .split("\n")
              .slice(1)
              .map((l) => l.slice(5))
              .join(""),
            "base64",
          ),
        );
      expect(
        Buffer.concat(data).equals(Buffer.concat(Array.from({ length: TOTAL - saved!.after - 1 }, (_, i) => message(saved!.after + 1 + i)))),
      ).toBe(true);
    } finally {
      await broker.close();
    }
  }, 120_000);
});
