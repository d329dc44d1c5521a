import { randomUUID } from "node:crypto";
import type { EachBatchPayload, KafkaMessage } from "@minikafka/client";
import { integerOption, JSON_OPTION, parseCommand, stringOption } from "../args.js";
import { ByteSink } from "../byte-sink.js";
import { failed, usage } from "../cli-error.js";
import { connect, type Context } from "../context.js";
import { compileFormat, DEFAULT_FORMAT } from "../message-format.js";
import { jsonLine, write } from "../output.js";

/** Options of `consume`. */
export const CONSUME_OPTIONS = {
  ...JSON_OPTION,
  group: { type: "string" },
  "from-beginning": { type: "boolean" },
  partition: { type: "string" },
  offset: { type: "string" },
  "max-messages": { type: "string" },
  format: { type: "string" },
} as const;

const decoder = new TextDecoder();
const text = (bytes: Uint8Array | null) => (bytes === null ? null : decoder.decode(bytes));

/**
 * Runs `minikafka consume TOPIC`.
 *
 * With `--group`, it is a member of that group with the client's auto-commit, and marks a record
 * processed only once it was written to stdout: what the group commits (after each batch, and on
 * Ctrl-C or `--max-messages` when it leaves) is exactly what was printed. Without `--group`, it reads
 * as the only member of a fresh group of its own (`minikafka-cli-<random>`), seeking where it was told
 * and committing nothing: the client has no group-less reader, and a member of a one-member group owns
 * every partition at once.
 */
export async function consume(context: Context, args: readonly string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, CONSUME_OPTIONS, "consume", ["TOPIC"]);
  const topic = positionals[0]!;
  const groupId = stringOption(values, "group");
  const fromBeginning = values["from-beginning"] === true;
  const partition = integerOption(values, "partition", "consume");
  const offset = integerOption(values, "offset", "consume");
  const maxMessages = integerOption(values, "max-messages", "consume", 1);
  const format = stringOption(values, "format");
  const json = values.json === true;
  if (groupId === "") throw usage("--group must not be empty", "consume");
  if (groupId !== undefined && (partition !== undefined || offset !== undefined)) {
    throw usage("--partition and --offset read without a group: not with --group", "consume");
  }
  if (offset !== undefined && partition === undefined) throw usage("--offset needs --partition", "consume");
  if (offset !== undefined && fromBeginning) throw usage("give --offset or --from-beginning, not both", "consume");
  if (json && format !== undefined) throw usage("give --format or --json, not both", "consume");
  const formatter = json ? undefined : compileFormat(format ?? DEFAULT_FORMAT);

  const client = connect(context, values, "consume");
  const [description] = await client.admin().describeTopics({ topics: [topic] });
  const partitions = description!.partitions;
  if (partition !== undefined && partition >= partitions.length) {
    throw failed(`topic ${topic} has no partition ${partition} (it has ${partitions.length})`);
  }

  const inGroup = groupId !== undefined;
  const consumer = client.consumer({
    groupId: groupId ?? `minikafka-cli-${randomUUID()}`,
    // Without a group: always from the log start where nothing is committed (so nothing is committed
    // for "the end" either), then seek.
    fromBeginning: inGroup ? fromBeginning : true,
  });
  await consumer.subscribe({ topics: [topic] });
  if (!inGroup) {
    for (const p of partitions) {
      if (partition !== undefined && p.partition !== partition) continue;
      const start = offset ?? (fromBeginning ? p.logStartOffset : p.highWatermark);
      if (start !== p.logStartOffset) consumer.seek({ topic, partition: p.partition, offset: start });
    }
    if (partition !== undefined) {
      const others = partitions.map((p) => p.partition).filter((p) => p !== partition);
      if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
    }
  }

  const topicBytes = Buffer.from(topic, "utf8");
  const sink = new ByteSink();
  let remaining = maxMessages ?? Number.POSITIVE_INFINITY;
  let stopping = false;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const finish = () => {
    stopping = true;
    stop();
  };
  let crash: unknown;
  consumer.on("crash", ({ error }) => {
    crash = error;
    finish();
  });
  // A closed stdout (`| head`): stop as if the reader had asked for no more.
  const onOutputError = () => finish();
  context.stdout.on("error", onOutputError);
  const onAbort = () => finish();
  context.signal.addEventListener("abort", onAbort, { once: true });

  const eachBatch = async ({ batch, resolveOffset, isStale }: EachBatchPayload<Uint8Array>) => {
    if (stopping || isStale()) return;
    const messages = batch.messages;
    const n = Math.min(messages.length, remaining);
    if (n === 0) return;
    let out: string | Buffer;
    if (formatter !== undefined) {
      for (let i = 0; i < n; i++) formatter(sink, topicBytes, batch.partition, messages[i]!);
      out = sink.take();
    } else {
      out = "";
      for (let i = 0; i < n; i++) out += jsonLine(toJson(topic, batch.partition, messages[i]!));
    }
    const written = write(context.stdout, out);
    // Printed (handed to stdout): from here on these records count as processed and get committed.
    resolveOffset(messages[n - 1]!.offset);
    remaining -= n;
    if (remaining === 0) finish();
    await written;
  };

  try {
    await consumer.run({ eachBatch, eachBatchAutoResolve: false, autoCommit: inGroup });
    await stopped;
  } finally {
    context.signal.removeEventListener("abort", onAbort);
    // Finishes the batch being printed, commits what was printed (with a group), leaves the group.
    await consumer.disconnect();
    context.stdout.off("error", onOutputError);
  }
  if (crash !== undefined) throw crash;
}

function toJson(topic: string, partition: number, m: KafkaMessage<Uint8Array>) {
  const headers: Record<string, string | null> = {};
  for (const name in m.headers) headers[name] = text(m.headers[name]!);
  return { topic, partition, offset: m.offset, timestamp: m.timestamp, key: text(m.key), value: text(m.value), headers };
}
