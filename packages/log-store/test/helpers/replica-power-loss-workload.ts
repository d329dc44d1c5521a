// The workload and checker of replica-power-loss.test.ts: a partition's life as a replica on the simulated
// disk (crash-fs.ts). Leader appends stamped with a leader epoch that goes up from time to time, follower
// appends of batches "fetched" from a leader (encoded here with the leader's offsets and epoch), and
// truncations to a batch boundary (a follower cutting its divergent tail), resets of the whole log to a new
// start (truncateFullyAndStartAt: a follower behind, or diverged below, its leader's log start), with a clean
// restart halfway.
// The power fails at one operation; the disk that comes back keeps what was fsynced (and, at random, some
// of what was not).
//
// After recovery: open never refuses; every record acknowledged in the current history (the one after the
// last acknowledged truncation) below the point that truncation cut at is present, with the value it was
// appended with; what is stored is a prefix of the history being written (or, when the power failed during a
// truncation, of the history before it); when it failed during a reset, the log is the old one (every
// acknowledged record there) or the new empty one at the new start, nothing between; every stored batch carries
// the epoch it was appended with; in a replicated topic (the high watermark set to the durable end after each
// burst, checkpointed now and then) the high watermark comes back at least at the last value known checkpointed
// and never above the highest set in the current history; the
// leader-epoch checkpoint is one of the versions written since the last acknowledged one (old or new, never a
// mix) and answers endOffsetForEpoch as the stored batches imply; the recovered log takes appends at its end.
import { join } from "node:path";
import { LogStore } from "../../src/log-store.js";
import { LEADER_EPOCH_CHECKPOINT } from "../../src/leader-epoch-cache.js";
import { encodeBatch } from "../../src/record-batch.js";
import type { CrashFs } from "./crash-fs.js";
import { runCrashPoints, type Session } from "./crash-points.js";
import { text } from "./text.js";

const PARTITIONS = 2;
const NOW = 1_700_000_000_000;
const OPTIONS = { segmentBytes: 1024, indexIntervalBytes: 128, retentionCheckIntervalMs: 0, now: () => NOW } as const;
const INTERNAL = { journal: { journalBytes: 8192, writeBackBytes: 2048 } };
/**
 * Odd seeds: the smallest descriptor pool; every third seed: the store-wide journal; seeds 2, 7, 12, …: a
 * replicated topic (the high watermark set after each burst, checkpointed now and then).
 */
const optionsFor = (dataDir: string, seed: number) => ({
  dataDir,
  ...OPTIONS,
  ...(seed % 2 === 1 ? { maxOpenFiles: 4 } : {}),
  ...(seed % 3 === 0 ? { journal: true } : {}),
  ...(replicatedSeed(seed) ? { replicated: true, highWatermarkCheckpointIntervalMs: 2_000_000_000 } : {}),
});
const replicatedSeed = (seed: number): boolean => seed % 5 === 2;

interface PartitionModel {
  /** The log start: 0, or where the last acknowledged reset restarted the log. */
  start: number;
  /**
   * Value and epoch per offset of the history being written (in call order), since the last acknowledged
   * truncation; indexed by offset (empty below `start`).
   */
  history: Array<{ value: string; epoch: number }>;
  /**
   * Base offsets of the batches of `history` (truncations cut at one of them): one per append, until a
   * truncation reads the batches the store made of them (the journal coalesces appends).
   */
  batchStarts: number[];
  /** One past the highest acknowledged offset of `history`. */
  acked: number;
  /** The truncation in flight, if any: the history before it and the offset it cuts at. */
  truncating?: { before: Array<{ value: string; epoch: number }>; acked: number; at: number };
  /** The reset in flight, if any: the log before it (history, start, acknowledged end) and the new start. */
  resetting?: { before: Array<{ value: string; epoch: number }>; start: number; acked: number; at: number };
  /** The epoch the next appends are stamped with. */
  epoch: number;
  /** Checkpoint contents in the order they were written (`null`: no file yet). */
  versions: Array<string | null>;
  /** Index into `versions` of the last one known to be durable. */
  durableVersion: number;
  /** Replicated topic: the high watermark last set (the highest in the current history). */
  hw: number;
  /** Replicated topic: a value the checkpoint is known to hold at least (what a recovery starts from, at least). */
  hwDurable: number;
  /** Replicated topic: the high watermark before the truncation or reset in flight. */
  hwBefore?: number;
}

interface Model {
  partitions: PartitionModel[];
  violations: string[];
  /** The topic is replicated: the high watermark is set from outside. */
  replicated: boolean;
}

/** The checkpoint text for `entries` (Kafka's format). */
const checkpointText = (entries: Array<[number, number]>): string =>
  ["0", String(entries.length), ...entries.map(([e, s]) => `${e} ${s}`)].join("\n") + "\n";

