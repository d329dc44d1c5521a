// A producer process for the idempotent kill -9 test: an embedded store and one idempotent producer that
// sends the deterministic batches of idempotent-batches.ts from `firstIndex` on (a restart resends the
// ones its predecessor had not seen acknowledged, with the same sequences), up to 4 in flight, fsync
// "always". Prints `ack <index> <baseOffset> <lastOffset> <duplicate>` per resolved append (stdout is a
// pipe, written synchronously: a printed ack was printed after the append resolved).
import { LogStore } from "../../src/index.js";
import { batchAt } from "./idempotent-batches.js";

const [dataDir, producerId, firstIndex] = process.argv.slice(2) as [string, string, string];
const store = await LogStore.open({ dataDir, segmentBytes: 8 * 1024 });
process.stdout.write("ready\n");
const inflight = new Set<Promise<void>>();
for (let i = Number(firstIndex); ; i++) {
  const { values, sequence } = batchAt(i);
  const sent: Promise<void> = store
    .append(
      "idem",
      0,
      values.map((value) => ({ value })),
      { producer: { producerId: Number(producerId), producerEpoch: 0, sequence } },
    )
    .then(({ baseOffset, lastOffset, duplicate }) => {
      process.stdout.write(`ack ${i} ${baseOffset} ${lastOffset} ${duplicate === true}\n`);
    })
    .finally(() => inflight.delete(sent));
  inflight.add(sent);
  if (inflight.size >= 4) await Promise.race(inflight);
}
