import type { ClientClock } from "./clock.js";
import { ClientError, isClientError, isLostCode } from "./errors.js";
import { segment, type Requester, type RetryPolicy } from "./http.js";
import { flatten, group, partitionKey } from "./partition-key.js";
import { backoffMs, sleep } from "./sleep.js";
import type { TopicPartition, TopicPartitionOffset } from "./types.js";
import type { WireHeartbeatResult, WireJoinResult } from "./wire.js";

/** What a {@link GroupMember} tells its consumer. Callbacks are synchronous; start async work from them. */
export interface GroupMemberListener {
  /** These partitions are now this member's (from a join or heartbeat answer). */
  assigned(partitions: TopicPartition[]): void;
  /** Let go of these: stop handing out their records, commit what was processed, then `release()` them. */
  revoked(partitions: TopicPartition[]): void;
  /** The membership is gone (fenced, evicted, no heartbeat for a session): every partition is lost and
   * commits would be refused. The member rejoins by itself. */
  lost(reason: ClientError): void;
  /** The membership cannot go on (another process took the instance id, a join was refused): stop. */
  fatal(error: unknown): void;
}

/** Options of {@link GroupMember}. */
export interface GroupMemberOptions {
  groupId: string;
  instanceId: string | undefined;
  topics: readonly string[];
  /** Give up the partitions locally after this long without a successful heartbeat, in ms. */
  sessionTimeoutMs: number;
  /** Sent in the join as the member's session timeout (undefined: the broker's own applies). */
  requestedSessionTimeoutMs?: number | undefined;
  retry: RetryPolicy;
  /** Drives heartbeat intervals, backoffs and the local session timeout. */
  clock: ClientClock;
}

/**
 * One membership in a consumer group, speaking the broker's group protocol (KIP-848 style): join, then
 * heartbeat in the background every `heartbeatIntervalMs` the broker asks for, one heartbeat at a time,
 * each carrying the partitions owned *now*. Partitions taken away are revoked through the listener and
 * stay owned until `release()`d, so that a partition never has two owners. Rejoins after being fenced or
 * evicted. Commits are serialized with releases and carry the current epoch (retried once the epoch
 * advanced, on `STALE_MEMBER_EPOCH`). Internal: the consumer's machinery.
 */
export class GroupMember {
  readonly #http: Requester;
  readonly #options: GroupMemberOptions;
  readonly #listener: GroupMemberListener;
  readonly #groupPath: string;
  #memberId: string | undefined;
  #memberEpoch = 0;
  #intervalMs = 5_000;
  readonly #owned = new Map<string, TopicPartition>();
  readonly #revoking = new Set<string>();
  #lastSuccess = 0;
  #failures = 0;
  #stopped = false;
  readonly #stop = new AbortController();
  #nudge = new AbortController();
  #loop: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #heartbeatWaiters: Array<() => void> = [];
  // Commits and releases, one at a time and in order: a commit never names a partition already let go.
  #chain: Promise<unknown> = Promise.resolve();

  constructor(http: Requester, options: GroupMemberOptions, listener: GroupMemberListener) {
    this.#http = http;
    this.#options = options;
    this.#listener = listener;
    this.#groupPath = `v1/groups/${segment(options.groupId)}`;
  }

  /** The current member id, `undefined` while not joined. */
  get memberId(): string | undefined {
    return this.#memberId;
  }

  /** Joins (rejecting if the first join fails), then heartbeats and rejoins in the background. */
  async start(): Promise<void> {
    await this.#join();
    this.#loop = this.#run();
  }

  /** Whether this member currently owns the partition (assigned, or revoked but not released yet). */
  owns(topic: string, partition: number): boolean {
    return this.#owned.has(partitionKey(topic, partition));
  }

