import type { Assignment, AssignorInput, TopicPartitions } from "./types.js";

/**
 * The default assignor: spreads partitions as evenly as the subscriptions allow while keeping every member's
 * current partitions where it can (sticky), in O(P log M) for P partitions and M members.
 *
 * 1. **Keep**: each member keeps its current partitions that still exist and that it still subscribes to
 *    (a partition claimed twice stays with the first member in member-id order).
 * 2. **Place**: every other partition goes to the least-loaded member subscribed to its topic (topics with
 *    the fewest subscribers first; ties by member id).
 * 3. **Balance**: while a member has at least two partitions more than a member that could take one of them
 *    (subscribes to its topic), one partition moves from the first to the second.
 *
 * Result: with identical subscriptions, partition counts differ by at most one, and a join or a leave moves
 * the minimum number of partitions (a leave moves only the leaver's partitions; a join moves only the
 * partitions the new member receives). With different subscriptions, no member has two partitions more
 * than another member subscribed to the topic of one of them. Deterministic for a given input.
 */
export function uniformStickyAssignor(input: AssignorInput): Map<string, Assignment> {
  const counts = input.partitionCounts;
  const members = [...input.members].sort((a, b) => compare(a.memberId, b.memberId));
  const n = members.length;
  const result = new Map<string, Assignment>();
  if (n === 0) return result;

  const load = new Int32Array(n);
  const owned: Array<Map<string, number[]>> = [];
  const less = (a: number, b: number): boolean => load[a]! < load[b]! || (load[a] === load[b] && a < b);

  // Members with the same (existing) subscribed topics form a class; one min-heap of loads per class.
  const classIndex = new Map<string, number>();
  const classTopics: string[][] = [];
  const memberClass = new Int32Array(n);
  const subscribed: Array<ReadonlySet<string>> = [];
  for (let i = 0; i < n; i++) {
    const topics = [...new Set(members[i]!.topics)].filter((t) => counts.has(t)).sort();
    const key = topics.join("\u0000");
    let c = classIndex.get(key);
    if (c === undefined) {
      c = classTopics.length;
      classIndex.set(key, c);
      classTopics.push(topics);
    }
    memberClass[i] = c;
    subscribed.push(new Set(topics));
    owned.push(new Map());
  }
  const topicClasses = new Map<string, number[]>();
  classTopics.forEach((topics, c) => {
    for (const t of topics) {
      const list = topicClasses.get(t);
      if (list === undefined) topicClasses.set(t, [c]);
      else list.push(c);
    }
  });

  // 1. Keep current partitions that are still valid.
  const claimed = new Map<string, Uint8Array>();
  for (const [topic, count] of counts) claimed.set(topic, new Uint8Array(count));
  for (let i = 0; i < n; i++) {
    for (const { topic, partitions } of members[i]!.currentAssignment) {
      if (!subscribed[i]!.has(topic)) continue;
      const bits = claimed.get(topic)!;
      let list = owned[i]!.get(topic);
      for (const p of partitions) {
        if (!Number.isInteger(p) || p < 0 || p >= bits.length || bits[p] === 1) continue;
        bits[p] = 1;
        if (list === undefined) {
          list = [];
          owned[i]!.set(topic, list);
        }
        list.push(p);
        load[i]!++;
      }
    }
  }

  const heaps = classTopics.map(() => new LoadHeap(n, less));
  for (let i = 0; i < n; i++) heaps[memberClass[i]!]!.push(i);
  const classes = { update: (i: number): void => heaps[memberClass[i]!]!.update(i) };

  const leastLoaded = (classes: readonly number[]): number => {
    let best = -1;
    for (const c of classes) {
      const top = heaps[c]!.top();
      if (best === -1 || less(top, best)) best = top;
    }
    return best;
  };
  const give = (i: number, topic: string, p: number): void => {
    let list = owned[i]!.get(topic);
    if (list === undefined) {
      list = [];
      owned[i]!.set(topic, list);
    }
    list.push(p);
    load[i]!++;
    classes.update(i);
  };

  // 2. Place unclaimed partitions, hardest-to-place topics (fewest subscribers) first.
  const classSize = classTopics.map(() => 0);
  for (let i = 0; i < n; i++) classSize[memberClass[i]!]!++;
  const eligible = (t: string): number => topicClasses.get(t)!.reduce((s, c) => s + classSize[c]!, 0);
  const topics = [...topicClasses.keys()].sort((a, b) => eligible(a) - eligible(b) || compare(a, b));
  for (const topic of topics) {
    const classes = topicClasses.get(topic)!;
    const bits = claimed.get(topic)!;
    for (let p = 0; p < bits.length; p++) {
      if (bits[p] === 0) give(leastLoaded(classes), topic, p);
    }
  }

  // 3. Balance: repeatedly take one partition from the most loaded member that can give one to a member
  // with at least two fewer (the least loaded such member). Always giving from the top, never below what
  // the others keep, makes the number of moves minimal with identical subscriptions. Every move lowers
  // the sum of squared loads, so this ends; a member that cannot give is set aside for the pass, and a new
  // pass runs while the previous one moved something (needed only with mixed subscriptions).
  const greater = (a: number, b: number): boolean => load[a]! > load[b]! || (load[a] === load[b] && a < b);
  let moved = true;
  while (moved) {
    moved = false;
    const donors = new LoadHeap(n, greater);
    for (let i = 0; i < n; i++) donors.push(i);
    while (donors.size > 0) {
      const a = donors.top();
      let bestTopic: string | undefined;
      let best = -1;
      for (const [topic, list] of owned[a]!) {
        if (list.length === 0) continue;
        const b = leastLoaded(topicClasses.get(topic)!);
        if (b !== a && load[a]! - load[b]! >= 2 && (best === -1 || less(b, best))) {
          best = b;
          bestTopic = topic;
        }
      }
      if (best === -1) {
        donors.pop();
        continue;
      }
      const p = owned[a]!.get(bestTopic!)!.pop()!;
      load[a]!--;
      classes.update(a);
      donors.update(a);
      give(best, bestTopic!, p);
      if (donors.has(best)) donors.update(best);
      moved = true;
    }
  }

  for (let i = 0; i < n; i++) {
    const out: TopicPartitions[] = [];
    for (const topic of [...owned[i]!.keys()].sort()) {
      const partitions = owned[i]!.get(topic)!;
      if (partitions.length > 0) out.push({ topic, partitions: partitions.sort((x, y) => x - y) });
    }
    result.set(members[i]!.memberId, out);
  }
  return result;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A binary heap of member indices (0 ..< n) ordered by `before`, supporting key changes and removal of the top. */
class LoadHeap {
  readonly #items: number[] = [];
  readonly #pos: Int32Array;
  readonly #before: (a: number, b: number) => boolean;

  constructor(n: number, before: (a: number, b: number) => boolean) {
    this.#pos = new Int32Array(n).fill(-1);
    this.#before = before;
  }

  get size(): number {
    return this.#items.length;
  }

  has(i: number): boolean {
    return this.#pos[i]! >= 0;
  }

  top(): number {
    return this.#items[0]!;
  }

  push(i: number): void {
    this.#items.push(i);
    this.#pos[i] = this.#items.length - 1;
    this.#up(this.#items.length - 1);
  }

  /** Removes the top. */
  pop(): void {
    const items = this.#items;
    const top = items[0]!;
    const last = items.pop()!;
    this.#pos[top] = -1;
    if (last === top) return;
    items[0] = last;
    this.#pos[last] = 0;
    this.#down(0);
  }

  /** Restores the heap order after the key of `i` changed. */
  update(i: number): void {
    this.#down(this.#up(this.#pos[i]!));
  }

  #up(k: number): number {
    const items = this.#items;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!this.#before(items[k]!, items[parent]!)) break;
      this.#swap(k, parent);
      k = parent;
    }
    return k;
  }

  #down(k: number): void {
    const items = this.#items;
    for (;;) {
      const l = 2 * k + 1;
      if (l >= items.length) return;
      const r = l + 1;
      const child = r < items.length && this.#before(items[r]!, items[l]!) ? r : l;
      if (!this.#before(items[child]!, items[k]!)) return;
      this.#swap(k, child);
      k = child;
    }
  }

  #swap(a: number, b: number): void {
    const items = this.#items;
    const x = items[a]!;
    const y = items[b]!;
    items[a] = y;
    items[b] = x;
    this.#pos[y] = a;
    this.#pos[x] = b;
  }
}
