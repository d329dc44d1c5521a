// The leader side of one replicated partition: what each follower has (from its fetches), the high
// watermark (the lowest log end of the in-sync replicas), ISR shrink and expand, and the produce answers
// that wait for the ISR (acks=all). Pure bookkeeping over injected effects, so that it is tested alone.
import { BrokerError } from "../errors.js";

/** What a {@link PartitionLeader} does to the world. */
export interface LeaderEffects {
  /** Moves the local log's high watermark up (`LogStore.setHighWatermark`). */
  setHighWatermark(offset: number): Promise<void>;
  /**
   * Writes a new ISR for this partition to the cluster metadata (compare-and-swap on the state this leader
   * knows, with its epoch). Resolves `true` once written, `false` when the state changed meanwhile.
   */
  proposeIsr(isr: readonly number[]): Promise<boolean>;
  /** False once this broker's etcd lease may have expired: then it must not acknowledge anything. */
  leaseValid(): boolean;
  /** Time in ms (injected for tests). */
  now(): number;
  /** Errors of background work (an ISR change that could not be written). */
  onError(error: unknown): void;
}

/** How a {@link PartitionLeader} starts. */
export interface LeaderStart {
  topic: string;
  partition: number;
  /** This broker's node id. */
  nodeId: number;
  /** The epoch this broker leads in. */
  leaderEpoch: number;
  /** The partition's replicas (node ids). */
  replicas: readonly number[];
  /** The ISR as the metadata says (this broker first). */
  isr: readonly number[];
  /** The local log's high watermark and durable end when leadership began. */
  highWatermark: number;
  logEndOffset: number;
  /** Produce is refused with `NOT_ENOUGH_REPLICAS` while the ISR is smaller. */
  minInsyncReplicas: number;
  /** A follower that has not caught up for this long leaves the ISR. */
  replicaLagTimeMs: number;
  /** A produce not committed within this is answered `NOT_ENOUGH_REPLICAS_AFTER_APPEND`. */
  ackTimeoutMs: number;
}

interface FollowerState {
  /** Its log end as its last fetch said (the fetch offset). */
  logEnd: number;
  /** When it last had everything the leader had (Kafka's lastCaughtUpTimeMs). */
  lastCaughtUpMs: number;
  /** When it last fetched, and the leader's log end then. */
  lastFetchMs: number;
  leaderEndAtLastFetch: number;
}

interface AckWaiter {
  end: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One partition this broker leads, in one leader epoch. Created when the metadata names this broker the
 * leader, {@link PartitionLeader.resign resigned} when it no longer does (every waiting produce is then
 * answered `NOT_LEADER_OR_FOLLOWER`).
 */
export class PartitionLeader {
  readonly topic: string;
  readonly partition: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly minInsyncReplicas: number;
  readonly #nodeId: number;
  readonly #effects: LeaderEffects;
  readonly #lagMs: number;
  readonly #ackTimeoutMs: number;
  /** The log end when leadership began: a follower rejoins the ISR only once it has reached it. */
  readonly #epochStart: number;
  readonly #startedMs: number;
  #isr: number[];
  #highWatermark: number;
  #logEnd: number;
  #hwTarget: number;
  #hwWrite: Promise<void> = Promise.resolve();
  readonly #followers = new Map<number, FollowerState>();
  /** Produce answers waiting for the high watermark, by end offset ascending. */
  #waiters: AckWaiter[] = [];
  /** Follower fetches waiting for a high watermark change. */
  readonly #hwListeners = new Set<() => void>();
  #isrChange: Promise<void> | undefined;
  #resigned: Error | undefined;
  readonly #abort = new AbortController();
  readonly #lagTimer: ReturnType<typeof setInterval>;

  constructor(start: LeaderStart, effects: LeaderEffects) {
    this.topic = start.topic;
    this.partition = start.partition;
    this.leaderEpoch = start.leaderEpoch;
    this.replicas = [...start.replicas];
    this.minInsyncReplicas = start.minInsyncReplicas;
    this.#nodeId = start.nodeId;
    this.#effects = effects;
    this.#lagMs = start.replicaLagTimeMs;
    this.#ackTimeoutMs = start.ackTimeoutMs;
    this.#isr = [...start.isr];
    this.#highWatermark = start.highWatermark;
    this.#hwTarget = start.highWatermark;
    this.#logEnd = start.logEndOffset;
    this.#epochStart = start.logEndOffset;
    this.#startedMs = effects.now();
    this.#lagTimer = setInterval(() => this.#checkLag(), Math.max(50, Math.floor(this.#lagMs / 4)));
    this.#lagTimer.unref?.();
    // Alone in the ISR (RF 1, or the others dropped out): what is durable here is committed.
    this.#advance();
  }

