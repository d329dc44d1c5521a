import { group, partitionKey } from "./partition-key.js";
import { PartitionState } from "./partition-state.js";
import type { TopicPartition, TopicPartitionOffset, TopicPartitions } from "./types.js";

/** Partitions to pause or resume: every partition of `topic`, or only `partitions`. */
export interface TopicPartitionsSelection {
  topic: string;
  partitions?: readonly number[] | undefined;
}

/**
 * The partitions a consumer holds (by {@link PartitionState}), what is paused, and seeks waiting for a
 * partition to be assigned. Answers which partitions may be handed out now. Internal.
 */
export class PartitionTable {
  readonly #partitions = new Map<string, PartitionState>();
  readonly #pausedTopics = new Set<string>();
  readonly #pausedPartitions = new Set<string>();
  readonly #pendingSeeks = new Map<string, number>();
  readonly #running: () => boolean;

  /** @param running - whether the consumer is running (nothing is deliverable otherwise) */
  constructor(running: () => boolean) {
    this.#running = running;
  }

  /** The state of a partition by {@link partitionKey}. */
  get(key: string): PartitionState | undefined {
    return this.#partitions.get(key);
  }

  /** Every partition held, in assignment order. */
  values(): IterableIterator<PartitionState> {
    return this.#partitions.values();
  }

  /** A newly assigned partition, `"initializing"`. */
  add(topic: string, partition: number): PartitionState {
    const state = new PartitionState(topic, partition);
    this.#partitions.set(state.key, state);
    return state;
  }

  /** Drops `state` if it is still the one held for its partition. */
  remove(state: PartitionState): void {
    if (this.#partitions.get(state.key) === state) this.#partitions.delete(state.key);
  }

  /** Drops every partition (the membership is gone). */
  clear(): void {
    this.#partitions.clear();
  }

  /** Whether `state` is still the one held for its partition (not dropped, not replaced by a new assignment). */
  isCurrent(state: PartitionState): boolean {
    return this.#partitions.get(state.key) === state;
  }

  isPaused(state: PartitionState): boolean {
    return this.#pausedTopics.has(state.topic) || this.#pausedPartitions.has(state.key);
  }

  /** Whether records of `state` may be handed out now. */
  deliverable(state: PartitionState): boolean {
    return this.#running() && state.phase === "active" && this.#partitions.get(state.key) === state && !this.isPaused(state);
  }

  /** The partitions whose records may be handed out now. */
  deliverableStates(): PartitionState[] {
    const out: PartitionState[] = [];
    for (const s of this.#partitions.values()) if (this.deliverable(s)) out.push(s);
    return out;
  }

  /**
   * Whether the broker's member fetch serves exactly what we want: it reads every partition the broker
   * has assigned us (from our positions), so not while one is paused or still being set up.
   */
  memberFetchServes(): boolean {
    for (const s of this.#partitions.values()) {
      if (s.phase === "revoking") continue; // the broker no longer serves it to us either
      if (s.phase !== "active" || this.isPaused(s)) return false;
    }
    return true;
  }

  /**
   * Seeks an active partition now (true), or remembers the seek for when the partition is assigned
   * (false).
   */
  seek(target: TopicPartitionOffset): boolean {
    const key = partitionKey(target.topic, target.partition);
    const state = this.#partitions.get(key);
    if (state?.phase === "active") {
      state.seek(target.offset);
      return true;
    }
    this.#pendingSeeks.set(key, target.offset);
    return false;
  }

  /** The seek waiting for this partition, if any, forgotten once taken. */
  takePendingSeek(key: string): number | undefined {
    const offset = this.#pendingSeeks.get(key);
    if (offset !== undefined) this.#pendingSeeks.delete(key);
    return offset;
  }

  /** Records offsets as committed, for the partitions still held. */
  markCommitted(offsets: readonly TopicPartitionOffset[]): void {
    for (const o of offsets) {
      const s = this.#partitions.get(partitionKey(o.topic, o.partition));
      if (s !== undefined) s.committed = o.offset;
    }
  }

  pause(selections: readonly TopicPartitionsSelection[]): void {
    for (const { topic, partitions } of selections) {
      if (partitions === undefined) this.#pausedTopics.add(topic);
      else for (const p of partitions) this.#pausedPartitions.add(partitionKey(topic, p));
    }
  }

  resume(selections: readonly TopicPartitionsSelection[]): void {
    for (const { topic, partitions } of selections) {
      if (partitions === undefined) {
        this.#pausedTopics.delete(topic);
        for (const key of this.#pausedPartitions) if (key.slice(key.indexOf(":") + 1) === topic) this.#pausedPartitions.delete(key);
      } else {
        for (const p of partitions) this.#pausedPartitions.delete(partitionKey(topic, p));
      }
    }
  }

  /** The paused partitions among those assigned, plus partitions paused explicitly. */
  paused(): TopicPartitions[] {
    const out = new Map<string, TopicPartition>();
    for (const key of this.#pausedPartitions) {
      const colon = key.indexOf(":");
      out.set(key, { topic: key.slice(colon + 1), partition: Number(key.slice(0, colon)) });
    }
    for (const s of this.#partitions.values()) if (this.#pausedTopics.has(s.topic)) out.set(s.key, { topic: s.topic, partition: s.partition });
    return group(out.values());
  }

  /** The partitions currently assigned (being revoked ones excluded). */
  assignment(): TopicPartitions[] {
    const out: TopicPartition[] = [];
    for (const s of this.#partitions.values()) if (s.phase !== "revoking") out.push({ topic: s.topic, partition: s.partition });
    return group(out);
  }
}