/** The epoch entries (epoch, start offset) of a history: where each run of one epoch starts. */
function entriesOf(history: ReadonlyArray<{ epoch: number }>, starts: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const start of starts) {
    const epoch = history[start]!.epoch;
    if (out.at(-1)?.[0] !== epoch) out.push([epoch, start]);
  }
  return out;
}

async function workload(session: Session, rand: () => number, model: Model): Promise<void> {
  await session.store.createTopic("t", { partitions: PARTITIONS });
  for (let p = 0; p < PARTITIONS; p++)
    model.partitions.push({ start: 0, history: [], batchStarts: [], acked: 0, epoch: 0, versions: [null], durableVersion: 0, hw: 0, hwDurable: 0 });

  /** Records a checkpoint version about to be written (the entries the log will hold), unless unchanged. */
  const version = (m: PartitionModel, entries: Array<[number, number]>): number => {
    const content = checkpointText(entries);
    if (m.versions.at(-1) !== content) m.versions.push(content);
    return m.versions.length - 1;
  };
  /** The entries the log holds for `m.history` (with the implicit epoch 0 from offset 0 when it has no file). */
  const currentEntries = (m: PartitionModel): Array<[number, number]> => {
    const entries = entriesOf(m.history, m.batchStarts);
    return m.versions.at(-1) === null && entries.length === 0 ? [[0, 0]] : entries;
  };

  const append = async (p: number, follower: boolean): Promise<void> => {
    const m = model.partitions[p]!;
    const count = 1 + Math.floor(rand() * 3);
    const base = m.history.length;
    const values = Array.from({ length: count }, (_, i) => `${p}/${base + i}/e${m.epoch}/${"x".repeat(Math.floor(rand() * 150))}`);
    const epoch = m.epoch;
    const before = currentEntries(m);
    m.history.push(...values.map((value) => ({ value, epoch })));
    m.batchStarts.push(base);
    // A new epoch (or the first entry after a truncation to the start) rewrites the checkpoint first.
    const needs = before.at(-1)?.[0] !== epoch;
    const v = needs ? version(m, [...before.filter(([, s]) => s < base), [epoch, base]]) : m.versions.length - 1;
    const records = values.map((value) => ({ value }));
    const result = follower
      ? await session.store.appendAsFollower("t", p, encodeBatch(records, base, NOW, false, undefined, epoch).buffer)
      : await session.store.append("t", p, records, { leaderEpoch: epoch });
    if (result.baseOffset !== base || result.lastOffset !== base + count - 1)
      model.violations.push(`${p}: append got ${result.baseOffset}..${result.lastOffset}, expected ${base}..${base + count - 1}`);
    m.acked = Math.max(m.acked, base + count);
    m.durableVersion = Math.max(m.durableVersion, v);
  };

  const truncate = async (p: number): Promise<void> => {
    const m = model.partitions[p]!;
    if (m.batchStarts.length === 0) return;
    // The batches as stored: with the journal, leader appends to a partition that share a journal round
    // share a batch (one start for several appends).
    m.batchStarts = (await session.store.readBatches("t", p, m.start, { maxBytes: 1 << 30 })).batches.map((b) => b.baseOffset);
    // At a batch boundary: the start of a batch in the last few, or the log start now and then.
    const k = rand() < 0.1 ? 0 : Math.max(0, m.batchStarts.length - 1 - Math.floor(rand() * 6));
    const at = m.batchStarts[k]!;
    m.truncating = { before: m.history.slice(), acked: m.acked, at };
    m.hwBefore = m.hw;
    const entries = entriesOf(m.history, m.batchStarts).filter(([, s]) => s < at);
    const hadFile = m.versions.at(-1) !== null;
    const v = hadFile || entries.length !== currentEntries(m).length ? version(m, entries) : m.versions.length - 1;
    const end = await session.store.truncateTo("t", p, at);
    if (end !== at) model.violations.push(`${p}: truncateTo(${at}) returned ${end}`);
    m.history.length = at;
    m.batchStarts.length = k;
    m.acked = Math.min(m.acked, at);
    m.truncating = undefined;
    // The checkpoint was rewritten before the cut if it was above it.
    m.hw = Math.min(m.hw, at);
    m.hwDurable = Math.min(m.hwDurable, at);
    m.hwBefore = undefined;
    m.durableVersion = Math.max(m.durableVersion, v);
  };

  const reset = async (p: number): Promise<void> => {
    const m = model.partitions[p]!;
    const end = m.history.length;
    // Behind the leader's log start (at or past this log's end), or diverged below it (inside this log).
    const at = rand() < 0.5 ? end + Math.floor(rand() * 20) : m.start + Math.floor(rand() * (end - m.start + 1));
    m.resetting = { before: m.history.slice(), start: m.start, acked: m.acked, at };
    m.hwBefore = m.hw;
    const v = version(m, []); // the checkpoint with no entry
    const started = await session.store.truncateFullyAndStartAt("t", p, at);
    if (started !== at) model.violations.push(`${p}: truncateFullyAndStartAt(${at}) returned ${started}`);
    m.history = new Array<{ value: string; epoch: number }>(at);
    m.batchStarts = [];
    m.start = at;
    m.acked = at;
    m.resetting = undefined;
    m.hw = m.hwDurable = at;
    m.hwBefore = undefined;
    m.durableVersion = Math.max(m.durableVersion, v);
  };

  for (let step = 0; step < 30; step++) {
    if (step === 15) {
      await session.reopen();
      for (const m of model.partitions) m.hwDurable = m.hw; // close writes the checkpoint
    }
    const r = rand();
    if (r < 0.12) {
      // A leader change: the next appends carry a higher epoch (sometimes skipping some).
      const p = Math.floor(rand() * PARTITIONS);
      model.partitions[p]!.epoch += 1 + Math.floor(rand() * 2);
    } else if (r < 0.27) {
      // A follower following a new leader: it truncates first (alone: appends are refused meanwhile).
      await truncate(Math.floor(rand() * PARTITIONS));
    } else if (r < 0.33) {
      // A follower too far behind its leader (or diverged below the leader's log start): it starts over there.
      await reset(Math.floor(rand() * PARTITIONS));
    } else {
      const burst: Array<Promise<void>> = [];
      const size = 1 + Math.floor(rand() * 4);
      for (let i = 0; i < size; i++) burst.push(append(Math.floor(rand() * PARTITIONS), rand() < 0.4));
      const results = await Promise.allSettled(burst);
      const failed = results.find((x) => x.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
      if (model.replicated) {
        // The leader learns its followers have it all: the high watermark moves to the durable end.
        for (let p = 0; p < PARTITIONS; p++) {
          const end = await session.store.durableEndOffset("t", p);
          await session.store.setHighWatermark("t", p, end);
          model.partitions[p]!.hw = end;
        }
        if (rand() < 0.3) {
          await session.store.checkpointHighWatermarks();
          for (const m of model.partitions) m.hwDurable = m.hw;
        }
      }
    }
  }
}

async function check(store: LogStore, disk: CrashFs, dataDir: string, model: Model): Promise<string[]> {
  const problems = [...model.violations];
  if (!store.listTopics().includes("t")) return model.partitions.length > 0 ? [...problems, "topic t is missing"] : problems;
  for (let p = 0; p < model.partitions.length; p++) {
    const m = model.partitions[p]!;
    const where = `t/${p}`;
    const logStart = store.describeTopic("t").partitions[p]!.logStartOffset;
    if (model.replicated) {
      // The high watermark came back from its checkpoint: at least the value known durable (as far as the
      // log reaches), never above the highest set in this history (nothing appended after a truncation or a
      // reset counts as committed); then moved to the durable end, so that the rest reads everything.
      const { highWatermark: h, logEndOffset: end } = store.describeTopic("t").partitions[p]!;
      const inFlight = m.truncating ?? m.resetting;
      const newLog = m.resetting !== undefined && logStart === m.resetting.at && logStart !== m.resetting.start;
      const low = newLog ? m.resetting!.at : Math.min(m.hwDurable, end, m.truncating?.at ?? Infinity);
      const high = inFlight ? Math.max(m.hw, m.hwBefore ?? 0) : m.hw;
      if (h < logStart || h > end || h < low || (!newLog && h > high))
        problems.push(
          `${where}: high watermark ${h} after recovery, expected in [${low}, ${newLog ? low : high}] within the log [${logStart}, ${end}]`,
        );
      await store.setHighWatermark("t", p, await store.durableEndOffset("t", p));
    }
    const { bytes, batches } = await store.readBatches("t", p, logStart, { maxBytes: 1 << 30 });
    // Indexed by offset (empty below the log start).
    const stored: Array<{ value: string; epoch: number }> = [];
    for (let offset = logStart; offset < store.describeTopic("t").partitions[p]!.highWatermark;) {
      const { records, nextOffset } = await store.read("t", p, offset, { maxRecords: 10_000 });
      for (const r of records) stored[r.offset] = { value: text(r.value)!, epoch: -1 };
      offset = nextOffset;
    }
    for (const b of batches) for (let o = b.baseOffset; o <= b.lastOffset; o++) if (stored[o]) stored[o]!.epoch = b.leaderEpoch;
    const count = Math.max(0, stored.length - logStart);
    if (bytes.length === 0 && count > 0) problems.push(`${where}: readBatches returned nothing for ${count} records`);
    // Which log it may be: the current history, or during a truncation the one before it; during a reset the
    // old log (all of it acknowledged) or the new empty one at the new start.
    const candidates: Array<{ start: number; history: Array<{ value: string; epoch: number }>; must: number }> = [];
    if (m.resetting) {
      const { before, start, acked, at } = m.resetting;
      candidates.push({ start, history: before, must: acked }, { start: at, history: new Array(at), must: at });
    } else {
      const must = m.truncating ? Math.min(m.truncating.acked, m.truncating.at) : m.acked;
      for (const history of m.truncating ? [m.truncating.before, m.history] : [m.history]) candidates.push({ start: m.start, history, must });
    }
    const matches = candidates.some(
      (c) =>
        c.start === logStart &&
        Math.max(stored.length, logStart) <= Math.max(c.history.length, c.start) &&
        stored.every((s, i) => i < logStart || (s.value === c.history[i]?.value && s.epoch === c.history[i]?.epoch)),
    );
    if (!matches) {
      const c = candidates.at(-1)!;
      const i = stored.findIndex((s, k) => k >= logStart && (s.value !== c.history[k]?.value || s.epoch !== c.history[k]?.epoch));
      problems.push(
        `${where}: the log (start ${logStart}, end ${Math.max(stored.length, logStart)}) is not a prefix of the history written (start ${candidates.map((x) => x.start).join(" or ")}): offset ${i} holds ${String(JSON.stringify(stored[i])).slice(0, 60)}, expected ${String(JSON.stringify(c.history[i])).slice(0, 60)}`,
      );
    }
    const must = Math.min(...candidates.filter((c) => c.start === logStart).map((c) => c.must));
    if (Math.max(stored.length, logStart) < must)
      problems.push(`${where}: the log ends at ${Math.max(stored.length, logStart)}, ${must} were acknowledged below the truncation point`);
    if (m.resetting && logStart === m.resetting.at && logStart !== m.resetting.start && stored.length > logStart)
      problems.push(`${where}: the log restarted at ${logStart} holds records`);
    // The checkpoint: old or new, never a mix, never older than the last acknowledged version.
    let content: string | null = null;
    try {
      content = disk.readFileSync(join(dataDir, "t", String(p), LEADER_EPOCH_CHECKPOINT)).toString("utf8");
    } catch {
      content = null;
    }
    const allowed = m.versions.slice(m.durableVersion);
    if (!allowed.includes(content))
      problems.push(`${where}: leader-epoch-checkpoint ${JSON.stringify(content)}, expected one of ${JSON.stringify(allowed)}`);
    // endOffsetForEpoch as the stored batches imply, for every epoch up to the latest stored one.
    const starts = batches.map((b) => b.baseOffset);
    const entries = entriesOf(stored, starts);
    const logEnd = Math.max(stored.length, logStart);
    const latest = entries.at(-1)?.[0] ?? -1;
    for (let epoch = 0; epoch <= latest; epoch++) {
      let expected = { leaderEpoch: -1, endOffset: -1 };
      if (epoch === latest) expected = { leaderEpoch: epoch, endOffset: logEnd };
      else if (epoch >= entries[0]![0]) {
        const above = entries.findIndex(([e]) => e > epoch);
        expected = { leaderEpoch: entries[above - 1]![0], endOffset: entries[above]![1] };
      }
      const answer = await store.endOffsetForEpoch("t", p, epoch);
      if (answer.leaderEpoch !== expected.leaderEpoch || answer.endOffset !== expected.endOffset)
        problems.push(`${where}: endOffsetForEpoch(${epoch}) = ${JSON.stringify(answer)}, the stored batches say ${JSON.stringify(expected)}`);
    }
    // Writable at its end (with an epoch above any the workload used).
    const { baseOffset } = await store.append("t", p, [{ value: "after" }], { leaderEpoch: 1000 });
    if (baseOffset !== logEnd) problems.push(`${where}: append after recovery got offset ${baseOffset}, expected ${logEnd}`);
  }
  return problems;
}

/**
 * Runs one seed: counts the workload's file operations, then reruns it `crashPoints` times with the power
 * failing at one operation of each of that many equal slices of the run, and checks each recovered disk.
 */
export async function runReplicaCase(dataDir: string, seed: number, crashPoints = 1): Promise<void> {
  await runCrashPoints(dataDir, seed, crashPoints, {
    replayVariable: "REPLICA_SEED",
    pickSalt: 0x5bd1e995,
    open: (fs) => LogStore.openWith(optionsFor(dataDir, seed), fs, INTERNAL),
    model: (): Model => ({ partitions: [], violations: [], replicated: replicatedSeed(seed) }),
    run: (session, rand, model) => workload(session, rand, model),
    check: (recovered, disk, model) => check(recovered, disk, dataDir, model),
  });
}
