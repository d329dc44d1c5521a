import { GroupCoordinator, systemClock, type Clock, type GroupEvent } from "@minikafka/group-coordinator";
import type { TopicChangeEvent } from "@minikafka/log-store";
import { createDefaultPartitioner, createRoundRobinPartitioner } from "@minikafka/partitioner";
import { BrokerError, miniKafkaErrorCode } from "../errors.js";
import { CompatConsumers } from "./compat-consumers.js";
import { FetchService } from "./fetch-service.js";
import { GroupService, type GroupCoordinatorApi } from "./group-service.js";
import { ProduceService } from "./produce-service.js";
import { DEFAULT_RECORD_LIMITS, type RecordLimits } from "./record-limits.js";
import { ProducerIdService } from "./producer-id-service.js";
import type { BrokerStore } from "./storage.js";
import { TopicService } from "./topic-service.js";

/** Where unexpected errors are reported. `console` fits. */
export interface BrokerLogger {
  error(message: string, ...details: unknown[]): void;
}

/** How to build a {@link BrokerCore}: the leaves and the broker's own limits. */
export interface BrokerCoreOptions {
  /** The storage served (`LogStore` fits). Never closed by the core. */
  store: BrokerStore;
  /** The group coordinator; default one created over `store` with the options below. */
  coordinator?: GroupCoordinatorApi | undefined;
  /** Clock of the coordinator created here and of session expiry (default: the system clock). */
  clock?: Clock | undefined;
  sessionTimeoutMs?: number | undefined;
  heartbeatIntervalMs?: number | undefined;
  minSessionTimeoutMs?: number | undefined;
  maxSessionTimeoutMs?: number | undefined;
  offsetsRetentionMs?: number | undefined;
  restartHoldMs?: number | undefined;
  /** Silent members are evicted at most this often, in clock ms, when group calls are made (default 1 000). */
  tickIntervalMs?: number | undefined;
  /** Longest long-poll wait in ms (default 30 000). */
  maxWaitMs?: number | undefined;
  /** Records in one produce request (default 10 000); more → 413 `RECORD_LIST_TOO_LARGE`. */
  maxRecordsPerRequest?: number | undefined;
  /** Bytes of a record's key as stored (default 65 536); larger → 413 `MESSAGE_TOO_LARGE`. */
  maxRecordKeyBytes?: number | undefined;
  /** Bytes of a record's value as stored (default 1 048 576); larger → 413 `MESSAGE_TOO_LARGE`. */
  maxRecordValueBytes?: number | undefined;
  /** Headers of one record (default 64); more → 413 `MESSAGE_TOO_LARGE`. */
  maxRecordHeaders?: number | undefined;
  /** Bytes of one record header, name and value together (default 65 536); larger → 413 `MESSAGE_TOO_LARGE`. */
  maxRecordHeaderBytes?: number | undefined;
  /** Aborted when the broker shuts down: long polls return at once. */
  signal?: AbortSignal | undefined;
  /** Where unexpected errors are logged (default `console`). */
  logger?: BrokerLogger | undefined;
  /** Told of every membership change of the coordinator created here (see `GroupCoordinatorOptions.onEvent`). */
  onGroupEvent?: ((event: GroupEvent) => void) | undefined;
  /**
   * Merge small produce calls that wait for a busy fsync round into one batch per partition (default true). For side-by-side benchmarks.
   * @internal
   */
  coalesceProduce?: boolean | undefined;
}

/**
 * The broker's rules, with no transport: what a request means once a transport has decoded it. HTTP routes
 * (and any later transport: Durable Streams routes, a Kafka wire listener, replication) validate their
 * input, call these services and encode the answer.
 */
export interface BrokerCore {
  readonly store: BrokerStore;
  readonly coordinator: GroupCoordinatorApi;
  readonly topics: TopicService;
  readonly produce: ProduceService;
  /** Idempotent-producer ids. */
  readonly producers: ProducerIdService;
  readonly fetch: FetchService;
  readonly groups: GroupService;
  /** The seed tutorial's consumers, as coordinator members. */
  readonly compat: CompatConsumers;
  /** Aborted when the broker shuts down. */
  readonly shutdown: AbortSignal;
  /** Throws `BROKER_NOT_AVAILABLE` while shutting down, `STORE_CLOSED` once the store is closed. */
  checkReady(): void;
}

const DEFAULT_MAX_WAIT_MS = 30_000;
const DEFAULT_TICK_INTERVAL_MS = 1_000;

