import type { GroupDescription } from "@minikafka/client";
import { integerOption, JSON_OPTION, parseCommand, stringOption, type OptionSpec } from "../args.js";
import { failed, usage } from "../cli-error.js";
import { connect, type Context } from "../context.js";
import { jsonLine, table, write } from "../output.js";

/** The positionals and options of each `groups` subcommand. */
export const GROUPS_SUBCOMMANDS: Readonly<Record<string, { positionals: readonly string[]; options: Record<string, OptionSpec> }>> = {
  list: { positionals: [], options: JSON_OPTION },
  describe: { positionals: ["GROUP"], options: JSON_OPTION },
  delete: { positionals: ["GROUP"], options: {} },
  "reset-offsets": {
    positionals: ["GROUP"],
    options: {
      ...JSON_OPTION,
      topic: { type: "string" },
      partition: { type: "string" },
      "to-earliest": { type: "boolean" },
      "to-latest": { type: "boolean" },
      "to-offset": { type: "string" },
    },
  },
};

/** Runs `minikafka groups <sub> …`. */
export async function groups(context: Context, sub: string, args: readonly string[]): Promise<void> {
  const command = `groups ${sub}`;
  const spec = GROUPS_SUBCOMMANDS[sub]!;
  const { values, positionals } = parseCommand(args, spec.options, command, spec.positionals);
  const json = values.json === true;
  const groupId = positionals[0]!;
  if (sub === "reset-offsets") checkResetOptions(values, command);
  const admin = connect(context, values, command).admin();
  switch (sub) {
    case "list": {
      const { groups: all } = await admin.listGroups();
      await write(
        context.stdout,
        json
          ? jsonLine(all)
          : table(
              ["GROUP", "STATE", "MEMBERS"],
              all.map((g) => [g.groupId, g.state, g.memberCount]),
            ),
      );
      return;
    }
    case "describe": {
      const {
        groups: [group],
      } = await admin.describeGroups([groupId]);
      if (group === undefined || group.state === "dead") throw failed(`group ${groupId} does not exist`);
      await write(context.stdout, json ? jsonLine(group) : describeText(group));
      return;
    }
    case "delete": {
      const [result] = await admin.deleteGroups([groupId]);
      if (result!.errorCode === "NONE") {
        await write(context.stdout, `deleted group ${groupId}\n`);
        return;
      }
      // A group with members is the one refusal that needs a hint: the broker says so, the user must stop it.
      throw result!.errorCode === "GROUP_ID_NOT_FOUND" ? failed(`group ${groupId} does not exist`) : result!.error;
    }
    case "reset-offsets": {
      const topic = stringOption(values, "topic")!;
      const partition = integerOption(values, "partition", command);
      const toOffset = integerOption(values, "to-offset", command);
      const [description] = await admin.describeTopics({ topics: [topic] });
      const partitions = description!.partitions.filter((p) => partition === undefined || p.partition === partition);
      if (partitions.length === 0) throw failed(`topic ${topic} has no partition ${partition} (it has ${description!.partitions.length})`);
      const target = (p: (typeof partitions)[number]) =>
        values["to-earliest"] === true ? p.logStartOffset : values["to-latest"] === true ? p.highWatermark : toOffset!;
      for (const p of partitions) {
        const offset = target(p);
        if (offset < p.logStartOffset || offset > p.highWatermark) {
          throw failed(`offset ${offset} is outside partition ${p.partition}'s range [${p.logStartOffset}, ${p.highWatermark}] in topic ${topic}`);
        }
      }
      await admin.setOffsets({ groupId, topic, partitions: partitions.map((p) => ({ partition: p.partition, offset: target(p) })) });
      const [after] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const rows = after!.partitions
        .filter((p) => partition === undefined || p.partition === partition)
        .map((p) => ({ topic, partition: p.partition, offset: p.offset, highWatermark: p.highWatermark, lag: p.lag }));
      await write(
        context.stdout,
        json
          ? jsonLine(rows)
          : table(
              ["TOPIC", "PARTITION", "NEW-OFFSET", "HIGH-WATERMARK", "LAG"],
              rows.map((r) => [r.topic, r.partition, r.offset ?? "-", r.highWatermark, r.lag]),
            ),
      );
      return;
    }
  }
}

function checkResetOptions(values: Record<string, string | boolean | undefined>, command: string): void {
  if (values.help === true) return;
  if (stringOption(values, "topic") === undefined) throw usage("--topic T is required", command);
  const targets = ["to-earliest", "to-latest", "to-offset"].filter((name) => values[name] !== undefined);
  if (targets.length !== 1) throw usage("give exactly one of --to-earliest, --to-latest and --to-offset O", command);
}

function describeText(g: GroupDescription): string {
  const owners = new Map<string, string>();
  for (const m of g.members) for (const a of m.assignment) for (const p of a.partitions) owners.set(`${a.topic}:${p}`, m.memberId);
  let text = `group ${g.groupId}  state ${g.state}  epoch ${g.groupEpoch}  members ${g.members.length}\n`;
  if (g.members.length > 0) {
    text +=
      "\n" +
      table(
        ["MEMBER-ID", "INSTANCE-ID", "STATE", "ASSIGNMENT"],
        g.members.map((m) => [
          m.memberId,
          m.instanceId ?? "-",
          m.state,
          m.assignment.map((a) => `${a.topic}:${a.partitions.join(",")}`).join(" ") || "-",
        ]),
      );
  }
  if (g.offsets.length > 0) {
    const offsets = [...g.offsets].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    text +=
      "\n" +
      table(
        ["TOPIC", "PARTITION", "COMMITTED", "HIGH-WATERMARK", "LAG", "OWNER"],
        offsets.map((o) => [o.topic, o.partition, o.committedOffset ?? "-", o.highWatermark, o.lag, owners.get(`${o.topic}:${o.partition}`) ?? "-"]),
      );
  }
  return text;
}
