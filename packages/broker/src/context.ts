import type { Clock, GroupEvent } from "@minikafka/group-coordinator";
import { BodyPool } from "./body-pool.js";
import { createBrokerCore, positiveInteger, type BrokerCore, type BrokerLogger } from "./core/broker-core.js";
import type { BrokerStore } from "./core/storage.js";
import type { StreamService } from "./core/stream-service.js";
import type { GroupCoordinatorApi } from "./core/group-service.js";
import type { ClusterNode } from "./cluster/cluster-node.js";
import { BrokerMetrics } from "./metrics.js";
import { corsOrigins, type CorsOptions } from "./web-guard.js";
import { Access, type AclEntry, type AuthOptions } from "./access.js";
import { Quotas, type QuotaOptions } from "./quotas.js";
import { systemClock } from "@minikafka/group-coordinator";

/** Options of {@link createBrokerApp}. */
export interface BrokerAppOptions {
  /**
   * The open store the broker serves: a `LogStore`, or anything of the {@link BrokerStore} shape. The
   * broker does not close it. Topic changes made on it directly (`store.addPartitions()` by an embedder)
   * reach the broker's consumer groups too, through its `onTopicChange` events.
   */
  store: BrokerStore;
  /**
   * The group coordinator. Default: one created here over `store` (committed offsets) with `clock`,
   * `sessionTimeoutMs` and `heartbeatIntervalMs`. A coordinator passed in must use this store's topics
   * for its `partitionCount`.
   */
  coordinator?: GroupCoordinatorApi | undefined;
  /** Clock of the coordinator created here (default: the system clock); a `ManualClock` in tests. */
  clock?: Clock | undefined;
  /** Session timeout of the coordinator created here, in ms (default 45 000). */
  sessionTimeoutMs?: number | undefined;
  /** Heartbeat interval handed to members by the coordinator created here, in ms (default 5 000). */
  heartbeatIntervalMs?: number | undefined;
  /**
   * Bounds of the session timeout a consumer may ask for when it joins (`sessionTimeoutMs` in the join
   * body; outside them 400 `INVALID_SESSION_TIMEOUT`), as Kafka's `group.min/max.session.timeout.ms`.
   * Defaults 6 000 and 1 800 000 (widened to include `sessionTimeoutMs`). For the coordinator created here.
   */
  minSessionTimeoutMs?: number | undefined;
  /** See {@link BrokerAppOptions.minSessionTimeoutMs}. */
  maxSessionTimeoutMs?: number | undefined;
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
  /**
   * Records in one produce request (`/v1`; default 10 000, the client's default batch); more get 413
   * `RECORD_LIST_TOO_LARGE` and nothing is appended.
   */
  maxRecordsPerRequest?: number | undefined;
  /** Bytes of one record's key as stored (UTF-8, or decoded base64; default 65 536); larger: 413 `MESSAGE_TOO_LARGE`. */
  maxRecordKeyBytes?: number | undefined;
  /** Bytes of one record's value as stored (default 1 048 576, about Kafka's `message.max.bytes`); larger: 413 `MESSAGE_TOO_LARGE`. */
  maxRecordValueBytes?: number | undefined;
  /** Headers of one record (default 64); more: 413 `MESSAGE_TOO_LARGE`. */
  maxRecordHeaders?: number | undefined;
  /** Bytes of one record header, its name and value together (default 65 536); larger: 413 `MESSAGE_TOO_LARGE`. */
  maxRecordHeaderBytes?: number | undefined;
  /** Aborting this signal marks the broker as shutting down: `/readyz` answers 503 and long polls return at once. */
  signal?: AbortSignal | undefined;
  /** Where unexpected errors are logged (default `console`). */
  logger?: BrokerLogger | undefined;
  /**
   * Web pages on other origins that may call the broker (default: none). Whatever this says, a request from
   * a page whose origin is not listed (nor the broker's own address) is refused with 403
   * `ORIGIN_NOT_ALLOWED` before anything runs; tools that send no `Origin` are unaffected.
   */
  cors?: CorsOptions | undefined;
  /**
   * Bearer-token authentication (default: none, every caller is anonymous). With it, every route but
   * `/healthz`, `/readyz` and the static console files needs `Authorization: Bearer <token>` of one of
   * `principals` (401 `AUTHENTICATION_FAILED` otherwise, with `WWW-Authenticate: Bearer`).
   */
  auth?: AuthOptions | undefined;
  /**
   * Kafka-model ACLs (needs `auth`). Without them every authenticated principal may do everything; with
   * them (even an empty list) every operation needs an allowing entry and no denying one (403
   * `*_AUTHORIZATION_FAILED`); `auth.superUsers` pass every check.
   */
  acls?: readonly AclEntry[] | undefined;
  /** Told of every consumer-group membership change (joins, leaves, evictions, fencings, rebalances) of the coordinator created here. */
  onGroupEvent?: ((event: GroupEvent) => void) | undefined;
  /**
   * Serves the Durable Streams protocol under `/v1/stream/*` from this open service (see
   * `StreamService.open`; `startBroker` opens one over `<dataDir>/__streams`). Default: no stream routes.
   * The caller closes it (and its store).
   */
  streams?: StreamService | undefined;
  /**
   * Per-principal produce and fetch byte rates and concurrent long polls (default: unlimited). Over a rate
   * → 429 `THROTTLING_QUOTA_EXCEEDED` with `Retry-After`, before anything changes; other principals are
   * unaffected. Timed by `clock`.
   */
  quotas?: QuotaOptions | undefined;
  /**
   * Merge small produce calls that wait for a busy fsync round into one batch per partition (default true). For side-by-side benchmarks.
   * @internal
   */
  coalesceProduce?: boolean | undefined;
}

