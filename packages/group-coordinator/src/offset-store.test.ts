import { describe, expect, it } from "vitest";
import { InMemoryOffsetStore, type TopicPartitionOffset } from "./offset-store.js";

describe("InMemoryOffsetStore", () => {
  it("returns nothing for a group that never committed", async () => {
    expect(await new InMemoryOffsetStore().committedOffsets("g")).toEqual([]);
  });

  it("keeps the latest offset per partition, sorted by topic then partition, per group", async () => {
    const store = new InMemoryOffsetStore();
    await store.commitOffsets("g", [
      { topic: "b", partition: 10, offset: 1 },
      { topic: "a", partition: 2, offset: 5 },
    ]);
    await store.commitOffsets("g", [
      { topic: "b", partition: 2, offset: 7 },
      { topic: "a", partition: 2, offset: 6 },
    ]);
    await store.commitOffsets("h", [{ topic: "a", partition: 2, offset: 100 }]);
    expect(await store.committedOffsets("g")).toEqual([
      { topic: "a", partition: 2, offset: 6 },
      { topic: "b", partition: 2, offset: 7 },
      { topic: "b", partition: 10, offset: 1 },
    ]);
    expect(await store.committedOffsets("h")).toEqual([{ topic: "a", partition: 2, offset: 100 }]);
  });

  it("copies on the way in and on the way out", async () => {
    const store = new InMemoryOffsetStore();
    const offsets: TopicPartitionOffset[] = [{ topic: "a", partition: 0, offset: 1 }];
    const pending = store.commitOffsets("g", offsets);
    offsets[0]!.offset = 99; // the caller reuses its array before the promise settles
    await pending;
    const read = await store.committedOffsets("g");
    (read[0] as TopicPartitionOffset).offset = 42;
    expect(await store.committedOffsets("g")).toEqual([{ topic: "a", partition: 0, offset: 1 }]);
  });
});
