import type { Producer } from "../../src/index.js";

/**
 * Produces `count` text records to `topic`, keyed `k<i % keys>` with value `<i>`, in sends of `perSend`;
 * resolves with every record's partition and offset (index = record number).
 */
export async function produceNumbered(
  producer: Producer,
  topic: string,
  count: number,
  options: { keys?: number; perSend?: number; from?: number } = {},
) {
  const { keys = 24, perSend = 50, from = 0 } = options;
  const sends = [];
  for (let start = from; start < from + count; start += perSend) {
    const messages = [];
    for (let i = start; i < Math.min(from + count, start + perSend); i++) messages.push({ key: `k${i % keys}`, value: String(i) });
    sends.push(producer.send({ topic, messages }));
  }
  return (await Promise.all(sends)).flat();
}
