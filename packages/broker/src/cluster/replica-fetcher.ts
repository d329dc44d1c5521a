// The follower side of one replicated partition: truncate to where this replica's history meets the
// leader's (KIP-101 / KIP-279), then fetch the leader's batches and append them as they are, reporting
// this replica's log end with every fetch; the high watermark follows the leader's.
import type { LogStore } from "@minikafka/log-store";

/** The part of `LogStore` a follower uses. */
export type FollowerStore = Pick<
  LogStore,
  | "appendAsFollower"
  | "truncateTo"
  | "truncateFullyAndStartAt"
  | "latestEpoch"
  | "endOffsetForEpoch"
  | "setHighWatermark"
  | "describePartition"
  | "durableEndOffset"
>;

/** How a {@link ReplicaFetcher} starts. */
export interface FetcherStart {
  /** The cluster's name of the topic (in URLs). */
  topic: string;
  /** Which topic of that name (the cluster's topic id): the leader refuses fetches of another one. */
  topicId: string;
  /** Its name in `store` (internal topics are stored without their `__`). */
  localTopic: string;
  partition: number;
  /** This broker's node id (sent as `replicaId`). */
  nodeId: number;
  /** The leader's node id, and the epoch it leads in. */
  leaderId: number;
  leaderEpoch: number;
  /** The leader's URL now (brokers may move): `undefined` while it is not registered. */
  leaderUrl: () => string | undefined;
  store: FollowerStore;
  /** How long the leader may hold a fetch that has nothing new, in ms. */
  waitMs: number;
  /** Errors worth a log line (the fetcher retries by itself). */
  onError: (error: unknown) => void;
  /** `fetch` (tests may count calls). */
  fetch?: typeof fetch | undefined;
}

const MAX_BACKOFF_MS = 1_000;
const REPLICA_MAX_BYTES = 1024 * 1024;

/** The error envelope's code of a failed answer, if it has one. */
async function errorCode(res: Response): Promise<{ code: string; message: string }> {
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    return { code: body.error?.code ?? `HTTP_${res.status}`, message: body.error?.message ?? res.statusText };
  } catch {
    return { code: `HTTP_${res.status}`, message: res.statusText };
  }
}

/** A follower's fetch loop for one partition and one leader epoch. Stop it before another starts. */
export class ReplicaFetcher {
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly #s: FetcherStart;
  readonly #abort = new AbortController();
  readonly #done: Promise<void>;
  readonly #fetch: typeof fetch;
  #highWatermark: number;

  constructor(start: FetcherStart) {
    this.#s = start;
    this.leaderId = start.leaderId;
    this.leaderEpoch = start.leaderEpoch;
    this.#fetch = start.fetch ?? fetch;
    this.#highWatermark = this.#describe().highWatermark;
    this.#done = this.#run();
  }

  /** Stops fetching; resolves once no append or truncation of this fetcher is in progress. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }

  #describe() {
    return this.#s.store.describePartition(this.#s.localTopic, this.#s.partition);
  }

  #url(kind: "batches" | "epoch-end", query: Record<string, number>): string | undefined {
    const base = this.#s.leaderUrl();
    if (base === undefined) return undefined;
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) q.set(k, String(v));
    q.set("topicId", this.#s.topicId);
    return `${base}/v1/replica/topics/${encodeURIComponent(this.#s.topic)}/partitions/${this.#s.partition}/${kind}?${q}`;
  }

  async #run(): Promise<void> {
    let backoff = 50;
    let truncated = false;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        if (!truncated) {
          if (!(await this.#truncate())) throw new Error(`leader ${this.leaderId} of ${this.#s.topic}/${this.#s.partition} is not registered`);
          truncated = true;
        }
        const step = await this.#fetchOnce();
        if (step === "truncate") truncated = false;
        backoff = 50;
      } catch (error) {
        if (signal.aborted) return;
        this.#s.onError(error);
        await new Promise((resolve) => setTimeout(resolve, backoff).unref?.());
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }

  /**
   * Asks the leader where this replica's latest epoch ends in its history and cuts this log there: an
   * uncommitted tail written under an older leader disappears before anything new is appended.
   * @returns false when the leader cannot be reached by URL yet.
   */
  async #truncate(): Promise<boolean> {
    const { store, localTopic: topic, partition } = this.#s;
    const { logEndOffset, logStartOffset } = this.#describe();
    const latest = await store.latestEpoch(topic, partition);
    if (logEndOffset === logStartOffset || latest < 0) return true;
    const url = this.#url("epoch-end", { leaderEpoch: latest, currentLeaderEpoch: this.leaderEpoch });
    if (url === undefined) return false;
    const res = await this.#fetch(url, { signal: this.#abort.signal });
    if (!res.ok) {
      const { code, message } = await errorCode(res);
      throw new Error(`epoch-end from leader ${this.leaderId}: ${code}: ${message}`);
    }
    const theirs = (await res.json()) as { leaderEpoch: number; endOffset: number };
    let target: number;
    if (theirs.endOffset < 0) {
      // The leader knows no epoch at or below ours: keep only what was committed.
      target = this.#highWatermark;
    } else {
      const ours = await store.endOffsetForEpoch(topic, partition, theirs.leaderEpoch);
      target = ours.endOffset < 0 ? theirs.endOffset : Math.min(theirs.endOffset, ours.endOffset);
    }
    if (target < logEndOffset) {
      if (target < logStartOffset) await store.truncateFullyAndStartAt(topic, partition, target < 0 ? 0 : target);
      else await store.truncateTo(topic, partition, target);
    }
    this.#highWatermark = Math.min(this.#highWatermark, this.#describe().logEndOffset);
    return true;
  }

  /** One fetch: append what came, follow the high watermark. */
  async #fetchOnce(): Promise<"ok" | "truncate"> {
    const { store, localTopic: topic, partition } = this.#s;
    const offset = this.#describe().logEndOffset;
    const url = this.#url("batches", {
      offset,
      leaderEpoch: this.leaderEpoch,
      replicaId: this.#s.nodeId,
      waitMs: this.#s.waitMs,
      maxBytes: REPLICA_MAX_BYTES,
    });
    if (url === undefined) throw new Error(`leader ${this.leaderId} of ${this.#s.topic}/${partition} is not registered`);
    const res = await this.#fetch(url, { signal: this.#abort.signal });
    if (!res.ok) {
      const { code, message } = await errorCode(res);
      if (code === "OFFSET_OUT_OF_RANGE") {
        const leaderStart = Number(res.headers.get("minikafka-log-start-offset"));
        if (Number.isSafeInteger(leaderStart) && offset < leaderStart) {
          // Entirely behind the leader's retention: start over at its log start.
          await store.truncateFullyAndStartAt(topic, partition, leaderStart);
          this.#highWatermark = leaderStart;
          return "ok";
        }
        return "truncate"; // past the leader's end: our tail diverges
      }
      throw new Error(`fetch from leader ${this.leaderId}: ${code}: ${message}`);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (this.#abort.signal.aborted) return "ok";
    if (bytes.length > 0) await store.appendAsFollower(topic, partition, bytes);
    const leaderHw = Number(res.headers.get("minikafka-high-watermark"));
    if (Number.isSafeInteger(leaderHw)) {
      // Not above what is durable here (Kafka's followers: the smaller of the leader's and their own end).
      const hw = Math.min(leaderHw, await store.durableEndOffset(topic, partition));
      if (hw > this.#highWatermark) {
        await store.setHighWatermark(topic, partition, hw);
        this.#highWatermark = hw;
      }
    }
    return "ok";
  }
}
