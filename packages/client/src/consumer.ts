import { Base64Batch, base64DecodedLength } from "./bytes.js";
import { ClientError, isClientError } from "./errors.js";
import { GroupMember } from "./group-member.js";
import { segment, type Http, type RetryPolicy } from "./http.js";
import { positiveInteger } from "./options.js";
import { group, partitionKey } from "./partition-key.js";
import { abortWhen, backoffMs, sleep } from "./sleep.js";
import type { KafkaMessage, MessageFormat, TopicDescription, TopicPartition, TopicPartitionOffset, TopicPartitions } from "./types.js";
import type { WireFetchResult, WireGroupDescription, WireMemberFetchResult, WireRecord } from "./wire.js";

/** Options of {@link Client.consumer}. */
export interface ConsumerOptions<F extends MessageFormat = "bytes"> {
  /** The consumer group: members of one group share the partitions of the topics they subscribe to. */
  groupId: string;
  /**
   * Static membership: a member that rejoins with the same instance id (a restarted process) gets its
   * partitions back at once, without a rebalance, as long as it returns within the broker's session
   * timeout. As in Kafka, `disconnect()` then does not leave the group: the partitions wait for it.
   */
  instanceId?: string | undefined;
  /**
   * Stop processing (and rejoin) after this many ms without a successful heartbeat, because by then the
   * broker may have given the partitions to another member. Set it to the broker's session timeout
   * (default 45 000, the broker's default).
   */
  sessionTimeoutMs?: number | undefined;
  /**
   * Where to start in a partition the group has never committed: its first stored offset (`true`) or its
   * end (`false`, the default: only records produced from now on). Can also be set per `subscribe()`.
   */
  fromBeginning?: boolean | undefined;
  /** Long poll: how long the broker may hold a fetch open waiting for records, in ms (default 5 000). */
  maxWaitTimeMs?: number | undefined;
  /** Most records per fetch, shared between the partitions (default 5 000). */
  maxRecords?: number | undefined;
  /** About the most stored bytes per fetch, shared between the partitions (default 1 MiB). */
  maxBytes?: number | undefined;
  /** `"bytes"` (default): keys, values and headers as `Uint8Array`; `"text"`: as strings (UTF-8 data only). */
  messageFormat?: F | undefined;
}

/** What {@link Consumer.subscribe} takes. */
export interface SubscribeOptions {
  topics: readonly string[];
  /** Overrides the consumer's `fromBeginning` for these topics. */
  fromBeginning?: boolean | undefined;
}

/** What `eachMessage` is called with: one message, in offset order within its partition. */
export interface EachMessagePayload<T> {
  topic: string;
  partition: number;
  message: KafkaMessage<T>;
  /** Pauses this partition (after this message); returns a function that resumes it. */
  pause(): () => void;
}

/** The messages of one partition from one fetch, in offset order. */
export interface Batch<T> {
  topic: string;
  partition: number;
  messages: KafkaMessage<T>[];
  /** Offset of the first message, or `null` for an empty batch. */
  firstOffset(): number | null;
  /** Offset of the last message. */
  lastOffset(): number;
}

/** What `eachBatch` is called with. */
export interface EachBatchPayload<T> {
  batch: Batch<T>;
  /** Marks `offset` (and everything before it) as processed: it will be committed. */
  resolveOffset(offset: number): void;
  /** Commits the processed offsets of every partition now (otherwise done after the batch). */
  commitOffsetsIfNecessary(): Promise<void>;
  /** False once the consumer is stopping: finish quickly. */
  isRunning(): boolean;
  /** True once this batch's partition was revoked, lost, paused or sought: stop processing it. */
  isStale(): boolean;
  /** Pauses this partition; returns a function that resumes it. */
  pause(): () => void;
}

/** What {@link Consumer.run} takes: exactly one of `eachMessage` and `eachBatch`. */
export interface RunOptions<T> {
  /** Called for each message, one at a time. A throw retries the message (see the README). */
  eachMessage?: ((payload: EachMessagePayload<T>) => Promise<void>) | undefined;
  /** Called for each partition's batch, one at a time. */
  eachBatch?: ((payload: EachBatchPayload<T>) => Promise<void>) | undefined;
  /**
   * Commit processed offsets after each fetched batch, before a partition is handed over, and on
   * `disconnect()` (default `true`: at-least-once). With `false`, call `commitOffsets()` yourself.
   */
  autoCommit?: boolean | undefined;
  /** With `eachBatch`: a batch that returns without throwing counts as fully processed (default `true`). */
  eachBatchAutoResolve?: boolean | undefined;
}

