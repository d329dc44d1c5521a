import { createClient } from "@minikafka/client";
import { describe, expect, it } from "vitest";
import { startTestBroker } from "./helpers/broker.js";
import { runCli } from "./helpers/cli.js";

async function setUp(context: Parameters<typeof startTestBroker>[0]) {
  const { url: broker } = await startTestBroker(context);
  const kafka = createClient({ brokers: broker });
  await kafka.admin().createTopics({ topics: [{ topic: "orders", numPartitions: 2 }] });
  const producer = kafka.producer();
  await producer.send({
    topic: "orders",
    messages: Array.from({ length: 10 }, (_, i) => ({ value: String(i), partition: i % 2 })),
  });
  await producer.disconnect();
  return { broker, kafka };
}

describe.concurrent("minikafka groups", () => {
  it("lists and describes groups: members, assignment, committed offsets, lag", async (context) => {
    const { broker, kafka } = await setUp(context);
    // One group that consumed 3 records and left, one with a live member.
    expect(await runCli(["consume", "orders", "--group", "billing", "--from-beginning", "--max-messages", "3"], { broker })).toMatchObject({
      code: 0,
    });
    const consumer = kafka.consumer({ groupId: "audit", fromBeginning: true });
    await consumer.subscribe({ topics: ["orders"] });
    await consumer.run({ eachMessage: async () => {} });
    context.onTestFinished(() => consumer.disconnect());
    const memberId = (await kafka.admin().describeGroups(["audit"])).groups[0]!.members[0]!.memberId;

    const [listed, listedJson, billing, audit, auditJson, missing] = await Promise.all([
      runCli(["groups", "list"], { broker }),
      runCli(["groups", "list", "--json"], { broker }),
      runCli(["groups", "describe", "billing"], { broker }),
      runCli(["groups", "describe", "audit"], { broker }),
      runCli(["groups", "describe", "audit", "--json"], { broker }),
      runCli(["groups", "describe", "nope"], { broker }),
    ]);
    expect(listed).toEqual({ code: 0, stdout: "GROUP    STATE   MEMBERS\naudit    stable  1\nbilling  empty   0\n", stderr: "" });
    expect(JSON.parse(listedJson.stdout)).toEqual([
      { groupId: "audit", state: "stable", groupEpoch: expect.any(Number), memberCount: 1 },
      { groupId: "billing", state: "empty", groupEpoch: expect.any(Number), memberCount: 0 },
    ]);
    // billing read 3 records from one partition, or spread over both: committed + lag add up either way.
    expect(billing.code).toBe(0);
    const billingRows = billing.stdout.trimEnd().split("\n").slice(3);
    const committed = billingRows.map((row) => row.split(/\s+/)).map(([, , c, hw, lag, owner]) => [Number(c), Number(hw), Number(lag), owner]);
    expect(committed.reduce((sum, [c]) => sum + (c as number), 0)).toBe(3);
    for (const [c, hw, lag, owner] of committed) expect([hw, lag, owner]).toEqual([5, 5 - (c as number), "-"]);

    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(
      new RegExp(
        `^group audit {2}state stable {2}epoch \\d+ {2}members 1\n\nMEMBER-ID +INSTANCE-ID +STATE +ASSIGNMENT\n${memberId} +- +\\w+ +orders:0,1\n\nTOPIC +PARTITION +COMMITTED +HIGH-WATERMARK +LAG +OWNER\n`,
      ),
    );
    expect(JSON.parse(auditJson.stdout)).toMatchObject({
      groupId: "audit",
      members: [{ memberId, assignment: [{ topic: "orders", partitions: [0, 1] }] }],
    });
    expect(missing).toEqual({ code: 1, stdout: "", stderr: "error: group nope does not exist\n" });
  });

  it("resets a group's offsets to the earliest, the latest, or a given offset", async (context) => {
    const { broker, kafka } = await setUp(context);
    expect(await runCli(["groups", "reset-offsets", "billing", "--topic", "orders", "--to-latest"], { broker })).toEqual({
      code: 0,
      stdout:
        "TOPIC   PARTITION  NEW-OFFSET  HIGH-WATERMARK  LAG\norders  0          5           5               0\norders  1          5           5               0\n",
      stderr: "",
    });
    const earliest = await runCli(["groups", "reset-offsets", "billing", "--topic", "orders", "--to-earliest", "--json"], { broker });
    expect(JSON.parse(earliest.stdout)).toEqual([
      { topic: "orders", partition: 0, offset: 0, highWatermark: 5, lag: 5 },
      { topic: "orders", partition: 1, offset: 0, highWatermark: 5, lag: 5 },
    ]);
    const one = await runCli(["groups", "reset-offsets", "billing", "--topic", "orders", "--to-offset", "3", "--partition", "1", "--json"], {
      broker,
    });
    expect(JSON.parse(one.stdout)).toEqual([{ topic: "orders", partition: 1, offset: 3, highWatermark: 5, lag: 2 }]);
    const [offsets] = await kafka.admin().fetchOffsets({ groupId: "billing", topics: ["orders"] });
    expect(offsets!.partitions.map((p) => p.offset)).toEqual([0, 3]);
    // The next consumer of the group starts there.
    expect(await runCli(["consume", "orders", "--group", "billing", "--max-messages", "7", "--format", "%p:%s"], { broker })).toMatchObject({
      code: 0,
    });
    const [after] = await kafka.admin().fetchOffsets({ groupId: "billing", topics: ["orders"] });
    expect(after!.partitions.map((p) => p.offset)).toEqual([5, 5]);
  });

  it("refuses to reset a group with members, an offset out of range, and a bad command line", async (context) => {
    const { broker, kafka } = await setUp(context);
    const consumer = kafka.consumer({ groupId: "live" });
    await consumer.subscribe({ topics: ["orders"] });
    await consumer.run({ eachMessage: async () => {} });
    context.onTestFinished(() => consumer.disconnect());
    const runs = await Promise.all(
      [
        ["groups", "reset-offsets", "live", "--topic", "orders", "--to-earliest"],
        ["groups", "reset-offsets", "g", "--topic", "orders", "--to-offset", "6"],
        ["groups", "reset-offsets", "g", "--topic", "nope", "--to-latest"],
        ["groups", "reset-offsets", "g", "--topic", "orders"],
        ["groups", "reset-offsets", "g", "--to-latest"],
        ["groups", "reset-offsets", "g", "--topic", "orders", "--to-latest", "--to-earliest"],
      ].map((args) => runCli(args, { broker })),
    );
    expect(runs.map((r) => [r.code, r.stdout, r.stderr])).toEqual(
      [
        [1, "group live has active members: stop its consumers before changing its offsets (NON_EMPTY_GROUP)"],
        [1, "offset 6 is outside partition 0's range [0, 5] in topic orders"],
        [1, 'unknown topic "nope" (UNKNOWN_TOPIC_OR_PARTITION)'],
        [2, "give exactly one of --to-earliest, --to-latest and --to-offset O (see: minikafka groups reset-offsets --help)"],
        [2, "--topic T is required (see: minikafka groups reset-offsets --help)"],
        [2, "give exactly one of --to-earliest, --to-latest and --to-offset O (see: minikafka groups reset-offsets --help)"],
      ].map(([code, message]) => [code, "", `error: ${message}\n`]),
    );
    const help = await runCli(["groups", "describe", "--help"]);
    expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining("Usage: minikafka groups describe GROUP"), stderr: "" });
  });

  it("deletes a group without members, and refuses one with members or unknown", async (context) => {
    const { broker, kafka } = await setUp(context);
    await kafka.admin().setOffsets({ groupId: "billing", topic: "orders", partitions: [{ partition: 0, offset: 2 }] });
    const joined = await fetch(`${broker}/v1/groups/audit/members`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ topics: ["orders"] }) });
    expect(joined.status).toBe(201);
    const [deleted, busy, missing, usage] = await Promise.all([
      runCli(["groups", "delete", "billing"], { broker }),
      runCli(["groups", "delete", "audit"], { broker }),
      runCli(["groups", "delete", "nope"], { broker }),
      runCli(["groups", "delete"], { broker }),
    ]);
    expect(deleted).toEqual({ code: 0, stdout: "deleted group billing\n", stderr: "" });
    expect(busy).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: group audit has 1 member; only an empty group can be deleted (NON_EMPTY_GROUP)\n",
    });
    expect(missing).toEqual({ code: 1, stdout: "", stderr: "error: group nope does not exist\n" });
    expect(usage.code).toBe(2);
    expect((await kafka.admin().listGroups()).groups.map((g) => g.groupId)).toEqual(["audit"]);
    expect(await kafka.admin().fetchOffsets({ groupId: "billing" })).toEqual([]);
  });
});
