import type { TopicDescription } from "@minikafka/client";
import { integerOption, JSON_OPTION, parseCommand, parseInteger, type OptionSpec } from "../args.js";
import { failed, usage } from "../cli-error.js";
import { connect, type Context } from "../context.js";
import { jsonLine, table, write } from "../output.js";

/** The positionals and options of each `topics` subcommand. */
export const TOPICS_SUBCOMMANDS: Readonly<Record<string, { positionals: readonly string[]; options: Record<string, OptionSpec> }>> = {
  list: { positionals: [], options: JSON_OPTION },
  describe: { positionals: ["NAME"], options: JSON_OPTION },
  create: {
    positionals: ["NAME"],
    options: {
      ...JSON_OPTION,
      partitions: { type: "string" },
      "replication-factor": { type: "string" },
      "min-insync-replicas": { type: "string" },
      "retention-ms": { type: "string" },
      "if-not-exists": { type: "boolean" },
    },
  },
  "add-partitions": { positionals: ["NAME", "N"], options: JSON_OPTION },
  delete: { positionals: ["NAME"], options: {} },
};

/** Runs `minikafka topics <sub> …` (arguments already split off and validated by {@link parseCommand}). */
export async function topics(context: Context, sub: string, args: readonly string[]): Promise<void> {
  const command = `topics ${sub}`;
  const spec = TOPICS_SUBCOMMANDS[sub]!;
  const { values, positionals } = parseCommand(args, spec.options, command, spec.positionals);
  const json = values.json === true;
  const name = positionals[0]!;
  const admin = connect(context, values, command).admin();
  switch (sub) {
    case "list": {
      if (json) {
        const all = await admin.describeTopics();
        all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        await write(context.stdout, jsonLine(all));
      } else {
        const names = await admin.listTopics();
        await write(context.stdout, names.map((n) => n + "\n").join(""));
      }
      return;
    }
    case "describe": {
      const [description] = await admin.describeTopics({ topics: [name] });
      await write(context.stdout, json ? jsonLine(description) : describeText(description!));
      return;
    }
    case "create": {
      const partitions = integerOption(values, "partitions", command, 1);
      if (partitions === undefined) throw usage("--partitions N is required", command);
      const replicationFactor = integerOption(values, "replication-factor", command, 1);
      const minInsyncReplicas = integerOption(values, "min-insync-replicas", command, 1);
      const retentionMs = integerOption(values, "retention-ms", command, 1);
      const created = await admin.createTopics({
        topics: [
          {
            topic: name,
            numPartitions: partitions,
            replicationFactor,
            minInsyncReplicas,
            config: retentionMs === undefined ? undefined : { retentionMs },
          },
        ],
      });
      if (!created && values["if-not-exists"] !== true) throw failed(`topic ${name} already exists`);
      if (json) {
        const [description] = await admin.describeTopics({ topics: [name] });
        await write(context.stdout, jsonLine(description));
      } else {
        await write(
          context.stdout,
          created ? `created topic ${name} with ${partitions} partition${partitions === 1 ? "" : "s"}\n` : `topic ${name} already exists\n`,
        );
      }
      return;
    }
    case "add-partitions": {
      const added = parseInteger(positionals[1]!, "N (partitions to add)", command, 1);
      const [before] = await admin.describeTopics({ topics: [name] });
      const from = before!.partitions.length;
      await admin.createPartitions({ topicPartitions: [{ topic: name, count: from + added }] });
      if (json) {
        const [after] = await admin.describeTopics({ topics: [name] });
        await write(context.stdout, jsonLine(after));
      } else {
        await write(context.stdout, `topic ${name}: ${from} → ${from + added} partitions\n`);
      }
      return;
    }
    case "delete": {
      await admin.deleteTopics({ topics: [name] });
      await write(context.stdout, `deleted topic ${name}\n`);
      return;
    }
  }
}

function describeText(t: TopicDescription): string {
  const settings = Object.entries(t.config)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`);
  // In a cluster: the replication settings, and per partition its leader, replicas and in-sync replicas.
  const replicated = t.replicationFactor !== undefined;
  const head =
    `topic ${t.name}  partitions ${t.partitions.length}` +
    (replicated ? `  replication-factor ${t.replicationFactor}  min-insync-replicas ${t.minInsyncReplicas ?? 1}` : "") +
    `  created ${new Date(t.createdAt).toISOString()}` +
    (settings.length === 0 ? "" : `  ${settings.join(" ")}`) +
    "\n";
  const ids = (nodes: readonly number[] | undefined) => (nodes === undefined || nodes.length === 0 ? "-" : nodes.join(","));
  return (
    head +
    table(
      ["PARTITION", "LOG-START", "HIGH-WATERMARK", "LOG-END", "BYTES", ...(replicated ? ["LEADER", "REPLICAS", "ISR"] : [])],
      t.partitions.map((p) => [
        p.partition,
        p.logStartOffset,
        p.highWatermark,
        p.logEndOffset,
        p.sizeBytes,
        ...(replicated ? [p.leader === undefined || p.leader < 0 ? "none" : p.leader, ids(p.replicas), ids(p.isr)] : []),
      ]),
    )
  );
}
