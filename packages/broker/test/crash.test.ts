// kill -9 of a real broker process while producers are being acknowledged over HTTP, several rounds on
// one data directory; then a restarted broker must serve every acknowledged record at its acknowledged
// offset, in per-partition order, with and without the store-wide journal (whose segment tails are still
// in memory when the process dies: the restart replays the journal). Also: SIGTERM shuts a broker down gracefully.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startBroker } from "../src/index.js";
import { exited, onLines, spawnTs } from "../../../test-support/spawn-ts.js";
import { tempDir } from "../../../test-support/temp-dir.js";

const child = fileURLToPath(new URL("./helpers/broker-child.ts", import.meta.url));
const PARTITIONS = 3;

/** Starts the child broker and resolves with its port once it listens. */
function spawnBroker(dataDir: string, ...args: string[]) {
  const proc = spawnTs(child, [dataDir, ...args]);
  let stderr = "";
  proc.stderr.on("data", (chunk) => (stderr += String(chunk)));
  const lines: string[] = [];
  const port = new Promise<number>((resolve, reject) => {
    onLines(proc, (line) => {
      lines.push(line);
      if (line.startsWith("listening ")) resolve(Number(line.slice("listening ".length)));
    });
    proc.once("exit", (code, signal) => reject(new Error(`broker exited early (${code ?? signal}): ${stderr}`)));
  });
  return { proc, port, lines, stderr: () => stderr };
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("broker crash safety", () => {
  it.each([
    ["each partition fsyncing its segment", false],
    ["the store-wide journal", true],
  ])(
    "keeps every acknowledged record, in order, across repeated kill -9 (%s)",
    async (_, journal) => {
      const dataDir = tempDir();
      // acked[partition]: offset → value of every acknowledged record.
      const acked = Array.from({ length: PARTITIONS }, () => new Map<number, string>());
      for (let round = 0; round < 3; round++) {
        const broker = spawnBroker(dataDir, ...(journal ? ["journal"] : []));
        const url = `http://127.0.0.1:${await broker.port}`;
        if (round === 0) expect((await post(`${url}/v1/topics`, { name: "crash", partitions: PARTITIONS })).status).toBe(201);
        const killAfter = 30 + round * 25;
        let acks = 0;
        let killed = false;
        const producer = async (id: number) => {
          for (let seq = 0; !killed; seq++) {
            const count = 1 + ((id + seq) % 5);
            const records = Array.from({ length: count }, (_, k) => ({
              value: `${round}/${id}/${seq}/${k}`,
              // Keyed, explicit and keyless records: all three placement paths.
              ...(k % 3 === 0 ? { key: `producer-${id}` } : k % 3 === 1 ? { partition: (id + seq) % PARTITIONS } : {}),
            }));
            let answer: { offsets: Array<{ partition: number; offset: number }> };
            try {
              const res = await post(`${url}/v1/topics/crash/records`, { records });
              if (res.status !== 200) throw new Error(`produce answered ${res.status}: ${await res.text()}`);
              answer = (await res.json()) as typeof answer;
            } catch (error) {
              if (killed) return; // in flight when the broker died: not acknowledged
              throw error;
            }
            answer.offsets.forEach(({ partition, offset }, i) => acked[partition]!.set(offset, records[i]!.value));
            if (++acks === killAfter) {
              killed = true;
              broker.proc.kill("SIGKILL");
            }
          }
        };
        await Promise.all([0, 1, 2, 3, 4, 5].map(producer));
        await exited(broker.proc);
        expect(broker.proc.signalCode, broker.stderr()).toBe("SIGKILL");
        // The option reached the store: its journal is what the restart replays.
        expect(existsSync(join(dataDir, "__journal"))).toBe(journal);
      }

      // Restart (the dead process's lock is stale) and read everything back over HTTP.
      const restarted = await startBroker({ dataDir, port: 0, journal });
      try {
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const stored: Array<[number, string]> = [];
          for (let offset = 0; ;) {
            const res = await fetch(`${restarted.url}/v1/topics/crash/partitions/${partition}/records?offset=${offset}&maxRecords=10000`);
            const body = (await res.json()) as { records: Array<{ offset: number; value: string }>; nextOffset: number; highWatermark: number };
            for (const r of body.records) stored.push([r.offset, r.value]);
            if (body.nextOffset >= body.highWatermark) break;
            offset = body.nextOffset;
          }
          // Dense offsets from 0; every acknowledged record at its acknowledged offset.
          expect(stored.map(([o]) => o)).toEqual(Array.from({ length: stored.length }, (_, i) => i));
          const byOffset = new Map(stored);
          expect(acked[partition]!.size).toBeGreaterThan(0);
          for (const [offset, value] of acked[partition]!) expect(byOffset.get(offset), `partition ${partition} offset ${offset}`).toBe(value);
          // Per producer and partition, records are in the order they were sent.
          const last = new Map<string, number>();
          for (const [, value] of stored) {
            const [round, id, seq, k] = value.split("/").map(Number) as [number, number, number, number];
            const position = (round * 1e6 + seq) * 10 + k;
            expect(position, value).toBeGreaterThan(last.get(String(id)) ?? -1);
            last.set(String(id), position);
          }
        }
      } finally {
        await restarted.close();
      }
    },
    60_000,
  );

  it("shuts down gracefully on SIGTERM and releases the data directory", async () => {
    const dataDir = tempDir();
    const broker = spawnBroker(dataDir, "signals");
    const url = `http://127.0.0.1:${await broker.port}`;
    await post(`${url}/v1/topics`, { name: "t", partitions: 1 });
    expect((await post(`${url}/v1/topics/t/records`, { records: [{ value: "kept" }] })).status).toBe(200);
    broker.proc.kill("SIGTERM");
    await exited(broker.proc);
    expect([broker.proc.exitCode, broker.proc.signalCode, broker.stderr()]).toEqual([0, null, ""]);
    expect(broker.lines).toContain("closed");
    const restarted = await startBroker({ dataDir, port: 0 });
    try {
      const body = (await (await fetch(`${restarted.url}/v1/topics/t/partitions/0/records?offset=0`)).json()) as {
        records: Array<{ value: string }>;
      };
      expect(body.records.map((r) => r.value)).toEqual(["kept"]);
    } finally {
      await restarted.close();
    }
  }, 30_000);
});