/** What a `"crash"` listener receives: the error that stopped the consumer. */
export interface ConsumerCrashEvent {
  error: unknown;
}

/** Partitions to pause or resume: every partition of `topic`, or only `partitions`. */
export interface TopicPartitionsSelection {
  topic: string;
  partitions?: readonly number[] | undefined;
}

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  phase: "initializing" | "active" | "revoking";
  /** Next offset to hand out. */
  position: number | undefined;
  /** Last offset known committed for the group (what the broker's group fetch reads from). */
  committed: number | undefined;
  /** Bumped by `seek()`: records fetched before are stale. */
  generation: number;
}

interface FetchedBatch {
  state: PartitionState;
  records: WireRecord[];
}

type State = "idle" | "starting" | "running" | "stopping" | "stopped";

const DEFAULTS = { sessionTimeoutMs: 45_000, maxWaitTimeMs: 5_000, maxRecords: 5_000, maxBytes: 1024 * 1024 };
const MAX_RECORDS = 100_000;
const MAX_BYTES = 64 * 1024 * 1024;

/**
 * A member of a consumer group, shaped after KafkaJS: `subscribe()`, then `run({ eachMessage })` or
 * `run({ eachBatch })`. Create it with {@link Client.consumer}.
 *
 * Behind `run()`: heartbeats in the background on the interval the broker asks for; long-poll fetches
 * (one request for all the member's partitions, naming the consumer's positions; one per partition while
 * some are paused); handlers called one message (or batch) at a time, in offset order per partition;
 * processed offsets committed after each batch (at-least-once), that commit running while the next
 * batch is fetched.
 * A revoked partition stops being handed out, its processed offsets are committed, and only then is it
 * released to its next owner, so a partition is never processed by two members at once. Fenced or evicted,
 * the consumer drops everything and rejoins. `disconnect()` commits and leaves, so partitions move at once.
 */
export class Consumer<T = Uint8Array> {
  readonly #http: Http;
  readonly #retry: RetryPolicy;
  readonly #groupId: string;
  readonly #groupPath: string;
  readonly #instanceId: string | undefined;
  readonly #sessionTimeoutMs: number;
  readonly #fromBeginning: boolean;
  readonly #waitMs: number;
  readonly #maxRecords: number;
  readonly #maxBytes: number;
  readonly #format: MessageFormat;
  readonly #topics = new Map<string, boolean>();
  readonly #partitions = new Map<string, PartitionState>();
  readonly #pausedTopics = new Set<string>();
  readonly #pausedPartitions = new Set<string>();
  readonly #pendingSeeks = new Map<string, number>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #crashListeners = new Set<(event: ConsumerCrashEvent) => void>();
  readonly #stop = new AbortController();
  #state: State = "idle";
  #member: GroupMember | undefined;
  #wake = new AbortController();
  /** The partition whose handler is running, if any. */
  #busyKey: string | undefined;
  #idleWaiters: Array<() => void> = [];
  #runLoop: Promise<void> | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #handlerFailures = 0;
  /** The background commit of processed positions, while one runs. */
  #committing: Promise<void> | undefined;
  #commitAgain = false;
  #autoCommit = true;
  #autoResolve = true;
  #eachMessage: RunOptions<T>["eachMessage"];
  #eachBatch: RunOptions<T>["eachBatch"];

  /** @internal Use {@link Client.consumer}. */
  constructor(http: Http, retry: RetryPolicy, options: ConsumerOptions<MessageFormat>) {
    if (typeof options?.groupId !== "string" || options.groupId.length === 0)
      throw new ClientError("INVALID_CONFIG", "groupId must be a non-empty string");
    if (options.instanceId !== undefined && (typeof options.instanceId !== "string" || options.instanceId.length === 0)) {
      throw new ClientError("INVALID_CONFIG", "instanceId must be a non-empty string");
    }
    if (options.messageFormat !== undefined && options.messageFormat !== "bytes" && options.messageFormat !== "text") {
      throw new ClientError("INVALID_CONFIG", `messageFormat must be "bytes" or "text", got ${String(options.messageFormat)}`);
    }
    this.#http = http;
    this.#retry = retry;
    this.#groupId = options.groupId;
    this.#groupPath = `v1/groups/${segment(options.groupId)}`;
    this.#instanceId = options.instanceId;
    this.#sessionTimeoutMs = positiveInteger("sessionTimeoutMs", options.sessionTimeoutMs, DEFAULTS.sessionTimeoutMs);
    this.#fromBeginning = options.fromBeginning === true;
    this.#waitMs = positiveInteger("maxWaitTimeMs", options.maxWaitTimeMs, DEFAULTS.maxWaitTimeMs);
    this.#maxRecords = Math.min(MAX_RECORDS, positiveInteger("maxRecords", options.maxRecords, DEFAULTS.maxRecords));
    this.#maxBytes = Math.min(MAX_BYTES, positiveInteger("maxBytes", options.maxBytes, DEFAULTS.maxBytes));
    this.#format = options.messageFormat ?? "bytes";
  }

