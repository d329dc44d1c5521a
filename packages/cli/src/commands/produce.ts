import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import type { ProducerMessage } from "@minikafka/client";
import { integerOption, JSON_OPTION, parseCommand, stringOption } from "../args.js";
import { CliError, failed, usage } from "../cli-error.js";
import { connect, type Context } from "../context.js";
import { count, jsonLine, write } from "../output.js";
import { Progress } from "../progress.js";

/** Options of `produce`. */
export const PRODUCE_OPTIONS = {
  ...JSON_OPTION,
  file: { type: "string" },
  "key-separator": { type: "string" },
  partition: { type: "string" },
} as const;

// Bounded memory: input is read only while fewer than this many bytes of lines are waiting to be stored.
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
const READ_CHUNK_BYTES = 256 * 1024;

interface PendingSend {
  promise: Promise<void>;
  bytes: number;
}

/**
 * Runs `minikafka produce TOPIC`: each input line becomes one record. Lines are read in chunks; each
 * chunk's lines go to the producer in one `send()` (the producer batches them into requests), and
 * reading pauses while {@link MAX_PENDING_BYTES} are not yet acknowledged. On Ctrl-C, reading stops, what
 * was read is still sent, and the command fails with the count.
 */
export async function produce(context: Context, args: readonly string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, PRODUCE_OPTIONS, "produce", ["TOPIC"]);
  const topic = positionals[0]!;
  const file = stringOption(values, "file");
  const separator = stringOption(values, "key-separator");
  if (separator === "") throw usage("--key-separator must not be empty", "produce");
  const partition = integerOption(values, "partition", "produce");
  const client = connect(context, values, "produce");

  const [description] = await client.admin().describeTopics({ topics: [topic] });
  if (partition !== undefined && partition >= description!.partitions.length) {
    throw failed(`topic ${topic} has no partition ${partition} (it has ${description!.partitions.length})`);
  }
  let input: Readable;
  if (file === undefined) input = context.stdin;
  else {
    input = createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
    await new Promise<void>((resolve, reject) => {
      input.once("open", () => resolve());
      input.once("error", (error: NodeJS.ErrnoException) => reject(failed(`cannot read ${file}: ${error.code ?? error.message}`)));
    });
  }
  const tty = (context.stderr as { isTTY?: boolean }).isTTY === true;
  const total = tty && file !== undefined ? await countLines(file) : undefined;
  const progress = tty ? new Progress(context.stderr, total) : undefined;

  const producer = client.producer();
  const pending: PendingSend[] = [];
  let pendingBytes = 0;
  let sent = 0;
  let failure: unknown;
  const toMessage = (line: string): ProducerMessage => {
    let message: ProducerMessage;
    if (separator === undefined) message = { value: line };
    else {
      const at = line.indexOf(separator);
      message = at < 0 ? { value: line } : { key: line.slice(0, at), value: line.slice(at + separator.length) };
    }
    if (partition !== undefined) message.partition = partition;
    return message;
  };
  const send = (lines: string[], bytes: number) => {
    const promise = producer.send({ topic, messages: lines.map(toMessage) }).then(
      (stored) => {
        sent += stored.length;
        if (progress !== undefined) progress.sent = sent;
      },
      (error: unknown) => {
        failure ??= error;
      },
    );
    pending.push({ promise, bytes });
    pendingBytes += bytes;
  };
  const settleOldest = async () => {
    const oldest = pending.shift()!;
    await oldest.promise;
    pendingBytes -= oldest.bytes;
  };

  input.setEncoding("utf8"); // a StringDecoder inside: multi-byte characters split across chunks stay whole
  let rest = "";
  let interrupted = false;
  // Ctrl-C: stop reading (also while waiting for input on a terminal); lines already read are still sent.
  const onAbort = () => {
    interrupted = true;
    input.destroy();
  };
  if (context.signal.aborted) onAbort();
  else context.signal.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      const text = rest + chunk;
      const lines = text.split("\n");
      rest = lines.pop()!;
      if (lines.length > 0) send(lines, text.length - rest.length);
      while (pendingBytes > MAX_PENDING_BYTES && failure === undefined) await settleOldest();
      if (failure !== undefined || interrupted) break;
    }
  } catch (error) {
    if (!interrupted) failure ??= failed(`cannot read ${file ?? "stdin"}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  } finally {
    context.signal.removeEventListener("abort", onAbort);
    if (failure !== undefined) input.destroy();
  }
  if (rest !== "" && !interrupted && failure === undefined) send([rest], rest.length);
  while (pending.length > 0) await settleOldest();
  await producer.disconnect();
  if (failure !== undefined) {
    progress?.stop(`failed after ${count(sent)} records`);
    throw failure;
  }
  progress?.stop(`sent ${count(sent)} records to ${topic}`);
  if (values.json === true) await write(context.stdout, jsonLine({ topic, records: sent }));
  if (interrupted) throw new CliError("INTERRUPTED", `interrupted: ${sent} records sent to ${topic}, the rest of the input was not read`);
}

/** Lines in a file (a last line without a newline counts), for the progress total. */
async function countLines(file: string): Promise<number> {
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    for (let at = chunk.indexOf(0x0a); at >= 0; at = chunk.indexOf(0x0a, at + 1)) lines++;
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
  }
  return last === 0x0a ? lines : lines + 1;
}
