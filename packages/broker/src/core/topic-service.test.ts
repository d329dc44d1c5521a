import { describe, expect, it } from "vitest";
import { LogStore } from "@minikafka/log-store";
import { tempDir } from "../../../../test-support/temp-dir.js";
import { TopicService } from "./topic-service.js";

describe("TopicService.describePartitionIfExists", () => {
  it("answers one partition through the store's describePartition, or from describeTopic when the store has none", async () => {
    const store = await LogStore.open({ dataDir: tempDir(), fsync: "never" });
    await store.createTopic("t", { partitions: 3 });
    await store.append("t", 1, [{ value: "a" }, { value: "b" }]);
    let described = 0;
    const withoutPartitionLookup = {
      createTopic: store.createTopic.bind(store),
      listTopics: store.listTopics.bind(store),
      describeTopic: (name: string) => (described++, store.describeTopic(name)),
      addPartitions: store.addPartitions.bind(store),
      deleteTopic: store.deleteTopic.bind(store),
    };
    for (const service of [new TopicService(store), new TopicService(withoutPartitionLookup)]) {
      expect(service.describePartitionIfExists("t", 1)).toEqual({
        partition: 1,
        logStartOffset: 0,
        logEndOffset: 2,
        highWatermark: 2,
        sizeBytes: expect.any(Number),
      });
      expect(service.describePartitionIfExists("t", 3)).toBeUndefined();
      expect(service.describePartitionIfExists("missing", 0)).toBeUndefined();
    }
    // Only the store without describePartition was asked for whole topics.
    expect(described).toBe(3);
    await store.close();
  });
});
