// The workload and checker of power-loss.test.ts (a module of its own so that it can also be profiled or
// run for many more seeds outside vitest).
import { LogStore } from "../../src/log-store.js";
import { runCrashPoints, type Session } from "./crash-points.js";
import { text } from "./text.js";

interface TopicModel {
  name: string;
  createAcked: boolean;
  deleteAttempted: boolean;
  deleteAcked: boolean;
  /** Partition counts in the order they were asked for; [0] is the count at creation. */
  counts: number[];
  /** Index into `counts` of the last acknowledged one (-1 while the creation is unacknowledged). */
  countAcked: number;
  /** Per partition, record values in append-call order (the order offsets are assigned in). */
  attempted: string[][];
  /** Per partition, one past the highest acknowledged offset. */
  acked: number[];
}

interface GroupModel {
  /** Each commit request's resulting state (key `topic/partition`), in call order; deletions are empty maps. */
  requests: Array<Map<string, number>>;
  /** Index of the last acknowledged request (-1: none). */
  acked: number;
}

interface Model {
  topics: TopicModel[];
  groups: Map<string, GroupModel>;
  /** Problems seen while the workload ran (an offset that differs from its call order, ...). */
  violations: string[];
}

const OPTIONS = { segmentBytes: 1024, indexIntervalBytes: 128, retentionCheckIntervalMs: 0, now: () => 1_700_000_000_000 } as const;
/**
 * Odd seeds run with the smallest descriptor pool: segment and index files are closed and reopened all the
 * time, so fsyncs go through descriptors other than the ones that wrote.
 */
const optionsFor = (dataDir: string, seed: number) => ({
  dataDir,
  ...OPTIONS,
  ...(seed % 2 === 1 ? { maxOpenFiles: 4 } : {}),
  // Every fourth seed (2, 6, 10, ...) writes through the store-wide journal (see INTERNAL for its small sizes).
  ...(seed % 4 === 2 ? { journal: true } : {}),
});
/** Journal seeds also write to a topic of this many partitions, so that a round spans many of them. */
const journalPartitions = (seed: number) => (seed % 4 === 2 ? 50 + (seed % 7) * 25 : 0);

