// A group consumer in its own process, for the history test (so that it can really be killed):
//   consumer-child.ts '{"url", "topic", "groupId", "name", "sessionTimeoutMs"}'
// Prints one line per event, each with Date.now() last:
//   d <partition> <offset> <value> <at>   a record handed to the handler
//   c <partition> <offset> <at>           a commit the broker acknowledged (offset: the next to read)
//   x <message>                           the consumer stopped (crash, or run() failed); the process exits 3
import { createClient } from "../../src/index.js";

const { url, topic, groupId, sessionTimeoutMs } = JSON.parse(process.argv[2]!) as {
  url: string;
  topic: string;
  groupId: string;
  sessionTimeoutMs: number;
};
const out = (line: string) => process.stdout.write(`${line}\n`); // a pipe: written synchronously on Linux

const consumer = createClient({ brokers: url }).consumer({
  groupId,
  sessionTimeoutMs,
  fromBeginning: true,
  maxWaitTimeMs: 200,
  maxRecords: 40,
  messageFormat: "text",
});
const stop = (error: unknown) => {
  out(`x ${(error as Error).message.replaceAll("\n", " ")}`);
  process.exit(3);
};
consumer.on("crash", ({ error }) => stop(error));
try {
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, isStale }) => {
      let next = -1;
      for (const message of batch.messages) {
        if (isStale()) break;
        out(`d ${batch.partition} ${message.offset} ${message.value} ${Date.now()}`);
        next = message.offset + 1;
      }
      if (next < 0) return;
      try {
        await consumer.commitOffsets([{ topic, partition: batch.partition, offset: next }]);
        out(`c ${batch.partition} ${next} ${Date.now()}`);
      } catch {
        // Fenced, revoked or the broker is away: not acknowledged, so the records may come again.
      }
    },
  });
} catch (error) {
  stop(error);
}
