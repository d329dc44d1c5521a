import { createServer } from "node:net";
import { createClient } from "@minikafka/client";
import { describe, expect, it } from "vitest";
import { startTestBroker } from "./helpers/broker.js";
import { runCli } from "./helpers/cli.js";

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.concurrent("minikafka topics", () => {
  it("creates, lists, describes, grows and deletes a topic", async (context) => {
    const { url: broker } = await startTestBroker(context);
    expect(await runCli(["topics", "create", "orders", "--partitions", "3", "--retention-ms", "60000"], { broker })).toEqual({
      code: 0,
      stdout: "created topic orders with 3 partitions\n",
      stderr: "",
    });
    expect(await runCli(["topics", "create", "audit", "--partitions", "1"], { broker })).toMatchObject({ code: 0 });
    expect(await runCli(["topics", "list"], { broker })).toEqual({ code: 0, stdout: "audit\norders\n", stderr: "" });

    const described = await runCli(["topics", "describe", "orders"], { broker });
    expect(described.code).toBe(0);
    const lines = described.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^topic orders {2}partitions 3 {2}created \d{4}-\d\d-\d\dT.*Z {2}retentionMs=60000$/);
    expect(lines.slice(1)).toEqual([
      "PARTITION  LOG-START  HIGH-WATERMARK  LOG-END  BYTES",
      "0          0          0               0        0",
      "1          0          0               0        0",
      "2          0          0               0        0",
    ]);

    expect(await runCli(["topics", "add-partitions", "orders", "2"], { broker })).toEqual({
      code: 0,
      stdout: "topic orders: 3 → 5 partitions\n",
      stderr: "",
    });
    const admin = createClient({ brokers: broker }).admin();
    expect((await admin.describeTopics({ topics: ["orders"] }))[0]!.partitions).toHaveLength(5);

    expect(await runCli(["topics", "delete", "audit"], { broker })).toEqual({ code: 0, stdout: "deleted topic audit\n", stderr: "" });
    expect(await admin.listTopics()).toEqual(["orders"]);
  });

  it("prints JSON with --json", async (context) => {
    const { url: broker } = await startTestBroker(context);
    const created = await runCli(["topics", "create", "orders", "--partitions", "2", "--json"], { broker });
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: "orders", partitions: [{ partition: 0 }, { partition: 1 }] });
    const listed = await runCli(["topics", "list", "--json"], { broker });
    expect(JSON.parse(listed.stdout).map((t: { name: string }) => t.name)).toEqual(["orders"]);
    const described = await runCli(["topics", "describe", "orders", "--json"], { broker });
    expect(JSON.parse(described.stdout)).toMatchObject({
      name: "orders",
      partitions: [
        { partition: 0, logStartOffset: 0, highWatermark: 0, logEndOffset: 0, sizeBytes: 0 },
        { partition: 1, logStartOffset: 0, highWatermark: 0, logEndOffset: 0, sizeBytes: 0 },
      ],
    });
    const grown = await runCli(["topics", "add-partitions", "orders", "1", "--json"], { broker });
    expect(JSON.parse(grown.stdout).partitions).toHaveLength(3);
  });

  it("fails with one line on stderr and exit 1 when the broker refuses", async (context) => {
    const { url: broker } = await startTestBroker(context);
    await runCli(["topics", "create", "orders", "--partitions", "1"], { broker });
    expect(await runCli(["topics", "create", "orders", "--partitions", "1"], { broker })).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: topic orders already exists\n",
    });
    expect(await runCli(["topics", "create", "orders", "--partitions", "1", "--if-not-exists"], { broker })).toEqual({
      code: 0,
      stdout: "topic orders already exists\n",
      stderr: "",
    });
    expect(await runCli(["topics", "describe", "nope"], { broker })).toEqual({
      code: 1,
      stdout: "",
      stderr: 'error: unknown topic "nope" (UNKNOWN_TOPIC_OR_PARTITION)\n',
    });
    const invalid = await runCli(["topics", "create", "bad name", "--partitions", "1"], { broker });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^error: .*"bad name" \(INVALID_TOPIC_NAME\)\n$/);
  });

  it("names the broker it could not reach, from --broker or MINIKAFKA_BROKER", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const expected = {
      code: 1,
      stdout: "",
      stderr: `error: cannot reach the broker at ${url} (ECONNREFUSED): is it running? (set --broker or MINIKAFKA_BROKER)\n`,
    };
    const runs = await Promise.all([
      runCli(["topics", "list", "--broker", url]),
      runCli(["--broker", url, "topics", "list"]),
      runCli(["topics", "list"], { broker: url }),
    ]);
    expect(runs).toEqual([expected, expected, expected]);
  });

  it("rejects a bad command line with exit 2, and prints help with exit 0", async () => {
    const usageErrors = await Promise.all(
      [
        ["topics", "create", "orders"],
        ["topics", "create", "orders", "--partitions", "0"],
        ["topics", "frob"],
        ["topics", "list", "--nope"],
        ["topics", "describe"],
        ["frob"],
        [],
      ].map((args) => runCli(args)),
    );
    expect(usageErrors).toEqual(
      [
        "--partitions N is required (see: minikafka topics create --help)",
        '--partitions must be a positive integer, got "0" (see: minikafka topics create --help)',
        'unknown topics subcommand "frob" (see: minikafka topics --help)',
        "unknown option --nope (see: minikafka topics list --help)",
        "missing NAME (see: minikafka topics describe --help)",
        'unknown command "frob" (see: minikafka --help)',
        "missing command (see: minikafka --help)",
      ].map((message) => ({ code: 2, stdout: "", stderr: `error: ${message}\n` })),
    );
    expect(await runCli(["topics", "list", "--broker", "nope"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--broker "nope" is not a URL'),
    });
    const helps = await Promise.all(
      [["--help"], ["topics", "--help"], ["topics", "create", "--help"], ["topics", "add-partitions", "-h"]].map((args) => runCli(args)),
    );
    for (const help of helps) {
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^(minikafka: |Usage: minikafka )/);
      expect(help.stderr).toBe("");
    }
    expect(helps[2]!.stdout).toContain("--retention-ms MS");
    expect(await runCli(["--version"])).toEqual({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+/), stderr: "" });
  });
});