/** Runs the workload, recording in `model` what was asked and what was acknowledged. */
async function workload(session: Session, rand: () => number, model: Model, seed: number): Promise<Model> {
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(rand() * items.length)];
  const live = () => model.topics.filter((t) => t.createAcked && !t.deleteAttempted);

  const createTopic = async (partitions: number): Promise<void> => {
    const topic: TopicModel = {
      name: `t${model.topics.length + 1}`,
      createAcked: false,
      deleteAttempted: false,
      deleteAcked: false,
      counts: [partitions],
      countAcked: -1,
      attempted: [],
      acked: [],
    };
    model.topics.push(topic);
    await session.store.createTopic(topic.name, { partitions });
    topic.createAcked = true;
    topic.countAcked = 0;
    for (let p = 0; p < partitions; p++) (topic.attempted.push([]), topic.acked.push(0));
  };

  const append = async (topic: TopicModel, partition: number): Promise<void> => {
    const count = 1 + Math.floor(rand() * 4);
    const values: string[] = [];
    const attempted = topic.attempted[partition]!;
    const first = attempted.length;
    for (let i = 0; i < count; i++) values.push(`${topic.name}/${partition}/${first + i}/${"x".repeat(Math.floor(rand() * 160))}`);
    attempted.push(...values);
    const { baseOffset, lastOffset } = await session.store.append(
      topic.name,
      partition,
      values.map((value) => ({ value })),
    );
    if (baseOffset !== first || lastOffset !== first + count - 1)
      model.violations.push(`${topic.name}/${partition}: append got offsets ${baseOffset}..${lastOffset}, expected ${first}..${first + count - 1}`);
    topic.acked[partition] = Math.max(topic.acked[partition]!, lastOffset + 1);
  };

  /** One `appendMany` call: 1-4 records to each of `partitions` (in that order; a partition may repeat). */
  const appendMany = async (topic: TopicModel, partitions: readonly number[]): Promise<void> => {
    const expected: Array<[number, number]> = [];
    const appends = partitions.map((partition) => {
      const attempted = topic.attempted[partition]!;
      const first = attempted.length;
      const values = Array.from(
        { length: 1 + Math.floor(rand() * 4) },
        (_, i) => `${topic.name}/${partition}/${first + i}/${"x".repeat(Math.floor(rand() * 160))}`,
      );
      attempted.push(...values);
      expected.push([first, first + values.length - 1]);
      return { partition, records: values.map((value) => ({ value })) };
    });
    const results = await session.store.appendMany(topic.name, appends);
    results.forEach(({ baseOffset, lastOffset }, i) => {
      const partition = partitions[i]!;
      const [first, last] = expected[i]!;
      if (baseOffset !== first || lastOffset !== last)
        model.violations.push(
          `${topic.name}/${partition}: appendMany item ${i} got offsets ${baseOffset}..${lastOffset}, expected ${first}..${last}`,
        );
      topic.acked[partition] = Math.max(topic.acked[partition]!, lastOffset + 1);
    });
  };

  const group = (id: string): GroupModel => {
    let g = model.groups.get(id);
    if (!g) model.groups.set(id, (g = { requests: [], acked: -1 }));
    return g;
  };

  const commit = async (groupId: string): Promise<void> => {
    const first = model.topics[0]!;
    const g = group(groupId);
    const offsets = first.acked.slice(0, 2).map((offset, partition) => ({ topic: first.name, partition, offset }));
    const state = new Map(offsets.map((o) => [`${o.topic}/${o.partition}`, o.offset]));
    const previous = g.requests.at(-1);
    // Only distinct states, so the recovered state says which request it came from.
    if (previous && previous.size === state.size && [...state].every(([k, v]) => previous.get(k) === v)) return;
    const index = g.requests.push(state) - 1;
    await session.store.commitOffsets(groupId, offsets);
    g.acked = Math.max(g.acked, index);
  };

  const deleteGroup = async (groupId: string): Promise<void> => {
    const g = group(groupId);
    if (g.requests.length === 0 || g.requests.at(-1)!.size === 0) return;
    const index = g.requests.push(new Map()) - 1;
    await session.store.deleteGroup(groupId);
    g.acked = Math.max(g.acked, index);
  };

  try {
    await createTopic(2);
  } catch {
    return model;
  }
  const wide = journalPartitions(seed);
  if (wide > 0) {
    try {
      await createTopic(wide);
    } catch {
      return model;
    }
  }
  for (let step = 0; step < 24; step++) {
    // A clean restart halfway: the second half runs on partitions opened lazily from the clean-shutdown
    // marker, so the power also fails while the marker is written, read and removed, and after it.
    if (step === 12) {
      try {
        await session.reopen();
      } catch {
        return model; // the power failed while closing or opening
      }
    }
    const store = session.store;
    const burst: Array<Promise<unknown>> = [];
    const size = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < size; i++) {
      const r = rand();
      const topics = live();
      if (r < 0.55) {
        const topic = pick(topics.filter((t) => t.countAcked >= 0));
        const many = rand() < 0.4; // one appendMany call instead of one append per partition
        const count = topic?.counts[topic.countAcked];
        if (topic && topic.counts[0]! >= 50) {
          // One append to each of a few dozen partitions of the wide topic, in one round.
          const partitions = Array.from({ length: 30 }, () => Math.floor(rand() * count!));
          if (many) burst.push(appendMany(topic, partitions));
          else for (const partition of partitions) burst.push(append(topic, partition));
        } else if (topic && many)
          burst.push(
            appendMany(
              topic,
              Array.from({ length: 1 + Math.floor(rand() * 4) }, () => Math.floor(rand() * count!)),
            ),
          );
        else if (topic) burst.push(append(topic, Math.floor(rand() * count!)));
      } else if (r < 0.72) burst.push(commit(pick(["g1", "g2"])!));
      else if (r < 0.76) burst.push(deleteGroup(pick(["g1", "g2"])!));
      else if (r < 0.84) {
        const topic = pick(topics.filter((t) => t.counts.at(-1)! < 4 && t.countAcked === t.counts.length - 1));
        if (topic) {
          const count = topic.counts.at(-1)! + 1;
          const index = topic.counts.push(count) - 1;
          burst.push(
            store.addPartitions(topic.name, count).then(() => {
              topic.countAcked = index;
              while (topic.attempted.length < count) (topic.attempted.push([]), topic.acked.push(0));
            }),
          );
        }
      } else if (r < 0.92) {
        if (model.topics.length < 6) burst.push(createTopic(1 + Math.floor(rand() * 2)));
      } else {
        const topic = pick(topics.filter((t) => t !== model.topics[0]));
        if (topic) {
          topic.deleteAttempted = true;
          burst.push(store.deleteTopic(topic.name).then(() => (topic.deleteAcked = true)));
        }
      }
    }
    await Promise.allSettled(burst);
  }
  return model;
}

