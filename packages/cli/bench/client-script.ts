// The baseline of the CLI benchmark: the same work as `minikafka produce` / `minikafka consume`, written
// as a small script on @minikafka/client the way its README shows (run by cli.bench.ts, bundled):
//   client-script.js produce <broker> <topic> <file>
//   client-script.js consume <broker> <topic> <group> <count>     values to stdout, one per line
import { readFileSync } from "node:fs";
import { createClient } from "@minikafka/client";

const [mode, broker, topic, arg, count] = process.argv.slice(2) as [string, string, string, string, string | undefined];
const kafka = createClient({ brokers: broker });

if (mode === "produce") {
  const lines = readFileSync(arg, "utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();
  const producer = kafka.producer();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < lines.length; i += 1_000) {
    sends.push(producer.send({ topic, messages: lines.slice(i, i + 1_000).map((value) => ({ value })) }));
  }
  await Promise.all(sends);
  await producer.disconnect();
} else {
  let remaining = Number(count);
  const consumer = kafka.consumer({ groupId: arg, fromBeginning: true });
  await consumer.subscribe({ topics: [topic] });
  const newline = Buffer.from("\n");
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    eachBatch: async ({ batch, resolveOffset }) => {
      if (remaining <= 0) return;
      const messages = batch.messages.slice(0, remaining);
      const chunks: Uint8Array[] = [];
      for (const m of messages) if (m.value !== null) chunks.push(m.value, newline);
      process.stdout.write(Buffer.concat(chunks));
      resolveOffset(messages.at(-1)!.offset);
      remaining -= messages.length;
      if (remaining <= 0) done();
    },
    eachBatchAutoResolve: false,
  });
  await finished;
  await consumer.disconnect();
}
