import { createRequire } from "node:module";
import { Partitioners } from "kafkajs";

const require = createRequire(import.meta.url);

/**
 * KafkaJS's Java-compatible murmur2 (used by its DefaultPartitioner; the LegacyPartitioner has a different,
 * non-Java hash). Deep import through require: the file is plain CommonJS without types.
 */
export const kafkajsMurmur2 = require("kafkajs/src/producer/partitioners/default/murmur2") as (key: Buffer | string) => number;

/**
 * Places keyed messages the way KafkaJS's public `Partitioners.DefaultPartitioner()` does, for a topic with
 * `partitionCount` partitions that all have a leader (fake metadata).
 */
export function kafkajsPartitioner(partitionCount: number): (key: Uint8Array | string) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
  }));
  return (key) => {
    const message = { key: typeof key === "string" ? key : Buffer.from(key), value: null };
    return partitioner({ topic: "t", partitionMetadata, message });
  };
}