  /** The in-sync replicas as this leader last wrote or read them. */
  get isr(): readonly number[] {
    return this.#isr;
  }

  /** The log end when this leadership began: everything below it was written by earlier leaders. */
  get epochStartOffset(): number {
    return this.#epochStart;
  }

  /** The high watermark this leader has set (what followers are told). */
  get highWatermark(): number {
    return this.#highWatermark;
  }

  /** Aborted once this leader resigns: follower fetches waiting on it return. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /**
   * Before a produce appends anything.
   * @throws BrokerError `NOT_LEADER_OR_FOLLOWER` once resigned or when the lease may have expired;
   *   `NOT_ENOUGH_REPLICAS` when the ISR is smaller than the minimum.
   */
  checkProduce(): void {
    if (this.#resigned !== undefined) throw this.#resigned;
    if (!this.#effects.leaseValid()) throw this.#notLeader("its cluster lease may have expired");
    if (this.#isr.length < this.minInsyncReplicas) {
      throw new BrokerError(
        "NOT_ENOUGH_REPLICAS",
        `partition ${this.topic}/${this.partition} has ${this.#isr.length} in-sync replicas (${this.#isr.join(", ")}), fewer than its minimum of ${this.minInsyncReplicas}: nothing appended`,
      );
    }
  }

  /**
   * After an append is durable here: resolves once the in-sync replicas all have offsets below `end`
   * (the high watermark passed it), so the produce may be acknowledged.
   * @throws BrokerError `NOT_LEADER_OR_FOLLOWER` (resigned, or the lease may have expired, meanwhile),
   *   `NOT_ENOUGH_REPLICAS_AFTER_APPEND` (the ISR fell below the minimum, or not replicated in time)
   */
  committed(end: number): Promise<void> {
    if (this.#resigned !== undefined) return Promise.reject(this.#resigned);
    if (end > this.#logEnd) {
      this.#logEnd = end;
      this.#advance();
    }
    if (end <= this.#highWatermark) {
      try {
        this.#checkAck();
      } catch (error) {
        return Promise.reject(error as Error);
      }
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: AckWaiter = {
        end,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(
            new BrokerError(
              "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
              `partition ${this.topic}/${this.partition}: appended, but the in-sync replicas (${this.#isr.join(", ")}) did not all have it within ${this.#ackTimeoutMs} ms; it may still be committed`,
            ),
          );
        }, this.#ackTimeoutMs),
      };
      waiter.timer.unref?.();
      let i = this.#waiters.length;
      while (i > 0 && this.#waiters[i - 1]!.end > end) i--;
      this.#waiters.splice(i, 0, waiter);
    });
  }

  /**
   * A follower fetched from `offset`: it holds everything below it. Updates its catch-up time, the high
   * watermark, and proposes its return to the ISR once it has caught up.
   * @throws BrokerError `INVALID_REQUEST` when `replicaId` is no replica of the partition
   */
  followerFetched(replicaId: number, offset: number): void {
    if (!this.replicas.includes(replicaId) || replicaId === this.#nodeId) {
      throw new BrokerError(
        "INVALID_REQUEST",
        `node ${replicaId} is not a follower of ${this.topic}/${this.partition} (replicas ${this.replicas.join(", ")})`,
      );
    }
    const now = this.#effects.now();
    const state = this.#followers.get(replicaId);
    let caughtUp = state?.lastCaughtUpMs ?? -Infinity;
    if (offset >= this.#logEnd) caughtUp = now;
    else if (state !== undefined && offset >= state.leaderEndAtLastFetch) caughtUp = Math.max(caughtUp, state.lastFetchMs);
    this.#followers.set(replicaId, { logEnd: offset, lastCaughtUpMs: caughtUp, lastFetchMs: now, leaderEndAtLastFetch: this.#logEnd });
    if (!this.#isr.includes(replicaId)) {
      if (offset >= this.#highWatermark && offset >= this.#epochStart) this.#changeIsr([...this.#isr, replicaId]);
    } else {
      this.#advance();
    }
  }

  /**
   * Resolves when the high watermark moves past `known` (at once if it already has), or when `signal`
   * aborts or this leader resigns: a follower's fetch that has no new batches to wait for still answers
   * promptly with the new high watermark.
   */
  highWatermarkAbove(known: number, signal: AbortSignal): Promise<void> {
    if (this.#highWatermark > known || this.#resigned !== undefined || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#hwListeners.delete(listener);
        signal.removeEventListener("abort", done);
        this.#abort.signal.removeEventListener("abort", done);
        resolve();
      };
      const listener = () => {
        if (this.#highWatermark > known) done();
      };
      this.#hwListeners.add(listener);
      signal.addEventListener("abort", done, { once: true });
      this.#abort.signal.addEventListener("abort", done, { once: true });
    });
  }

  /** The metadata changed the ISR (a controller dropped a dead broker, or our own write came back). */
  isrChanged(isr: readonly number[]): void {
    this.#isr = [...isr];
    this.#advance();
  }

  /** Stops leading: waiting produce answers fail with `NOT_LEADER_OR_FOLLOWER`, follower fetches return. */
  resign(reason: string): void {
    if (this.#resigned !== undefined) return;
    this.#resigned = this.#notLeader(reason);
    clearInterval(this.#lagTimer);
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(this.#resigned);
    }
    this.#abort.abort();
    for (const listener of [...this.#hwListeners]) listener();
  }

  #notLeader(reason: string): BrokerError {
    return new BrokerError(
      "NOT_LEADER_OR_FOLLOWER",
      `this broker no longer leads ${this.topic}/${this.partition} (epoch ${this.leaderEpoch}): ${reason}; refresh the metadata and send to the leader`,
    );
  }

  /** @throws what a produce whose offsets are all committed is answered with, when not success. */
  #checkAck(): void {
    if (this.#resigned !== undefined) throw this.#resigned;
    if (!this.#effects.leaseValid()) throw this.#notLeader("its cluster lease may have expired");
  }

  /** Moves the high watermark to the lowest log end of the ISR, then answers the produces it commits. */
  #advance(): void {
    if (this.#resigned !== undefined) return;
    let hw = this.#logEnd;
    for (const id of this.#isr) {
      if (id === this.#nodeId) continue;
      const end = this.#followers.get(id)?.logEnd;
      if (end === undefined) return; // not heard from since this leadership began: it may lack anything
      if (end < hw) hw = end;
    }
    if (hw <= this.#hwTarget) return;
    this.#hwTarget = hw;
    this.#hwWrite = this.#hwWrite
      .then(() => this.#effects.setHighWatermark(hw))
      .then(
        () => {
          if (hw <= this.#highWatermark) return;
          this.#highWatermark = hw;
          this.#release();
          for (const listener of [...this.#hwListeners]) listener();
        },
        (error: unknown) => this.#effects.onError(error),
      );
  }

  #release(): void {
    let n = 0;
    while (n < this.#waiters.length && this.#waiters[n]!.end <= this.#highWatermark) n++;
    if (n === 0) return;
    const ready = this.#waiters.splice(0, n);
    let failure: Error | undefined;
    try {
      this.#checkAck();
      if (this.#isr.length < this.minInsyncReplicas) {
        failure = new BrokerError(
          "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
          `partition ${this.topic}/${this.partition}: appended, but its in-sync replicas fell to ${this.#isr.length}, below the minimum of ${this.minInsyncReplicas}`,
        );
      }
    } catch (error) {
      failure = error as Error;
    }
    for (const w of ready) {
      clearTimeout(w.timer);
      if (failure === undefined) w.resolve();
      else w.reject(failure);
    }
  }

  /** Drops followers that have not caught up for the lag time from the ISR. */
  #checkLag(): void {
    if (this.#resigned !== undefined || this.#isrChange !== undefined) return;
    const now = this.#effects.now();
    const lagging = this.#isr.filter((id) => {
      if (id === this.#nodeId) return false;
      const caughtUp = this.#followers.get(id)?.lastCaughtUpMs ?? this.#startedMs;
      return now - Math.max(caughtUp, this.#startedMs) > this.#lagMs;
    });
    if (lagging.length > 0) this.#changeIsr(this.#isr.filter((id) => !lagging.includes(id)));
  }

  /** Writes a new ISR; only once it is in the metadata does the high watermark use it. */
  #changeIsr(next: number[]): void {
    if (this.#isrChange !== undefined || this.#resigned !== undefined) return;
    this.#isrChange = this.#effects
      .proposeIsr(next)
      .then(
        (written) => {
          if (written && this.#resigned === undefined) this.isrChanged(next);
        },
        (error: unknown) => this.#effects.onError(error),
      )
      .finally(() => (this.#isrChange = undefined));
  }
}
