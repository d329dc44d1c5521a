import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { LogStore } from "./log-store.js";
import type { TopicChangeEvent } from "./topic-events.js";

describe("LogStore.onTopicChange", () => {
  it("tells every create, grow and delete once it has taken effect", async () => {
    await using store = await LogStore.open({ dataDir: tempDir(), fsync: "never" });
    const seen: Array<TopicChangeEvent & { described: number | string }> = [];
    store.onTopicChange((event) => {
      // The store already answers for the new state.
      let described: number | string;
      try {
        described = store.describeTopic(event.topic).partitions.length;
      } catch (error) {
        described = (error as { code: string }).code;
      }
      seen.push({ ...event, described });
    });
    await store.createTopic("orders", { partitions: 2 });
    await store.addPartitions("orders", 5);
    await store.deleteTopic("orders");
    expect(seen).toEqual([
      { type: "created", topic: "orders", partitions: 2, described: 2 },
      { type: "partitionsAdded", topic: "orders", partitions: 5, described: 5 },
      { type: "deleted", topic: "orders", partitions: 0, described: "UNKNOWN_TOPIC_OR_PARTITION" },
    ]);
  });

  it("tells nothing for a change that failed, nor for the topics found at open", async () => {
    const dataDir = tempDir();
    const first = await LogStore.open({ dataDir, fsync: "never" });
    await first.createTopic("kept", { partitions: 1 });
    await first.close();
    await using store = await LogStore.open({ dataDir, fsync: "never" });
    const seen: TopicChangeEvent[] = [];
    store.onTopicChange((event) => seen.push(event));
    await expect(store.createTopic("kept", { partitions: 1 })).rejects.toMatchObject({ code: "TOPIC_ALREADY_EXISTS" });
    await expect(store.addPartitions("kept", 1)).rejects.toMatchObject({ code: "INVALID_PARTITIONS" });
    await expect(store.deleteTopic("missing")).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    expect(seen).toEqual([]);
  });

  it("unsubscribes, keeps telling the others when one listener throws or unsubscribes while told", async () => {
    await using store = await LogStore.open({ dataDir: tempDir(), fsync: "never" });
    const seen: string[] = [];
    const unsubscribeA = store.onTopicChange((e) => {
      seen.push(`a:${e.topic}`);
      unsubscribeA(); // during the emit: b and c must still hear of this change
    });
    store.onTopicChange((e) => {
      seen.push(`b:${e.topic}`);
      throw new Error("listener bug");
    });
    const unsubscribeC = store.onTopicChange((e) => seen.push(`c:${e.topic}`));
    // The throwing listener does not fail the change.
    await expect(store.createTopic("t1", { partitions: 1 })).resolves.toMatchObject({ name: "t1" });
    unsubscribeC();
    unsubscribeC(); // idempotent
    await store.createTopic("t2", { partitions: 1 });
    expect(seen).toEqual(["a:t1", "b:t1", "c:t1", "b:t2"]);
    expect(() => store.onTopicChange("nope" as never)).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
  });
});
