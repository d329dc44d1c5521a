// A writer process for the crash test: appends forever with fsync "always" from several concurrent
// producers and prints one line per *resolved* append. stdout is a pipe, which Node writes
// synchronously on Linux, so a printed ack was printed after the append resolved.
import { LogStore } from "../../src/index.js";

const [dataDir, round] = process.argv.slice(2) as [string, string];
const store = await LogStore.open({ dataDir, segmentBytes: 16 * 1024 });
if (!store.listTopics().includes("crash")) await store.createTopic("crash", { partitions: 2 });
process.stdout.write("ready\n");

async function producer(id: number): Promise<never> {
  for (let seq = 0; ; seq++) {
    const partition = (id + seq) % 2;
    const count = 1 + ((id * 31 + seq) % 4);
    const values = Array.from({ length: count }, (_, k) => `${round}/${id}/${seq}/${k}`);
    const { baseOffset } = await store.append(
      "crash",
      partition,
      values.map((value) => ({ key: `p${id}`, value })),
    );
    process.stdout.write(`ack ${partition} ${baseOffset} ${values.join(",")}\n`);
  }
}

await Promise.all(Array.from({ length: 8 }, (_, id) => producer(id)));
