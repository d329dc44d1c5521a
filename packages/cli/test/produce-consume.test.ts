import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { createClient } from "@minikafka/client";
import { describe, expect, it } from "vitest";
import { runCli as runInProcess } from "../src/index.js";
import { startTestBroker } from "./helpers/broker.js";
import { finished, runCli, spawnCli } from "./helpers/cli.js";

/** A file with `text` in a fresh temp directory, removed when the test finishes (safe for concurrent tests). */
function tempFile(context: { onTestFinished(fn: () => void): void }, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "minikafka-cli-file-"));
  context.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "lines.txt");
  writeFileSync(file, text);
  return file;
}

describe.concurrent("minikafka produce / consume", () => {
  it("produces one record per stdin line, split at --key-separator, and consumes them with a kcat format", async (context) => {
    const { url: broker } = await startTestBroker(context);
    const admin = createClient({ brokers: broker }).admin();
    await admin.createTopics({ topics: [{ topic: "orders", numPartitions: 1 }] });
    expect(await runCli(["produce", "orders", "--key-separator", "::"], { broker, stdin: "a::1\nb::two::2\nno key\n\nlast" })).toEqual({
      code: 0,
      stdout: "",
      stderr: "",
    });
    const consumed = await runCli(["consume", "orders", "--from-beginning", "--max-messages", "5", "--format", "%t|%p|%o|%k|%K|%s|%S"], { broker });
    expect(consumed).toEqual({
      code: 0,
      stdout: ["orders|0|0|a|1|1|1", "orders|0|1|b|1|two::2|6", "orders|0|2||-1|no key|6", "orders|0|3||-1||0", "orders|0|4||-1|last|4", ""].join(
        "\n",
      ),
      stderr: "",
    });
    // The default format is the value and a newline; --json has every field.
    const [plain, json] = await Promise.all([
      runCli(["consume", "orders", "--from-beginning", "--max-messages", "2"], { broker }),
      runCli(["consume", "orders", "--from-beginning", "--max-messages", "1", "--json"], { broker }),
    ]);
    expect(plain).toEqual({ code: 0, stdout: "1\ntwo::2\n", stderr: "" });
    expect(JSON.parse(json.stdout)).toEqual({
      topic: "orders",
      partition: 0,
      offset: 0,
      timestamp: expect.any(Number),
      key: "a",
      value: "1",
      headers: {},
    });
  });

  it("produces a file to one partition with --partition, prints {topic, records} with --json, and reads from --partition/--offset", async (context) => {
    const { url: broker } = await startTestBroker(context);
    const admin = createClient({ brokers: broker }).admin();
    await admin.createTopics({ topics: [{ topic: "events", numPartitions: 3 }] });
    const file = tempFile(context, Array.from({ length: 25_000 }, (_, i) => `line-${i}`).join("\n") + "\n");
    expect(await runCli(["produce", "events", "--file", file, "--partition", "2", "--json"], { broker })).toEqual({
      code: 0,
      stdout: '{"topic":"events","records":25000}\n',
      stderr: "",
    });
    const [topic] = await admin.describeTopics({ topics: ["events"] });
    expect(topic!.partitions.map((p) => p.highWatermark)).toEqual([0, 0, 25_000]);
    const consumed = await runCli(["consume", "events", "--partition", "2", "--offset", "24998", "--max-messages", "2", "--format", "%o=%s\\n"], {
      broker,
    });
    expect(consumed).toEqual({ code: 0, stdout: "24998=line-24998\n24999=line-24999\n", stderr: "" });
  });

  it("fails with one line for a missing topic, file or partition, and for conflicting options", async (context) => {
    const { url: broker } = await startTestBroker(context);
    await createClient({ brokers: broker })
      .admin()
      .createTopics({ topics: [{ topic: "orders", numPartitions: 2 }] });
    const runs = await Promise.all(
      [
        ["produce", "nope"],
        ["produce", "orders", "--file", "/nonexistent/lines.txt"],
        ["produce", "orders", "--partition", "2"],
        ["consume", "nope"],
        ["consume", "orders", "--partition", "5"],
        ["consume", "orders", "--group", "g", "--partition", "0"],
        ["consume", "orders", "--offset", "3"],
        ["consume", "orders", "--format", "%z"],
      ].map((args) => runCli(args, { broker })),
    );
    expect(runs.map((r) => [r.code, r.stdout, r.stderr])).toEqual(
      [
        [1, 'unknown topic "nope" (UNKNOWN_TOPIC_OR_PARTITION)'],
        [1, "cannot read /nonexistent/lines.txt: ENOENT"],
        [1, "topic orders has no partition 2 (it has 2)"],
        [1, 'unknown topic "nope" (UNKNOWN_TOPIC_OR_PARTITION)'],
        [1, "topic orders has no partition 5 (it has 2)"],
        [2, "--partition and --offset read without a group: not with --group (see: minikafka consume --help)"],
        [2, "--offset needs --partition (see: minikafka consume --help)"],
        [2, "--format: unknown token %z (known: %s %S %R %k %K %T %h %t %p %o %%) (see: minikafka consume --help)"],
      ].map(([code, message]) => [code, "", `error: ${message}\n`]),
    );
  });

  it("on Ctrl-C, a group consumer commits exactly what it printed, and the next one resumes after it", async (context) => {
    const { url: broker } = await startTestBroker(context);
    const kafka = createClient({ brokers: broker });
    await kafka.admin().createTopics({ topics: [{ topic: "orders", numPartitions: 1 }] });
    const total = 60_000;
    const producer = kafka.producer();
    await producer.send({ topic: "orders", messages: Array.from({ length: total }, (_, i) => ({ value: String(i) })) });
    await producer.disconnect();

    // Interrupted as soon as it has printed something: most likely in the middle of the topic.
    const child = await spawnCli(["consume", "orders", "--group", "billing", "--from-beginning"], { broker });
    child.stdout.once("data", () => child.kill("SIGINT"));
    const first = await finished(child);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe("");
    const printed = first.stdout.split("\n").slice(0, -1);
    expect(printed.length).toBeGreaterThan(0);
    expect(printed).toEqual(Array.from({ length: printed.length }, (_, i) => String(i)));
    const [offsets] = await kafka.admin().fetchOffsets({ groupId: "billing", topics: ["orders"] });
    expect(offsets!.partitions).toEqual([{ partition: 0, offset: printed.length, highWatermark: total, lag: total - printed.length }]);

    const rest = total - printed.length;
    if (rest > 0) {
      const second = await runCli(["consume", "orders", "--group", "billing", "--max-messages", String(rest)], { broker });
      expect(second.code).toBe(0);
      expect(second.stdout).toBe(Array.from({ length: rest }, (_, i) => `${printed.length + i}\n`).join(""));
    }
    const [after] = await kafka.admin().fetchOffsets({ groupId: "billing", topics: ["orders"] });
    expect(after!.partitions).toEqual([{ partition: 0, offset: total, highWatermark: total, lag: 0 }]);
  });

  it("shows progress on a terminal and nothing when stderr is piped", async (context) => {
    const { url: broker } = await startTestBroker(context);
    await createClient({ brokers: broker })
      .admin()
      .createTopics({ topics: [{ topic: "orders", numPartitions: 1 }] });
    const file = tempFile(context, "a\nb\nc");
    let stderr = "";
    const tty = Object.assign(
      new Writable({
        write(chunk, _encoding, callback) {
          stderr += String(chunk);
          callback();
        },
      }),
      { isTTY: true },
    );
    const stdout = new PassThrough();
    const code = await runInProcess(["produce", "orders", "--file", file], { stdout, stderr: tty, env: { MINIKAFKA_BROKER: broker } });
    expect(code).toBe(0);
    expect(stderr).toMatch(
      /^(\r\x1b\[Ksent \d\/3 records {2}[\d,]+ records\/s)*\r\x1b\[Ksent 3 records to orders in \d+\.\d s \([\d,]+ records\/s\)\n$/,
    );
    expect(await runCli(["produce", "orders", "--file", file], { broker })).toEqual({ code: 0, stdout: "", stderr: "" });
  });
});
