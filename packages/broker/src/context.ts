import type { LogStore } from "@minikafka/log-store";
import { GroupCoordinator, systemClock, type Clock, type ExpiredMember } from "@minikafka/group-coordinator";
import { createDefaultPartitioner, createRoundRobinPartitioner, type Partitioner } from "@minikafka/partitioner";
import { BodyPool } from "./body-pool.js";
import { BrokerError } from "./errors.js";
import type { BrokerLogger } from "./error-handler.js";
import { BrokerMetrics } from "./metrics.js";
import { TopicIndex } from "./topic-index.js";

/** Options of {@link createBrokerApp}. */
export interface BrokerAppOptions {
  /** The open log store the broker serves. The broker does not close it. */
  store: LogStore;
  /**
   * The group coordinator. Default: one created here over `store` (committed offsets) with `clock`,
   * `sessionTimeoutMs` and `heartbeatIntervalMs`. A coordinator passed in must use this store's topics
   * for its `partitionCount`.
   */
  coordinator?: GroupCoordinator | undefined;
  /** Clock of the coordinator created here (default: the system clock); a `ManualClock` in tests. */
  clock?: Clock | undefined;
  /** Session timeout of the coordinator created here, in ms (default 45 000). */
  sessionTimeoutMs?: number | undefined;
  /** Heartbeat interval handed to members by the coordinator created here, in ms (default 5 000). */
  heartbeatIntervalMs?: number | undefined;
  /**
   * How long an empty consumer group and its committed offsets are kept, in ms from when its last member
   * left (Kafka's `offsets.retention.minutes`; default 7 days). A group that never committed is forgotten
   * as soon as it is empty. For the coordinator created here.
   */
  offsetsRetentionMs?: number | undefined;
  /**
   * After a start, partitions of the topics already in the store are handed to no consumer group member
   * for this long, in ms (default: `sessionTimeoutMs`), so that members from before a restart have stopped
   * first. Must be at least the session timeout the broker ran with before. 0 turns the hold off, which is
   * safe only if no consumer used this data directory before. For the coordinator created here.
   */
  restartHoldMs?: number | undefined;
  /**
   * Silent members are evicted (`coordinator.tick()`) at most this often, in clock ms, when group routes
   * are used (default 1 000). `startBroker` also ticks on a timer at this interval.
   */
  tickIntervalMs?: number | undefined;
  /** Largest accepted request body in bytes (default 8 MiB); larger ones get 413 `REQUEST_TOO_LARGE`. */
  maxBodyBytes?: number | undefined;
  /** Longest long-poll wait in ms; a larger `waitMs` is capped to it (default 30 000). */
  maxWaitMs?: number | undefined;
  /** Aborting this signal marks the broker as shutting down: `/readyz` answers 503 and long polls return at once. */
  signal?: AbortSignal | undefined;
  /** Where unexpected errors are logged (default `console`). */
  logger?: BrokerLogger | undefined;
}

/** Everything the routes share. Internal. */
export interface BrokerContext {
  readonly store: LogStore;
  readonly topics: TopicIndex;
  readonly coordinator: GroupCoordinator;
  /** Keyless `/v1` records: the default partitioner (explicit partition > murmur2 key hash > sticky). */
  readonly partitioner: Partitioner;
  /** Keyless seed-compatible records: round-robin, as the seed does. */
  readonly roundRobin: Partitioner;
  readonly metrics: BrokerMetrics;
  /** Reusable buffers for fetch response bodies. */
  readonly bodies: BodyPool;
  readonly logger: BrokerLogger;
  readonly maxBodyBytes: number;
  readonly maxWaitMs: number;
  /** Aborted when the broker shuts down. */
  readonly shutdown: AbortSignal;
  /**
   * Evicts silent members (`coordinator.tick()`) if the last pass is at least a tick interval old, or
   * always with `force`; tells the `onExpired` listeners.
   */
  expireSessions(force?: boolean): void;
  /** Calls `listener` with the members each eviction pass removed. */
  onExpired(listener: (expired: readonly ExpiredMember[]) => void): void;
}

const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
const DEFAULT_MAX_WAIT_MS = 30_000;
const DEFAULT_TICK_INTERVAL_MS = 1_000;

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0) throw new BrokerError("INVALID_REQUEST", `${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Wires the leaves together for the routes. Internal: used by `createBrokerApp` and `startBroker`. */
export function createBrokerContext(options: BrokerAppOptions): BrokerContext {
  const { store } = options;
  if (typeof store?.append !== "function") throw new BrokerError("INVALID_REQUEST", "store must be an open LogStore");
  const maxBodyBytes = positiveInteger("maxBodyBytes", options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  const maxWaitMs = positiveInteger("maxWaitMs", options.maxWaitMs, DEFAULT_MAX_WAIT_MS);
  const tickIntervalMs = positiveInteger("tickIntervalMs", options.tickIntervalMs, DEFAULT_TICK_INTERVAL_MS);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? console;
  const topics = new TopicIndex(store);
  const coordinator =
    options.coordinator ??
    new GroupCoordinator({
      clock,
      offsetStore: store,
      partitionCount: (topic) => topics.partitionCount(topic),
      sessionTimeoutMs: options.sessionTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      offsetsRetentionMs: options.offsetsRetentionMs,
      // Members from before a restart are unknown here and may still be processing: hold every topic that exists.
      restartHold: { topics: store.listTopics(), durationMs: options.restartHoldMs },
      onRetentionError: (groupId, error) => logger.error(`minikafka broker: cannot delete the expired offsets of group ${groupId}`, error),
    });
  topics.onChange((topic) => {
    try {
      coordinator.onTopicChanged(topic);
    } catch (error) {
      // The topic change itself succeeded; a closed coordinator has no groups left to update.
      logger.error(`minikafka broker: cannot update consumer groups after a change of topic ${topic}`, error);
    }
  });
  let lastTick = -Infinity;
  const expiredListeners: Array<(expired: readonly ExpiredMember[]) => void> = [];
  return {
    store,
    topics,
    coordinator,
    partitioner: createDefaultPartitioner(),
    roundRobin: createRoundRobinPartitioner(),
    metrics: new BrokerMetrics(),
    bodies: new BodyPool(),
    logger,
    maxBodyBytes,
    maxWaitMs,
    shutdown: options.signal ?? new AbortController().signal,
    expireSessions(force = false) {
      const now = clock.now();
      if (!force && now - lastTick < tickIntervalMs) return;
      lastTick = now;
      const expired = coordinator.tick();
      if (expired.length > 0) for (const listener of expiredListeners) listener(expired);
    },
    onExpired(listener) {
      expiredListeners.push(listener);
    },
  };
}