  /** Stops listing `partitions` (call after committing them) and heartbeats at once to hand them over. */
  release(partitions: readonly TopicPartition[]): Promise<void> {
    return this.#serially(async () => {
      for (const { topic, partition } of partitions) {
        const key = partitionKey(topic, partition);
        this.#owned.delete(key);
        this.#revoking.delete(key);
      }
      this.#nudge.abort();
    });
  }

  /**
   * Commits `offsets` (next offsets to read) for the partitions among them this member owns; resolves
   * with those. Retries with the new epoch after `STALE_MEMBER_EPOCH`.
   * @throws ClientError from the broker (e.g. `UNKNOWN_MEMBER_ID` once evicted, `UNASSIGNED_PARTITION`).
   */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<TopicPartitionOffset[]> {
    return this.#serially(async () => {
      const owned = offsets.filter((o) => this.#owned.has(partitionKey(o.topic, o.partition)));
      for (let attempt = 1; owned.length > 0; attempt++) {
        const memberId = this.#memberId;
        if (memberId === undefined) return [];
        try {
          await this.#http.request("POST", `${this.#groupPath}/offsets`, {
            json: { memberId, memberEpoch: this.#memberEpoch, offsets: owned.map(({ topic, partition, offset }) => ({ topic, partition, offset })) },
            retry: "idempotent",
          });
          return owned;
        } catch (error) {
          // A heartbeat advanced the epoch meanwhile: learn the new one, then commit again (Kafka's rule).
          if (isClientError(error, "STALE_MEMBER_EPOCH") && attempt < 5 && !this.#stopped) {
            await this.#nextHeartbeat();
            continue;
          }
          throw error;
        }
      }
      return [];
    });
  }

  /** Runs `task` after every task queued before it (commits and releases never overlap). */
  #serially<T>(task: () => Promise<T>): Promise<T> {
    const done = this.#chain.then(task);
    this.#chain = done.catch(() => {});
    return done;
  }

  /** Stops heartbeating and, with `leave`, leaves the group so that its partitions move at once. Idempotent;
   * never rejects (a member that cannot reach the broker is evicted when its session expires). */
  stop(leave: boolean): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopped = true;
      this.#stop.abort();
      await this.#loop;
      this.#wakeHeartbeatWaiters();
      await this.#chain;
      const memberId = this.#memberId;
      this.#memberId = undefined;
      if (leave && memberId !== undefined) {
        await this.#http.request("DELETE", `${this.#groupPath}/members/${segment(memberId)}`, { retry: "idempotent" }).catch(() => {});
      }
    })();
    return this.#stopping;
  }

  async #join(): Promise<void> {
    const { topics, instanceId, requestedSessionTimeoutMs } = this.#options;
    const body: { topics: readonly string[]; instanceId?: string; sessionTimeoutMs?: number } = { topics };
    if (instanceId !== undefined) body.instanceId = instanceId;
    if (requestedSessionTimeoutMs !== undefined) body.sessionTimeoutMs = requestedSessionTimeoutMs;
    const joined = await this.#http.request<WireJoinResult>("POST", `${this.#groupPath}/members`, {
      json: body,
      retry: "broker-retriable",
      signal: this.#stop.signal,
    });
    this.#memberId = joined.memberId;
    this.#memberEpoch = joined.memberEpoch;
    this.#intervalMs = joined.heartbeatIntervalMs;
    this.#lastSuccess = this.#options.clock.now();
    this.#failures = 0;
    this.#owned.clear();
    this.#revoking.clear();
    this.#apply(joined);
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#memberId === undefined) {
        try {
          await this.#join();
        } catch (error) {
          if (this.#stopped) break;
          if (isFatal(error)) {
            this.#stopped = true;
            this.#listener.fatal(error);
            break;
          }
          await sleep(
            this.#options.clock,
            backoffMs(++this.#failures, this.#options.retry.initialRetryTimeMs, this.#options.retry.maxRetryTimeMs),
            this.#stop.signal,
          );
        }
        continue;
      }
      const nudge = this.#nudge.signal;
      const wait =
        this.#failures === 0
          ? this.#intervalMs
          : Math.min(this.#intervalMs, backoffMs(this.#failures, this.#options.retry.initialRetryTimeMs, this.#intervalMs));
      await sleep(this.#options.clock, wait, nudge, this.#stop.signal);
      if (nudge.aborted) this.#nudge = new AbortController();
      if (this.#stopped) break;
      await this.#heartbeat();
      this.#wakeHeartbeatWaiters();
    }
    this.#wakeHeartbeatWaiters();
  }

  async #heartbeat(): Promise<void> {
    const memberId = this.#memberId!;
    // Built now, from what is owned now: a late duplicate must never omit a partition still being processed.
    const body = { memberEpoch: this.#memberEpoch, ownedPartitions: group(this.#owned.values()) };
    try {
      const answer = await this.#http.request<WireHeartbeatResult>("POST", `${this.#groupPath}/members/${segment(memberId)}/heartbeat`, {
        json: body,
        retry: "never",
        signal: this.#stop.signal,
      });
      if (this.#stopped || memberId !== this.#memberId) return;
      this.#lastSuccess = this.#options.clock.now();
      this.#failures = 0;
      this.#memberEpoch = answer.memberEpoch;
      this.#intervalMs = answer.heartbeatIntervalMs;
      this.#apply(answer);
    } catch (error) {
      if (this.#stopped) return;
      if (isClientError(error) && isLostCode(error.code)) return this.#lose(error);
      if (isFatal(error)) {
        // FENCED_INSTANCE_ID (another process took our instance id), or a request the broker refuses.
        this.#stopped = true;
        this.#listener.fatal(error);
        return;
      }
      this.#failures++;
      const silentMs = this.#options.clock.now() - this.#lastSuccess;
      if (silentMs > this.#options.sessionTimeoutMs) {
        // By now the coordinator may have given our partitions to someone else: stop processing them.
        this.#lose(
          new ClientError(
            "UNKNOWN_MEMBER_ID",
            `no heartbeat of member ${memberId} succeeded for ${silentMs} ms (session timeout ${this.#options.sessionTimeoutMs} ms)`,
            {
              retriable: true,
              cause: error,
            },
          ),
        );
      }
    }
  }

  #apply(answer: WireHeartbeatResult): void {
    const next = new Map<string, TopicPartition>();
    for (const tp of flatten(answer.assignment)) next.set(partitionKey(tp.topic, tp.partition), tp);
    const added: TopicPartition[] = [];
    const revoked: TopicPartition[] = [];
    for (const [key, tp] of next) {
      if (!this.#owned.has(key)) {
        this.#owned.set(key, tp);
        added.push(tp);
      }
    }
    for (const [key, tp] of this.#owned) {
      if (!next.has(key) && !this.#revoking.has(key)) {
        this.#revoking.add(key);
        revoked.push(tp);
      }
    }
    if (revoked.length > 0) this.#listener.revoked(revoked);
    if (added.length > 0) this.#listener.assigned(added);
  }

  #lose(reason: ClientError): void {
    this.#memberId = undefined;
    this.#memberEpoch = 0;
    this.#owned.clear();
    this.#revoking.clear();
    this.#listener.lost(reason);
  }

  #nextHeartbeat(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const next = new Promise<void>((resolve) => this.#heartbeatWaiters.push(resolve));
    this.#nudge.abort();
    return next;
  }

  #wakeHeartbeatWaiters(): void {
    const waiters = this.#heartbeatWaiters;
    this.#heartbeatWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** A refusal that trying again cannot fix (a 4xx other than the retriable ones): the member stops. */
function isFatal(error: unknown): boolean {
  return isClientError(error) && !error.retriable && error.status !== undefined && error.status < 500;
}