  /**
   * Optional (KafkaJS habit): checks that the broker is up and ready.
   * @throws ClientError when the broker cannot be reached or is not ready.
   */
  async connect(): Promise<void> {
    await this.#http.request("GET", "readyz", { retry: "idempotent" });
  }

  /**
   * Adds topics to the subscription. Call before {@link Consumer.run}. Topics that do not exist yet are
   * fine: their partitions are assigned once they are created.
   * @throws ClientError `INVALID_REQUEST` after `run()`, or for an empty or non-string topic.
   */
  async subscribe(options: SubscribeOptions): Promise<void> {
    if (this.#state !== "idle") throw new ClientError("INVALID_REQUEST", "subscribe() must be called before run()");
    const topics = options?.topics;
    if (!Array.isArray(topics) || topics.length === 0)
      throw new ClientError("INVALID_REQUEST", "subscribe() takes { topics: [...] } with at least one topic");
    for (const topic of topics) {
      if (typeof topic !== "string" || topic.length === 0)
        throw new ClientError("INVALID_REQUEST", `topic names must be non-empty strings, got ${JSON.stringify(topic)}`);
    }
    for (const topic of topics) this.#topics.set(topic, options.fromBeginning ?? this.#fromBeginning);
  }

  /**
   * Joins the group and starts consuming in the background; resolves once joined. Handlers run one at a
   * time. A handler that throws gets the same message (batch) again after a backoff; after the client's
   * `retry.retries` consecutive failures the consumer crashes: it commits what was processed, leaves the
   * group and tells the `"crash"` listeners.
   * @throws ClientError `INVALID_REQUEST` without a subscription or handler, or when already running; the
   *   broker's error when the first join fails (e.g. `INVALID_GROUP_ID`).
   */
  async run(options: RunOptions<T>): Promise<void> {
    if (this.#state !== "idle")
      throw new ClientError("INVALID_REQUEST", this.#state === "stopped" ? "the consumer is disconnected" : "run() was already called");
    const { eachMessage, eachBatch } = options ?? {};
    if ((typeof eachMessage === "function") === (typeof eachBatch === "function")) {
      throw new ClientError("INVALID_REQUEST", "run() takes exactly one of eachMessage and eachBatch");
    }
    if (this.#topics.size === 0) throw new ClientError("INVALID_REQUEST", "subscribe() to at least one topic before run()");
    this.#eachMessage = eachMessage;
    this.#eachBatch = eachBatch;
    this.#autoCommit = options.autoCommit !== false;
    this.#autoResolve = options.eachBatchAutoResolve !== false;
    this.#state = "starting";
    const member = new GroupMember(
      this.#http,
      {
        groupId: this.#groupId,
        instanceId: this.#instanceId,
        topics: [...this.#topics.keys()],
        sessionTimeoutMs: this.#sessionTimeoutMs,
        retry: this.#retry,
      },
      {
        assigned: (partitions) => this.#onAssigned(partitions),
        revoked: (partitions) => this.#onRevoked(partitions),
        lost: () => this.#onLost(),
        fatal: (error) => void this.#shutdown(error),
      },
    );
    this.#member = member;
    this.#starting = member.start();
    try {
      await this.#starting;
    } catch (error) {
      this.#member = undefined;
      this.#partitions.clear();
      this.#state = "idle";
      throw error;
    }
    if (this.#state !== "starting") return; // disconnected meanwhile
    this.#state = "running";
    this.#runLoop = this.#run();
  }

  /**
   * Commits offsets (the *next* offsets to read) for partitions this consumer owns. Needed with
   * `autoCommit: false`; with auto-commit, later automatic commits move the offsets on from the positions.
   * @throws ClientError `UNASSIGNED_PARTITION` for a partition this consumer does not own,
   *   `UNKNOWN_MEMBER_ID` when it is not in the group (not running, or rejoining), or the broker's error.
   */
  async commitOffsets(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const member = this.#member;
    if (member?.memberId === undefined || (this.#state !== "running" && this.#state !== "stopping")) {
      throw new ClientError("UNKNOWN_MEMBER_ID", `the consumer is not a member of group ${this.#groupId}`);
    }
    for (const o of offsets) {
      checkOffset(o);
      if (!member.owns(o.topic, o.partition))
        throw new ClientError("UNASSIGNED_PARTITION", `partition ${o.partition} of topic ${o.topic} is not assigned to this consumer`);
    }
    for (const o of await member.commit(offsets)) {
      const state = this.#partitions.get(partitionKey(o.topic, o.partition));
      if (state !== undefined) state.committed = o.offset;
    }
  }

  /**
   * Moves the consumer's position in a partition: the next message handed out is at `offset`. Records of
   * that partition already fetched or being handed out in a batch are dropped. For a partition not (yet)
   * assigned, the seek applies if it is assigned to this consumer later. With auto-commit, the new position
   * is committed right away (as KafkaJS does).
   * @throws ClientError `INVALID_REQUEST` for a malformed offset.
   */
  seek(target: TopicPartitionOffset): void {
    checkOffset(target);
    const key = partitionKey(target.topic, target.partition);
    const state = this.#partitions.get(key);
    if (state?.phase === "active") {
      state.position = target.offset;
      state.generation++;
      if (this.#autoCommit && this.#state === "running") this.#commitSoon();
    } else {
      this.#pendingSeeks.set(key, target.offset);
    }
    this.#wakeUp();
  }

  /**
   * Stops handing out messages of these partitions (still owned: no rebalance). A topic without
   * `partitions` is paused as a whole, including partitions assigned later.
   */
  pause(selections: readonly TopicPartitionsSelection[]): void {
    for (const { topic, partitions } of selections) {
      if (partitions === undefined) this.#pausedTopics.add(topic);
      else for (const p of partitions) this.#pausedPartitions.add(partitionKey(topic, p));
    }
    this.#wakeUp();
  }

  /** Resumes paused partitions (a topic without `partitions`: the whole topic and its partitions). */
  resume(selections: readonly TopicPartitionsSelection[]): void {
    for (const { topic, partitions } of selections) {
      if (partitions === undefined) {
        this.#pausedTopics.delete(topic);
        for (const key of this.#pausedPartitions) if (key.slice(key.indexOf(":") + 1) === topic) this.#pausedPartitions.delete(key);
      } else {
        for (const p of partitions) this.#pausedPartitions.delete(partitionKey(topic, p));
      }
    }
    this.#wakeUp();
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

  /** The partitions currently assigned to this consumer (being revoked ones excluded). */
  assignment(): TopicPartitions[] {
    const out: TopicPartition[] = [];
    for (const s of this.#partitions.values()) if (s.phase !== "revoking") out.push({ topic: s.topic, partition: s.partition });
    return group(out);
  }

  /**
   * Listens for the consumer crashing (a handler failing `retry.retries` times in a row, another process
   * taking its `instanceId`, the broker refusing its membership). Returns a function that removes the
   * listener.
   */
  on(event: "crash", listener: (event: ConsumerCrashEvent) => void): () => void {
    if (event !== "crash") throw new ClientError("INVALID_REQUEST", `unknown consumer event ${String(event)}`);
    this.#crashListeners.add(listener);
    return () => this.#crashListeners.delete(listener);
  }

  /**
   * Stops consuming after the message (batch) being handled, commits what was processed (with
   * auto-commit), and leaves the group so that its partitions move to other members at once (a static
   * member, with `instanceId`, does not leave: its partitions wait for it until its session expires).
   * Idempotent; does not reject (a member that cannot reach the broker is evicted after its session timeout).
   */
  disconnect(): Promise<void> {
    return this.#shutdown(undefined);
  }

  /** Same as {@link Consumer.disconnect}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  // ---- membership events ------------------------------------------------------------------------

  #onAssigned(partitions: TopicPartition[]): void {
    const states: PartitionState[] = [];
    for (const { topic, partition } of partitions) {
      const key = partitionKey(topic, partition);
      const state: PartitionState = { topic, partition, key, phase: "initializing", position: undefined, committed: undefined, generation: 0 };
      this.#partitions.set(key, state);
      states.push(state);
    }
    this.#track(this.#initialize(states));
  }

  #onRevoked(partitions: TopicPartition[]): void {
    const states: PartitionState[] = [];
    for (const { topic, partition } of partitions) {
      const state = this.#partitions.get(partitionKey(topic, partition));
      if (state === undefined) continue;
      state.phase = "revoking"; // from now on, none of its records is handed out
      states.push(state);
    }
    this.#track(this.#revoke(partitions, states));
  }

  #onLost(): void {
    // Fenced or evicted: another member may own these partitions now, and our commits would be refused.
    this.#partitions.clear();
    this.#wakeUp();
  }

  #track(task: Promise<void>): void {
    const tracked = task.catch(() => {}).finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }

  /** Learns where the group stands in newly assigned partitions and sets their positions. */
  async #initialize(states: PartitionState[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const current = states.filter((s) => this.#partitions.get(s.key) === s && s.phase === "initializing");
      if (current.length === 0 || this.#stopping !== undefined) return;
      try {
        const description = await this.#http.request<WireGroupDescription>("GET", this.#groupPath, {
          retry: "idempotent",
          signal: this.#stop.signal,
        });
        const known = new Map(description.offsets.map((o) => [partitionKey(o.topic, o.partition), o]));
        const toCommit: TopicPartitionOffset[] = [];
        for (const s of current) {
          let lag = known.get(s.key);
          if (lag === undefined) {
            // Not in the group's view (a race with a topic change): read the partition's bounds directly.
            const topic = await this.#http.request<TopicDescription>("GET", `v1/topics/${segment(s.topic)}`, {
              retry: "idempotent",
              signal: this.#stop.signal,
            });
            const p = topic.partitions[s.partition];
            if (p === undefined) continue;
            lag = {
              topic: s.topic,
              partition: s.partition,
              committedOffset: null,
              highWatermark: p.highWatermark,
              lag: p.highWatermark - p.logStartOffset,
            };
          }
          if (lag.committedOffset !== null) {
            s.position = s.committed = lag.committedOffset;
          } else if (this.#topics.get(s.topic) === true) {
            // Nothing committed: the broker's group fetch starts at the log start too.
            s.position = s.committed = lag.highWatermark - lag.lag;
          } else {
            s.position = lag.highWatermark;
            toCommit.push({ topic: s.topic, partition: s.partition, offset: lag.highWatermark });
          }
        }
        if (toCommit.length > 0) {
          try {
            for (const o of await this.#member!.commit(toCommit)) {
              const s = this.#partitions.get(partitionKey(o.topic, o.partition));
              if (s !== undefined) s.committed = o.offset;
            }
          } catch {
            // The positions are set (fetches name them); a later commit records them.
          }
        }
        for (const s of current) {
          if (this.#partitions.get(s.key) !== s || s.phase !== "initializing") continue;
          const seek = this.#pendingSeeks.get(s.key);
          if (seek !== undefined) {
            this.#pendingSeeks.delete(s.key);
            s.position = seek;
          }
          if (s.position !== undefined) s.phase = "active";
        }
        this.#wakeUp();
        return;
      } catch {
        if (this.#stopping !== undefined) return;
        await sleep(backoffMs(attempt, this.#retry.initialRetryTimeMs, this.#retry.maxRetryTimeMs), this.#stop.signal);
      }
    }
  }

  /** Finishes with revoked partitions: wait for their handler, commit, then let them go. */
  async #revoke(partitions: TopicPartition[], states: PartitionState[]): Promise<void> {
    const keys = new Set(states.map((s) => s.key));
    while (this.#busyKey !== undefined && keys.has(this.#busyKey)) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    if (this.#autoCommit) {
      const offsets = states
        .filter((s) => s.position !== undefined && s.position !== s.committed)
        .map((s) => ({ topic: s.topic, partition: s.partition, offset: s.position! }));
      if (offsets.length > 0) {
        try {
          await this.#member!.commit(offsets);
        } catch {
          // At-least-once: the next owner starts from the last commit and sees these records again.
        }
      }
    }
    for (const s of states) if (this.#partitions.get(s.key) === s) this.#partitions.delete(s.key);
    await this.#member!.release(partitions);
  }

  // ---- the fetch-and-handle loop --------------------------------------------------------------------

  #wakeUp(): void {
    this.#wake.abort();
    this.#wake = new AbortController();
  }

  #isPaused(s: PartitionState): boolean {
    return this.#pausedTopics.has(s.topic) || this.#pausedPartitions.has(s.key);
  }

  #deliverable(s: PartitionState): boolean {
    return this.#state === "running" && s.phase === "active" && this.#partitions.get(s.key) === s && !this.#isPaused(s);
  }

  async #run(): Promise<void> {
    let fetchFailures = 0;
    while (this.#state === "running") {
      const wake = this.#wake.signal;
      const active = [...this.#partitions.values()].filter((s) => this.#deliverable(s));
      if (active.length === 0 || this.#member?.memberId === undefined) {
        await sleep(this.#waitMs, wake);
        continue;
      }
      const started = Date.now();
      let batches: FetchedBatch[];
      try {
        batches = await this.#fetch(active, wake);
        fetchFailures = 0;
      } catch (error) {
        if (this.#state !== "running") break;
        if (!wake.aborted) await sleep(backoffMs(++fetchFailures, this.#retry.initialRetryTimeMs, this.#retry.maxRetryTimeMs), wake);
        continue;
      }
      if (batches.length === 0) {
        // An empty answer long before the wait was up: the broker had nothing to wait on (shutting down, or
        // its view of our assignment is ahead of ours). Do not spin.
        if (!wake.aborted && Date.now() - started < this.#waitMs / 2) await sleep(Math.min(this.#waitMs, 500), wake);
        continue;
      }
      const failure = await this.#handle(batches);
      // The commit of this batch runs while the next one is fetched (fetches name our positions).
      if (this.#autoCommit) this.#commitSoon();
      if (failure !== undefined) {
        if (++this.#handlerFailures > this.#retry.retries) {
          void this.#shutdown(failure.error);
          break;
        }
        await this.#committing;
        await sleep(backoffMs(this.#handlerFailures, this.#retry.initialRetryTimeMs, this.#retry.maxRetryTimeMs), this.#stop.signal);
      } else {
        this.#handlerFailures = 0;
      }
    }
  }

  /**
   * Whether the broker's member fetch serves exactly what we want: it reads every partition the broker
   * has assigned us (from our positions), so not while one is paused or still being set up.
   */
  #memberFetchServes(): boolean {
    for (const s of this.#partitions.values()) {
      if (s.phase === "revoking") continue; // the broker no longer serves it to us either
      if (s.phase !== "active" || this.#isPaused(s)) return false;
    }
    return true;
  }

  async #fetch(active: PartitionState[], wake: AbortSignal): Promise<FetchedBatch[]> {
    const encoding = this.#format === "text" ? "utf8" : "base64";
    if (this.#memberFetchServes()) {
      const memberId = this.#member!.memberId!;
      const positions = active.map((s) => `${s.topic}:${s.partition}:${s.position!}`).join(",");
      let answer: WireMemberFetchResult;
      try {
        answer = await this.#http.request<WireMemberFetchResult>("GET", `${this.#groupPath}/members/${segment(memberId)}/records`, {
          searchParams: { maxRecords: this.#maxRecords, maxBytes: this.#maxBytes, waitMs: this.#waitMs, encoding, positions },
          retry: "idempotent",
          signal: wake,
          extraTimeoutMs: this.#waitMs,
        });
      } catch (error) {
        // A position past the end of its partition (a seek too far, a topic re-created): clamp them all.
        if (!isClientError(error, "OFFSET_OUT_OF_RANGE")) throw error;
        await Promise.all(active.map((state) => this.#resetPosition(state)));
        return [];
      }
      const batches: FetchedBatch[] = [];
      let current: FetchedBatch | undefined;
      for (const record of answer.records) {
        if (current === undefined || current.state.topic !== record.topic || current.state.partition !== record.partition) {
          const state = this.#partitions.get(partitionKey(record.topic, record.partition));
          if (state === undefined) {
            current = undefined; // not ours (any more, or not yet known): dropped, fetched again later
            continue;
          }
          current = { state, records: [] };
          batches.push(current);
        }
        current.records.push(record);
      }
      return batches;
    }
    // While some partitions are paused or being set up: one long poll per deliverable partition, from our
    // positions; the first that brings records cuts the others short.
    const cut = new AbortController();
    const signal = cut.signal;
    const unlink = abortWhen(cut, wake);
    const maxRecords = Math.max(1, Math.ceil(this.#maxRecords / active.length));
    const maxBytes = Math.max(1, Math.ceil(this.#maxBytes / active.length));
    try {
      const results = await Promise.all(
        active.map(async (state): Promise<FetchedBatch | undefined> => {
          try {
            const answer = await this.#http.request<WireFetchResult>(
              "GET",
              `v1/topics/${segment(state.topic)}/partitions/${state.partition}/records`,
              {
                searchParams: { offset: state.position!, maxRecords, maxBytes, waitMs: this.#waitMs, encoding },
                retry: "idempotent",
                signal,
                extraTimeoutMs: this.#waitMs,
              },
            );
            if (answer.records.length === 0) return undefined;
            cut.abort();
            return { state, records: answer.records };
          } catch (error) {
            if (cut.signal.aborted && !wake.aborted) return undefined;
            if (isClientError(error, "OFFSET_OUT_OF_RANGE")) {
              await this.#resetPosition(state);
              return undefined;
            }
            throw error;
          }
        }),
      );
      return results.filter((r): r is FetchedBatch => r !== undefined);
    } finally {
      unlink();
      cut.abort();
    }
  }

  /** The position fell outside the log (retention moved its start, or a seek went too far): clamp it. */
  async #resetPosition(state: PartitionState): Promise<void> {
    const topic = await this.#http.request<TopicDescription>("GET", `v1/topics/${segment(state.topic)}`, { retry: "idempotent" });
    const p = topic.partitions[state.partition];
    if (p === undefined || state.position === undefined) return;
    const clamped = Math.min(Math.max(state.position, p.logStartOffset), p.highWatermark);
    if (clamped === state.position) return;
    state.position = clamped;
    state.generation++;
  }

  /** Hands the batches to the handler; returns the failure that stopped it, if any. */
  async #handle(batches: FetchedBatch[]): Promise<{ error: unknown } | undefined> {
    for (const { state, records } of batches) {
      if (!this.#deliverable(state)) continue;
      const generation = state.generation;
      let start = 0;
      // Already handed out (a commit that did not go through makes the group fetch serve them again).
      if (state.position !== undefined) while (start < records.length && records[start]!.offset < state.position) start++;
      if (start === records.length) continue;
      const pause = () => {
        const selection = [{ topic: state.topic, partitions: [state.partition] }];
        this.pause(selection);
        return () => this.resume(selection);
      };
      if (this.#eachMessage !== undefined) {
        const failure = await this.#eachMessageOf(state, records, start, generation, pause);
        if (failure !== undefined) return failure;
      } else {
        const messages = this.#decode(records, start);
        const batch: Batch<T> = {
          topic: state.topic,
          partition: state.partition,
          messages,
          firstOffset: () => (messages.length === 0 ? null : messages[0]!.offset),
          lastOffset: () => messages[messages.length - 1]!.offset,
        };
        const isStale = () => !this.#deliverable(state) || state.generation !== generation;
        const payload: EachBatchPayload<T> = {
          batch,
          resolveOffset: (offset: number) => {
            if (!isStale() && Number.isSafeInteger(offset) && offset + 1 > (state.position ?? 0)) state.position = offset + 1;
          },
          commitOffsetsIfNecessary: () => this.#commitPositions(),
          isRunning: () => this.#state === "running",
          isStale,
          pause,
        };
        const failure = await this.#call(state.key, this.#eachBatch!, payload, () => {
          if (this.#autoResolve && state.generation === generation) state.position = batch.lastOffset() + 1;
        });
        if (failure !== undefined) return failure;
      }
    }
    return undefined;
  }

  /**
   * Hands a partition's records to `eachMessage` one at a time, while the partition stays deliverable and
   * unsought. The partition is busy throughout (a revocation waits for it), and each position moves before
   * the next check, so a revocation commits everything handled.
   */
  async #eachMessageOf(
    state: PartitionState,
    records: WireRecord[],
    start: number,
    generation: number,
    pause: () => () => void,
  ): Promise<{ error: unknown } | undefined> {
    const handler = this.#eachMessage!;
    const { topic, partition } = state;
    const messages = this.#decode(records, start);
    this.#busyKey = state.key;
    try {
      for (let i = start; i < records.length; i++) {
        if (!this.#deliverable(state) || state.generation !== generation) break;
        const record = records[i]!;
        await handler({ topic, partition, message: messages[i - start]!, pause });
        if (state.generation === generation) state.position = record.offset + 1;
      }
      return undefined;
    } catch (error) {
      return { error };
    } finally {
      this.#busyKey = undefined;
      if (this.#idleWaiters.length > 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  /**
   * Runs a handler, marking its partition busy (a revocation waits for it); `onSuccess` moves the
   * position before the partition stops being busy, so the revocation commits it.
   */
  async #call<P>(key: string, handler: (payload: P) => Promise<void>, payload: P, onSuccess: () => void): Promise<{ error: unknown } | undefined> {
    this.#busyKey = key;
    try {
      await handler(payload);
      onSuccess();
      return undefined;
    } catch (error) {
      return { error };
    } finally {
      this.#busyKey = undefined;
      // Wake the revocations waiting for this handler (rare: no promise is made per message otherwise).
      if (this.#idleWaiters.length > 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  /** `records[start..]` as messages: as they are for "text"; for "bytes", decoded into one buffer. */
  #decode(records: WireRecord[], start: number): KafkaMessage<T>[] {
    // "text": the wire records already are the messages (their extra topic/partition fields are harmless).
    if (this.#format === "text") return (start === 0 ? records : records.slice(start)) as unknown as KafkaMessage<T>[];
    let total = 0;
    for (let i = start; i < records.length; i++) {
      const { key, value, headers } = records[i]!;
      if (key !== null) total += base64DecodedLength(key);
      if (value !== null) total += base64DecodedLength(value);
      for (const name in headers) {
        const header = headers[name]!;
        if (header !== null) total += base64DecodedLength(header);
      }
    }
    const bytes = new Base64Batch(total);
    const messages: KafkaMessage<Uint8Array>[] = new Array(records.length - start);
    for (let i = start; i < records.length; i++) {
      const record = records[i]!;
      const headers: Record<string, Uint8Array | null> = {};
      for (const name in record.headers) {
        const header = record.headers[name]!;
        headers[name] = header === null ? null : bytes.take(header);
      }
      messages[i - start] = {
        offset: record.offset,
        timestamp: record.timestamp,
        key: record.key === null ? null : bytes.take(record.key),
        value: record.value === null ? null : bytes.take(record.value),
        headers,
      };
    }
    return messages as unknown as KafkaMessage<T>[];
  }

  /** Starts committing the positions, or, if a commit is running, makes it commit once more when done. */
  #commitSoon(): void {
    if (this.#committing !== undefined) {
      this.#commitAgain = true;
      return;
    }
    this.#committing = (async () => {
      do {
        this.#commitAgain = false;
        await this.#commitPositions();
      } while (this.#commitAgain && this.#member !== undefined);
      this.#committing = undefined;
    })();
  }

  /** Commits every position that moved since the last commit. Never rejects. */
  async #commitPositions(): Promise<void> {
    const member = this.#member;
    if (member === undefined) return;
    const offsets: TopicPartitionOffset[] = [];
    for (const s of this.#partitions.values()) {
      if (s.position !== undefined && s.position !== s.committed) offsets.push({ topic: s.topic, partition: s.partition, offset: s.position });
    }
    if (offsets.length === 0) return;
    try {
      for (const o of await member.commit(offsets)) {
        const s = this.#partitions.get(partitionKey(o.topic, o.partition));
        if (s !== undefined) s.committed = o.offset;
      }
    } catch {
      // At-least-once: if the membership is gone, the next owner starts from the last successful commit.
    }
  }

  #shutdown(error: unknown): Promise<void> {
    if (this.#state === "idle") {
      this.#state = "stopped";
      return Promise.resolve();
    }
    this.#stopping ??= (async () => {
      this.#state = "stopping";
      this.#stop.abort();
      this.#wakeUp();
      await this.#starting?.catch(() => {});
      await this.#runLoop;
      await Promise.allSettled([...this.#tasks]);
      await this.#committing;
      if (this.#autoCommit) await this.#commitPositions();
      // A static member does not leave (as in Kafka): its partitions wait for it until its session expires.
      await this.#member?.stop(this.#instanceId === undefined);
      this.#partitions.clear();
      this.#state = "stopped";
      if (error !== undefined) for (const listener of this.#crashListeners) listener({ error });
    })();
    return this.#stopping;
  }
}

function checkOffset(o: TopicPartitionOffset): void {
  if (
    typeof o?.topic !== "string" ||
    o.topic.length === 0 ||
    !Number.isInteger(o.partition) ||
    o.partition < 0 ||
    !Number.isSafeInteger(o.offset) ||
    o.offset < 0
  ) {
    throw new ClientError("INVALID_REQUEST", `expected { topic, partition, offset } with non-negative integers, got ${JSON.stringify(o)}`);
  }
}
