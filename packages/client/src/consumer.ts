import { systemClock, type ClientClock } from "./clock.js";
import { CommitScheduler } from "./commit-scheduler.js";
import { ClientError } from "./errors.js";
import { FetchLoop } from "./fetch-loop.js";
import { FetchManager } from "./fetch-manager.js";
import { GroupMember } from "./group-member.js";
import { HandlerRunner } from "./handler-runner.js";
import type { BrokerRouter } from "./broker-router.js";
import { segment, type Requester, type RetryPolicy } from "./http.js";
import { OffsetManager } from "./offset-manager.js";
import { positiveInteger } from "./options.js";
import type { PartitionState } from "./partition-state.js";
import { partitionKey } from "./partition-key.js";
import { PartitionTable, type TopicPartitionsSelection } from "./partition-table.js";
import type { KafkaMessage, MessageFormat, TopicPartition, TopicPartitionOffset, TopicPartitions } from "./types.js";

export type { TopicPartitionsSelection } from "./partition-table.js";

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
   * The member's session timeout, in ms. When given, it is sent in the join and the broker evicts the
   * member after this long without a heartbeat (it must lie within the broker's `minSessionTimeoutMs` ..
   * `maxSessionTimeoutMs`, default 6 000 .. 1 800 000, else the join fails with `INVALID_SESSION_TIMEOUT`).
   * Either way the consumer stops processing (and rejoins) after this long without a successful
   * heartbeat, because by then the broker may have given the partitions to another member. Default: not
   * sent (the broker's session timeout applies), 45 000 locally (the broker's default).
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
  // The facade: options, lifecycle and membership events. The machinery lives in one class per seam:
  // PartitionTable (per-partition state), OffsetManager (initial and clamped positions), CommitScheduler,
  // FetchManager (the two fetch strategies), HandlerRunner (calling the handlers), FetchLoop.
  readonly #http: Requester;
  readonly #retry: RetryPolicy;
  readonly #clock: ClientClock;
  readonly #groupId: string;
  readonly #groupPath: string;
  readonly #instanceId: string | undefined;
  readonly #sessionTimeoutMs: number;
  readonly #requestedSessionTimeoutMs: number | undefined;
  readonly #fromBeginning: boolean;
  readonly #waitMs: number;
  readonly #format: MessageFormat;
  readonly #topics = new Map<string, boolean>();
  readonly #table: PartitionTable;
  readonly #commits: CommitScheduler;
  readonly #offsets: OffsetManager;
  readonly #fetcher: FetchManager;
  readonly #tasks = new Set<Promise<void>>();
  readonly #crashListeners = new Set<(event: ConsumerCrashEvent) => void>();
  readonly #stop = new AbortController();
  #state: State = "idle";
  #member: GroupMember | undefined;
  #handler: HandlerRunner<T> | undefined;
  #wake = new AbortController();
  #runLoop: Promise<void> | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #autoCommit = true;

  /** @internal Use {@link Client.consumer}. */
  constructor(router: BrokerRouter, retry: RetryPolicy, options: ConsumerOptions<MessageFormat>, clock: ClientClock = systemClock) {
    // Every call of the consumer goes to its group's coordinator (the home broker on a single node); so do
    // its topic descriptions, which any broker answers.
    const http = router.group(String(options?.groupId));
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
    this.#clock = clock;
    this.#groupId = options.groupId;
    this.#groupPath = `v1/groups/${segment(options.groupId)}`;
    this.#instanceId = options.instanceId;
    this.#sessionTimeoutMs = positiveInteger("sessionTimeoutMs", options.sessionTimeoutMs, DEFAULTS.sessionTimeoutMs);
    this.#requestedSessionTimeoutMs = options.sessionTimeoutMs === undefined ? undefined : this.#sessionTimeoutMs;
    this.#fromBeginning = options.fromBeginning === true;
    this.#waitMs = positiveInteger("maxWaitTimeMs", options.maxWaitTimeMs, DEFAULTS.maxWaitTimeMs);
    const maxRecords = Math.min(MAX_RECORDS, positiveInteger("maxRecords", options.maxRecords, DEFAULTS.maxRecords));
    const maxBytes = Math.min(MAX_BYTES, positiveInteger("maxBytes", options.maxBytes, DEFAULTS.maxBytes));
    this.#format = options.messageFormat ?? "bytes";
    const member = () => this.#member;
    this.#table = new PartitionTable(() => this.#state === "running");
    this.#commits = new CommitScheduler(this.#table, member);
    this.#offsets = new OffsetManager({
      http,
      retry,
      clock,
      groupPath: this.#groupPath,
      table: this.#table,
      commits: this.#commits,
      fromBeginning: (topic) => this.#topics.get(topic) === true,
      stop: this.#stop.signal,
      stopping: () => this.#stopping !== undefined,
      wakeUp: () => this.#wakeUp(),
    });
    this.#fetcher = new FetchManager({
      http,
      router,
      groupPath: this.#groupPath,
      table: this.#table,
      offsets: this.#offsets,
      member,
      maxRecords,
      maxBytes,
      waitMs: this.#waitMs,
      format: this.#format,
    });
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
    this.#autoCommit = options.autoCommit !== false;
    const handler = new HandlerRunner<T>({
      eachMessage,
      eachBatch,
      autoResolve: options.eachBatchAutoResolve !== false,
      format: this.#format,
      table: this.#table,
      isRunning: () => this.#state === "running",
      pause: (selections) => this.pause(selections),
      resume: (selections) => this.resume(selections),
      commitPositions: () => this.#commits.positions(),
    });
    this.#handler = handler;
    this.#state = "starting";
    const member = new GroupMember(
      this.#http,
      {
        groupId: this.#groupId,
        instanceId: this.#instanceId,
        topics: [...this.#topics.keys()],
        sessionTimeoutMs: this.#sessionTimeoutMs,
        requestedSessionTimeoutMs: this.#requestedSessionTimeoutMs,
        retry: this.#retry,
        clock: this.#clock,
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
      this.#table.clear();
      this.#state = "idle";
      throw error;
    }
    if (this.#state !== "starting") return; // disconnected meanwhile
    this.#state = "running";
    const loop = new FetchLoop<T>({
      table: this.#table,
      fetcher: this.#fetcher,
      handler,
      commits: this.#commits,
      member: () => this.#member,
      retry: this.#retry,
      clock: this.#clock,
      waitMs: this.#waitMs,
      autoCommit: this.#autoCommit,
      isRunning: () => this.#state === "running",
      wakeSignal: () => this.#wake.signal,
      stop: this.#stop.signal,
      crash: (error) => void this.#shutdown(error),
    });
    this.#runLoop = loop.run();
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
    this.#table.markCommitted(await member.commit(offsets));
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
    if (this.#table.seek(target) && this.#autoCommit && this.#state === "running") this.#commits.soon();
    this.#wakeUp();
  }

  /**
   * Stops handing out messages of these partitions (still owned: no rebalance). A topic without
   * `partitions` is paused as a whole, including partitions assigned later.
   */
  pause(selections: readonly TopicPartitionsSelection[]): void {
    this.#table.pause(selections);
    this.#wakeUp();
  }

  /** Resumes paused partitions (a topic without `partitions`: the whole topic and its partitions). */
  resume(selections: readonly TopicPartitionsSelection[]): void {
    this.#table.resume(selections);
    this.#wakeUp();
  }

  /** The paused partitions among those assigned, plus partitions paused explicitly. */
  paused(): TopicPartitions[] {
    return this.#table.paused();
  }

  /** The partitions currently assigned to this consumer (being revoked ones excluded). */
  assignment(): TopicPartitions[] {
    return this.#table.assignment();
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
    const states = partitions.map(({ topic, partition }) => this.#table.add(topic, partition));
    this.#track(this.#offsets.initialize(states));
  }

  #onRevoked(partitions: TopicPartition[]): void {
    const states: PartitionState[] = [];
    for (const tp of partitions) {
      const state = this.#table.get(partitionKey(tp.topic, tp.partition));
      if (state === undefined) continue;
      state.revoke(); // from now on, none of its records is handed out
      states.push(state);
    }
    this.#track(this.#revoke(partitions, states));
  }

  #onLost(): void {
    // Fenced or evicted: another member may own these partitions now, and our commits would be refused.
    this.#table.clear();
    this.#wakeUp();
  }

  #track(task: Promise<void>): void {
    const tracked = task.catch(() => {}).finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }

  /** Finishes with revoked partitions: wait for their handler, commit, then let them go. */
  async #revoke(partitions: TopicPartition[], states: PartitionState[]): Promise<void> {
    await this.#handler?.whenIdle(new Set(states.map((s) => s.key)));
    if (this.#autoCommit) await this.#commits.revoked(states);
    for (const s of states) this.#table.remove(s);
    await this.#member!.release(partitions);
  }

  /** Cuts the fetch loop's current wait short (a long poll, an idle sleep): something changed. */
  #wakeUp(): void {
    this.#wake.abort();
    this.#wake = new AbortController();
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
      await this.#commits.settled();
      if (this.#autoCommit) await this.#commits.positions();
      // A static member does not leave (as in Kafka): its partitions wait for it until its session expires.
      await this.#member?.stop(this.#instanceId === undefined);
      this.#table.clear();
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
