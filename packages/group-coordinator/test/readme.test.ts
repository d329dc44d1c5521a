import { expect, it } from "vitest";
import { GroupCoordinator, InMemoryOffsetStore, ManualClock } from "@minikafka/group-coordinator";

it("runs the README quick start", async () => {
  const clock = new ManualClock(0);
  const gc = new GroupCoordinator({ clock, offsetStore: new InMemoryOffsetStore(), partitionCount: (topic) => (topic === "orders" ? 6 : undefined) });
  const { memberId, memberEpoch, assignment } = gc.join("billing", { topics: ["orders"] });
  const r = gc.heartbeat("billing", memberId, { memberEpoch, ownedPartitions: assignment });
  await gc.commitOffsets("billing", { memberId, memberEpoch: r.memberEpoch, offsets: [{ topic: "orders", partition: 0, offset: 42 }] });
  expect(r).toMatchObject({ memberEpoch: 1, assignment: [{ topic: "orders", partitions: [0, 1, 2, 3, 4, 5] }], heartbeatIntervalMs: 5_000 });
  expect(await gc.fetchOffsets("billing")).toEqual([{ topic: "orders", partition: 0, offset: 42 }]);
  clock.advance(45_001);
  expect(gc.tick()).toEqual([{ groupId: "billing", memberId, instanceId: undefined }]);
});