/**
 * A positive safe integer option, or its default.
 * @throws BrokerError `INVALID_REQUEST` otherwise.
 */
export function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0) throw new BrokerError("INVALID_REQUEST", `${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/**
 * Wires the leaves into the broker's services. Topic changes reach the partition-count cache and the
 * coordinator through `store.onTopicChange`, whoever makes them (the broker, or an embedder calling the
 * store directly). The subscription lasts as long as the store, or until the coordinator is closed.
 * @throws BrokerError `INVALID_REQUEST` for invalid options.
 */
export function createBrokerCore(options: BrokerCoreOptions): BrokerCore {
  const { store } = options;
  if (typeof store?.append !== "function") throw new BrokerError("INVALID_REQUEST", "store must be an open LogStore");
  if (typeof store.onTopicChange !== "function") {
    throw new BrokerError("INVALID_REQUEST", "store must tell topic changes (onTopicChange), as LogStore does");
  }
  const maxWaitMs = positiveInteger("maxWaitMs", options.maxWaitMs, DEFAULT_MAX_WAIT_MS);
  const tickIntervalMs = positiveInteger("tickIntervalMs", options.tickIntervalMs, DEFAULT_TICK_INTERVAL_MS);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? console;
  const shutdown = options.signal ?? new AbortController().signal;
  const topics = new TopicService(store);
  const coordinator =
    options.coordinator ??
    new GroupCoordinator({
      clock,
      offsetStore: store,
      partitionCount: (topic) => topics.partitionCount(topic),
      sessionTimeoutMs: options.sessionTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      minSessionTimeoutMs: options.minSessionTimeoutMs,
      maxSessionTimeoutMs: options.maxSessionTimeoutMs,
      offsetsRetentionMs: options.offsetsRetentionMs,
      // Members from before a restart are unknown here and may still be processing: hold every topic that exists.
      restartHold: { topics: store.listTopics(), durationMs: options.restartHoldMs },
      onEvent: options.onGroupEvent,
      onRetentionError: (groupId, error) => logger.error(`minikafka broker: cannot delete the expired offsets of group ${groupId}`, error),
    });
  const unsubscribe = store.onTopicChange((event: TopicChangeEvent) => {
    topics.topicChanged(event); // first: the coordinator reads partition counts through it
    try {
      coordinator.onTopicChanged(event.topic);
    } catch (error) {
      // A closed coordinator has no groups left to update, and never will again.
      if (miniKafkaErrorCode(error) === "COORDINATOR_NOT_AVAILABLE") unsubscribe();
      // The topic change itself succeeded.
      else logger.error(`minikafka broker: cannot update consumer groups after a change of topic ${event.topic}`, error);
    }
  });
  const limits: RecordLimits = {
    maxRecordsPerRequest: positiveInteger("maxRecordsPerRequest", options.maxRecordsPerRequest, DEFAULT_RECORD_LIMITS.maxRecordsPerRequest),
    maxKeyBytes: positiveInteger("maxRecordKeyBytes", options.maxRecordKeyBytes, DEFAULT_RECORD_LIMITS.maxKeyBytes),
    maxValueBytes: positiveInteger("maxRecordValueBytes", options.maxRecordValueBytes, DEFAULT_RECORD_LIMITS.maxValueBytes),
    maxHeadersPerRecord: positiveInteger("maxRecordHeaders", options.maxRecordHeaders, DEFAULT_RECORD_LIMITS.maxHeadersPerRecord),
    maxHeaderBytes: positiveInteger("maxRecordHeaderBytes", options.maxRecordHeaderBytes, DEFAULT_RECORD_LIMITS.maxHeaderBytes),
  };
  const groups = new GroupService({ coordinator, store, topics, clock, tickIntervalMs, maxWaitMs, shutdown });
  return {
    store,
    coordinator,
    topics,
    produce: new ProduceService({ store, topics, partitioner: createDefaultPartitioner(), keylessCompat: createRoundRobinPartitioner(), limits, coalesce: options.coalesceProduce }),
    producers: new ProducerIdService({ store }),
    fetch: new FetchService({ store, maxWaitMs, shutdown }),
    groups,
    compat: new CompatConsumers({ coordinator, sessions: groups, store, topics }),
    shutdown,
    checkReady() {
      if (shutdown.aborted) throw new BrokerError("BROKER_NOT_AVAILABLE", "the broker is shutting down");
      store.listTopics(); // throws STORE_CLOSED (503) once the store is closed
    },
  };
}