/** What the HTTP transport shares: the core's services, and its own metrics, body buffers and limits. Internal. */
export interface BrokerContext {
  /** The transport-neutral services every route calls. */
  readonly core: BrokerCore;
  /** The coordinator (the core's): `startBroker` closes it. */
  readonly coordinator: GroupCoordinatorApi;
  readonly metrics: BrokerMetrics;
  /** Reusable buffers for fetch response bodies. */
  readonly bodies: BodyPool;
  readonly logger: BrokerLogger;
  readonly maxBodyBytes: number;
  /** Origins listed in `cors.origins`, lower-cased. */
  readonly corsOrigins: ReadonlySet<string>;
  /** Authentication and authorisation: every route asks it. */
  readonly access: Access;
  /** The Durable Streams service, when stream routes are served. */
  readonly streams: StreamService | undefined;
  /** Per-principal byte rates and long polls. */
  readonly quotas: Quotas;
  /** This broker's membership of a cluster, in cluster mode. */
  readonly cluster: ClusterNode | undefined;
  /** Evicts silent members now if a tick interval has passed, or always with `force` (the core's). */
  expireSessions(force?: boolean): void;
}

const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * Wires the core and the HTTP transport's own parts. Internal: used by `createBrokerApp` and `startBroker`
 * (which passes `cluster` in cluster mode, with a store that replicates through it).
 */
export function createBrokerContext(options: BrokerAppOptions, cluster?: ClusterNode): BrokerContext {
  const maxBodyBytes = positiveInteger("maxBodyBytes", options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  const origins = corsOrigins(options.cors);
  const access = new Access(options.auth, options.acls);
  const quotas = new Quotas(options.quotas, access, options.clock ?? systemClock);
  const core = createBrokerCore(options);
  return {
    core,
    coordinator: core.coordinator,
    metrics: new BrokerMetrics(),
    bodies: new BodyPool(),
    logger: options.logger ?? console,
    maxBodyBytes,
    corsOrigins: origins,
    access,
    streams: options.streams,
    quotas,
    cluster,
    expireSessions: (force) => core.groups.expireSessions(force),
  };
}
