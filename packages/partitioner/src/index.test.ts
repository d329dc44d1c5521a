import { describe, expect, it } from "vitest";
import * as api from "./index.js";

describe("public surface", () => {
  it("exports exactly the documented runtime values", () => {
    expect(Object.keys(api).sort()).toEqual([
      "DEFAULT_STICKY_BATCH_SIZE",
      "PartitionerError",
      "createDefaultPartitioner",
      "createKeyHashPartitioner",
      "createRoundRobinPartitioner",
      "createStickyPartitioner",
      "isPartitionerError",
      "murmur2",
      "partitionForKey",
    ]);
  });
});