async function readAll(store: LogStore, topic: string, partition: number): Promise<Array<[number, string]>> {
  const out: Array<[number, string]> = [];
  const { highWatermark } = store.describeTopic(topic).partitions[partition]!;
  for (let offset = 0; offset < highWatermark;) {
    const { records, nextOffset } = await store.read(topic, partition, offset, { maxRecords: 10_000 });
    for (const r of records) out.push([r.offset, text(r.value)!]);
    offset = nextOffset;
  }
  return out;
}

/** Checks the recovered store against what was acknowledged; returns the problems found. */
async function check(store: LogStore, model: Model): Promise<string[]> {
  const problems = [...model.violations];
  const present = new Set(store.listTopics());
  for (const topic of model.topics) {
    const exists = present.has(topic.name);
    if (topic.deleteAcked && exists) problems.push(`${topic.name}: deleted (acknowledged) but present`);
    if (topic.createAcked && !topic.deleteAttempted && !exists) problems.push(`${topic.name}: created (acknowledged) but missing`);
    if (!exists) continue;
    const partitions = store.describeTopic(topic.name).partitions;
    const allowed = topic.counts.slice(Math.max(0, topic.countAcked));
    if (!allowed.includes(partitions.length))
      problems.push(`${topic.name}: ${partitions.length} partitions, expected one of ${allowed.join(", ")} (metadata neither old nor new)`);
    for (let p = 0; p < partitions.length; p++) {
      const stored = await readAll(store, topic.name, p);
      const attempted = topic.attempted[p] ?? [];
      const acked = topic.acked[p] ?? 0;
      if (partitions[p]!.logEndOffset !== stored.length || partitions[p]!.highWatermark !== stored.length)
        problems.push(`${topic.name}/${p}: log end ${partitions[p]!.logEndOffset}, readable ${stored.length}`);
      stored.forEach(([offset, value], i) => {
        if (offset !== i) problems.push(`${topic.name}/${p}: offset ${offset} at position ${i} (offsets not dense)`);
        if (value !== attempted[i])
          problems.push(`${topic.name}/${p}: offset ${i} holds ${value.slice(0, 24)}, expected ${attempted[i]?.slice(0, 24)}`);
      });
      if (stored.length < acked) problems.push(`${topic.name}/${p}: ${stored.length} records survived, ${acked} were acknowledged`);
    }
  }
  for (const [groupId, g] of model.groups) {
    const recovered = new Map((await store.committedOffsets(groupId)).map((o) => [`${o.topic}/${o.partition}`, o.offset]));
    const candidates = [...(g.acked < 0 ? [new Map<string, number>()] : []), ...g.requests.slice(Math.max(0, g.acked))];
    const same = (a: Map<string, number>, b: Map<string, number>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
    if (!candidates.some((c) => same(c, recovered)))
      problems.push(
        `group ${groupId}: committed ${JSON.stringify([...recovered])}, expected one of ${JSON.stringify(candidates.map((c) => [...c]))}`,
      );
  }
  return problems;
}

/** Rewrite the offsets log often, so that power also fails in the middle of compactions. */
const INTERNAL = { compactOffsetsAfter: 6, journal: { journalBytes: 8192, writeBackBytes: 2048 } };

/**
 * Runs one seed: counts the workload's file operations, then reruns it `crashPoints` times with the power
 * failing at one operation of each of that many equal slices of the run, and checks each recovered disk
 * (and that it takes appends densely at every partition's end).
 */
export async function runCase(dataDir: string, seed: number, crashPoints = 1): Promise<void> {
  await runCrashPoints(dataDir, seed, crashPoints, {
    replayVariable: "CRASH_SEED",
    pickSalt: 0x9e3779b9,
    open: (fs) => LogStore.openWith(optionsFor(dataDir, seed), fs, INTERNAL),
    model: (): Model => ({ topics: [], groups: new Map(), violations: [] }),
    run: async (session, rand, model) => void (await workload(session, rand, model, seed)),
    async check(recovered, _disk, model) {
      const problems = await check(recovered, model);
      // The recovered log is writable, densely: the next append lands right after what survived.
      for (const name of recovered.listTopics()) {
        for (const { partition, logEndOffset } of recovered.describeTopic(name).partitions) {
          const { baseOffset } = await recovered.append(name, partition, [{ value: "after" }]);
          if (baseOffset !== logEndOffset)
            problems.push(`${name}/${partition}: append after recovery got offset ${baseOffset}, expected ${logEndOffset}`);
        }
      }
      return problems;
    },
  });
}
