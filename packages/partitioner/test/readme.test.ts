// The README's samples, run as written (only the package name points at the sources), each followed by a
// line that prints what its comments promise.
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { readmeSample, runSample, sourceOf } from "../../../test-support/readme-sample.js";

const README = fileURLToPath(new URL("../README.md", import.meta.url));
const pkg = sourceOf("partitioner");

async function run(index: number, prelude: string, check: string): Promise<string> {
  const result = await runSample([prelude, readmeSample(README, index, prelude === "" ? [pkg] : []), check].join("\n"));
  expect([result.exitCode, result.stderr]).toEqual([0, ""]);
  return result.stdout.trim();
}

it("runs the quick start: key hashing as Kafka's, explicit partitions win, keyless records stick", async () => {
  const printed = await run(
    0,
    "",
    `const sticky = new Set(Array.from({ length: 99 }, () => partition({ topic: "orders", key: null, partitionCount: 12 })));
console.log(partitionForKey("order-42", 12), partition({ topic: "orders", key, partitionCount: 12 }), partition({ topic: "orders", key: null, partitionCount: 12, partition: 3 }), sticky.size);`,
  );
  expect(printed).toBe("0 0 3 1");
});

it("runs the sticky sample: batches of 3, reproducible with `random`", async () => {
  const printed = await run(
    1,
    `import { createStickyPartitioner } from ${pkg[1]};`,
    `console.log(Array.from({ length: 9 }, () => sticky({ topic: "t", key: null, partitionCount: 4 })).join(" "));`,
  );
  expect(printed).toBe("0 0 0 1 1 1 0 0 0");
});

it("runs the custom keyless strategy sample", async () => {
  const printed = await run(
    2,
    `import { createDefaultPartitioner, createRoundRobinPartitioner, type Partitioner } from ${pkg[1]};`,
    `console.log(partition({ topic: "audit", key: null, partitionCount: 4 }), partition({ topic: "audit", key: null, partitionCount: 4 }), partition({ topic: "orders", key: null, partitionCount: 4 }), partition({ topic: "orders", key: null, partitionCount: 4 }));`,
  );
  expect(printed).toBe("0 0 0 1");
});
