import type { Assignment, TopicPartitions } from "./assignors/types.js";

const EMPTY: Assignment = Object.freeze([]);

/** The frozen empty assignment, shared. */
export const EMPTY_ASSIGNMENT: Assignment = EMPTY;

/**
 * A mutable set of topic-partitions with a cached, frozen wire form ({@link toAssignment}), so that a
 * steady heartbeat does not rebuild the same arrays over and over. Internal.
 */
export class PartitionSet {
  readonly #byTopic = new Map<string, Set<number>>();
  #size = 0;
  #cached: Assignment | undefined = EMPTY;

  /** Builds a set from a wire-form assignment (duplicates collapse). */
  static from(assignment: Assignment): PartitionSet {
    const set = new PartitionSet();
    for (const { topic, partitions } of assignment) {
      for (const p of partitions) set.add(topic, p);
    }
    return set;
  }

  /** Number of partitions in the set. */
  get size(): number {
    return this.#size;
  }

  has(topic: string, partition: number): boolean {
    return this.#byTopic.get(topic)?.has(partition) ?? false;
  }

  /** Adds a partition; returns false if it was already there. */
  add(topic: string, partition: number): boolean {
    let set = this.#byTopic.get(topic);
    if (set === undefined) {
      set = new Set();
      this.#byTopic.set(topic, set);
    } else if (set.has(partition)) {
      return false;
    }
    set.add(partition);
    this.#size++;
    this.#cached = undefined;
    return true;
  }

  /** Removes a partition; returns false if it was not there. */
  delete(topic: string, partition: number): boolean {
    const set = this.#byTopic.get(topic);
    if (set === undefined || !set.delete(partition)) return false;
    if (set.size === 0) this.#byTopic.delete(topic);
    this.#size--;
    this.#cached = undefined;
    return true;
  }

  /** The partitions of `topic` (do not mutate), or undefined when the set has none. */
  partitionsOf(topic: string): ReadonlySet<number> | undefined {
    return this.#byTopic.get(topic);
  }

  /** Topics with at least one partition in the set. */
  topics(): IterableIterator<string> {
    return this.#byTopic.keys();
  }

  /** A snapshot list of `[topic, partition]` pairs, safe to iterate while mutating the set. */
  entries(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (const [topic, set] of this.#byTopic) for (const p of set) out.push([topic, p]);
    return out;
  }

  /** Calls `fn` for each partition. `fn` must not mutate this set. */
  forEach(fn: (topic: string, partition: number) => void): void {
    for (const [topic, set] of this.#byTopic) for (const p of set) fn(topic, p);
  }

  /** The wire form: sorted by topic, partitions ascending, frozen and cached until the next mutation. */
  toAssignment(): Assignment {
    if (this.#cached !== undefined) return this.#cached;
    const out: TopicPartitions[] = [];
    for (const topic of [...this.#byTopic.keys()].sort()) {
      const partitions = Array.from(this.#byTopic.get(topic)!).sort((a, b) => a - b);
      out.push(Object.freeze({ topic, partitions: Object.freeze(partitions) }));
    }
    this.#cached = Object.freeze(out);
    return this.#cached;
  }

  /** The partitions of this set that are not in `other`, in wire form. */
  minus(other: PartitionSet): Assignment {
    if (this.#size === 0) return EMPTY;
    const out: TopicPartitions[] = [];
    for (const topic of [...this.#byTopic.keys()].sort()) {
      const theirs = other.partitionsOf(topic);
      const partitions: number[] = [];
      for (const p of this.#byTopic.get(topic)!) if (theirs === undefined || !theirs.has(p)) partitions.push(p);
      if (partitions.length > 0) out.push({ topic, partitions: partitions.sort((a, b) => a - b) });
    }
    return out.length === 0 ? EMPTY : out;
  }
}
