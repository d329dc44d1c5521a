import { createHash } from "node:crypto";
import { join } from "node:path";
import { LogStoreError } from "./errors.js";
import type { FileSystem } from "./file-system.js";
import { isTempFile, writeFileAtomic } from "./fs-utils.js";
import type { TopicPartitionOffset } from "./types.js";

type Offsets = Map<string, Map<number, number>>;

interface PendingChange {
  apply: (offsets: Offsets) => void;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface GroupState {
  groupId: string;
  file: string;
  /** What is on disk. */
  durable: Offsets;
  queue: PendingChange[];
  writing: boolean;
}

const clone = (offsets: Offsets): Offsets => new Map([...offsets].map(([topic, partitions]) => [topic, new Map(partitions)]));

/**
 * Committed consumer-group offsets, one file per group in `<dataDir>/__offsets/`, named by a hash of the
 * group id (ids never become path segments). Every change replaces the group's file atomically; changes
 * that arrive while a write is in flight are merged into the next write (group commit), so each call is
 * still all-or-nothing and resolves only once durable.
 */
export class CommittedOffsets {
  private readonly groups = new Map<string, GroupState>();

  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly sync: boolean,
  ) {}

  /** Loads every group's offsets from `dir` (created if missing). */
  static open(fs: FileSystem, dir: string, sync: boolean): CommittedOffsets {
    fs.mkdirSync(dir, { recursive: true });
    const store = new CommittedOffsets(fs, dir, sync);
    for (const name of fs.readdirSync(dir)) {
      const path = join(dir, name);
      if (isTempFile(name)) {
        fs.removeSync(path);
        continue;
      }
      if (!name.endsWith(".json")) continue;
      let parsed: { groupId?: unknown; offsets?: unknown };
      try {
        parsed = JSON.parse(fs.readFileSync(path).toString("utf8"));
      } catch (error) {
        throw new LogStoreError("CORRUPT_RECORD", `committed offsets file ${path} is unreadable: ${(error as Error).message}`, { cause: error });
      }
      if (typeof parsed.groupId !== "string" || !Array.isArray(parsed.offsets))
        throw new LogStoreError("CORRUPT_RECORD", `committed offsets file ${path} is not valid`);
      const offsets: Offsets = new Map();
      for (const entry of parsed.offsets as unknown[]) {
        const [topic, partition, offset] = Array.isArray(entry) ? entry : [];
        if (typeof topic !== "string" || !Number.isSafeInteger(partition) || !Number.isSafeInteger(offset)) {
          throw new LogStoreError("CORRUPT_RECORD", `committed offsets file ${path} has an invalid entry ${JSON.stringify(entry)}`);
        }
        let partitions = offsets.get(topic);
        if (!partitions) offsets.set(topic, (partitions = new Map()));
        partitions.set(partition as number, offset as number);
      }
      store.groups.set(parsed.groupId, { groupId: parsed.groupId, file: path, durable: offsets, queue: [], writing: false });
    }
    return store;
  }

  /** Durably records `offsets` for the group (all or nothing). */
  commit(groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    return this.change(this.group(groupId), (current) => {
      for (const { topic, partition, offset } of offsets) {
        let partitions = current.get(topic);
        if (!partitions) current.set(topic, (partitions = new Map()));
        partitions.set(partition, offset);
      }
    });
  }

  /** The group's durable offsets, sorted by topic and partition. */
  get(groupId: string): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    const state = this.groups.get(groupId);
    if (!state) return out;
    for (const topic of [...state.durable.keys()].sort()) {
      const partitions = state.durable.get(topic)!;
      for (const partition of [...partitions.keys()].sort((a, b) => a - b)) out.push({ topic, partition, offset: partitions.get(partition)! });
    }
    return out;
  }

  /** Forgets every group's offsets for `topic` (when the topic is deleted). */
  async removeTopic(topic: string): Promise<void> {
    const affected = [...this.groups.values()].filter((state) => state.durable.has(topic) || state.queue.length > 0);
    await Promise.all(affected.map((state) => this.change(state, (current) => current.delete(topic))));
  }

  /** Waits for in-flight writes. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.groups.values()].map((state) =>
        state.writing || state.queue.length > 0 ? this.change(state, () => undefined).catch(() => undefined) : undefined,
      ),
    );
  }

  private group(groupId: string): GroupState {
    let state = this.groups.get(groupId);
    if (!state) {
      const file = join(this.dir, `${createHash("sha256").update(groupId).digest("hex")}.json`);
      state = { groupId, file, durable: new Map(), queue: [], writing: false };
      this.groups.set(groupId, state);
    }
    return state;
  }

  private change(state: GroupState, apply: (offsets: Offsets) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      state.queue.push({ apply, resolve, reject });
      if (!state.writing) void this.drain(state);
    });
  }

  private async drain(state: GroupState): Promise<void> {
    state.writing = true;
    while (state.queue.length > 0) {
      const batch = state.queue.splice(0);
      const next = clone(state.durable);
      for (const change of batch) change.apply(next);
      const entries: Array<[string, number, number]> = [];
      for (const [topic, partitions] of next) for (const [partition, offset] of partitions) entries.push([topic, partition, offset]);
      try {
        await writeFileAtomic(this.fs, state.file, JSON.stringify({ groupId: state.groupId, offsets: entries }), this.sync);
        state.durable = next;
        for (const change of batch) change.resolve();
      } catch (error) {
        const failure = new LogStoreError(
          "KAFKA_STORAGE_ERROR",
          `cannot write committed offsets of group ${JSON.stringify(state.groupId)}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
        for (const change of batch) change.reject(failure);
      }
    }
    state.writing = false;
  }
}
