import { type Assignment, type Assignor, GroupCoordinator, InMemoryOffsetStore, ManualClock } from "@minikafka/group-coordinator";

export interface SetupOptions {
  readonly topics?: Record<string, number>;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly minSessionTimeoutMs?: number;
  readonly maxSessionTimeoutMs?: number;
  readonly assignor?: Assignor;
}

/** A coordinator with a fake clock at 0, an in-memory store, ids `m-1`, `m-2`, … and a mutable topic table. */
export function setup(options: SetupOptions = {}) {
  const clock = new ManualClock(0);
  const store = new InMemoryOffsetStore();
  const counts = new Map(Object.entries(options.topics ?? { t: 4 }));
  let next = 0;
  const gc = new GroupCoordinator({
    clock,
    offsetStore: store,
    partitionCount: (topic) => counts.get(topic),
    sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3_000,
    minSessionTimeoutMs: options.minSessionTimeoutMs,
    maxSessionTimeoutMs: options.maxSessionTimeoutMs,
    generateMemberId: () => `m-${++next}`,
    ...(options.assignor === undefined ? {} : { assignor: options.assignor }),
  });
  return { gc, clock, store, counts };
}

/** `asg({ t: [0, 1] })` → `[{ topic: "t", partitions: [0, 1] }]` (topics in the order given). */
export function asg(spec: Record<string, number[]>): Assignment {
  return Object.entries(spec).map(([topic, partitions]) => ({ topic, partitions }));
}

/** Number of partitions in an assignment. */
export function count(assignment: Assignment): number {
  return assignment.reduce((s, { partitions }) => s + partitions.length, 0);
}
