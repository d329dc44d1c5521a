// Where each request goes: the cluster metadata of `GET /v1/metadata` (read lazily from the first bootstrap
// broker that answers, cached, refreshed on routing failures), one Http per broker, and the "home" broker for
// everything that is not routed by partition. Internal.
import type { ClusterMetadataResult, GroupCoordinatorResult } from "@minikafka/protocol";
import type { ClientClock } from "./clock.js";
import { ClientError, isClientError } from "./errors.js";
import { segment, type CallOptions, type Http, type Requester, type RetryPolicy } from "./http.js";
import { backoffMs, sleep } from "./sleep.js";

/** The cached view of the cluster. */
interface ClusterView {
  /** node id → Http of its advertised URL. */
  readonly brokers: ReadonlyMap<number, Http>;
  /** topic → leader node id per partition (-1: offline). */
  readonly leaders: ReadonlyMap<string, readonly number[]>;
}

/**
 * Routes requests for one client. Until the first {@link BrokerRouter.ready} and for a single-node broker
 * (its metadata lists no brokers, or it has no `/v1/metadata`), everything goes to the home broker, as a
 * client of one broker always did. In a cluster, {@link BrokerRouter.leader} names each partition's leader.
 *
 * The home broker (admin, producer ids, topic descriptions) is the first bootstrap URL that answered the
 * metadata request; after a request to it fails for want of a connection, the next one goes to the next
 * known broker (bootstrap URLs first, then the brokers of the metadata), so a dead home is left. A
 * consumer group's calls go to its coordinator ({@link BrokerRouter.group}).
 */
export class BrokerRouter {
  readonly #makeHttp: (baseUrl: string) => Http;
  readonly #bootstrap: readonly string[];
  readonly #pool = new Map<string, Http>();
  /** Where home requests go now. */
  #homeUrl: string;
  #homeHttp: Http;
  #view: ClusterView | "single" | undefined;
  /** When the cached view was read (the client clock's ms). */
  #loadedAt = 0;
  readonly #maxAgeMs: number;
  #loading: Promise<void> | undefined;
  readonly #lookedUp = new Set<string>();
  /** group id → its coordinator, as `GET /v1/groups/:group/coordinator` named it. */
  readonly #coordinators = new Map<string, Promise<Requester>>();
  readonly #retry: RetryPolicy;
  readonly #clock: ClientClock;
  /** The facade every non-routed request goes through. */
  readonly home: Requester;

  /**
   * @param bootstrap - base URLs, without a trailing slash, in the order given
   * @param makeHttp - an Http for a base URL (the client's options)
   * @param retry - how often, and after which backoff, a group call refused with `NOT_COORDINATOR` is resent
   * @param clock - the client's timers, for that backoff, and its time, for the metadata's age
   * @param maxAgeMs - a cluster's metadata older than this is read again (in the background) by the next
   *   request that uses it
   */
  constructor(bootstrap: readonly string[], makeHttp: (baseUrl: string) => Http, retry: RetryPolicy, clock: ClientClock, maxAgeMs = 300_000) {
    this.#bootstrap = bootstrap;
    this.#maxAgeMs = maxAgeMs;
    this.#retry = retry;
    this.#clock = clock;
    this.#makeHttp = makeHttp;
    this.#homeUrl = bootstrap[0]!;
    this.#homeHttp = this.#http(this.#homeUrl);
    this.home = { request: (method, path, options) => this.#homeRequest(method, path, options) };
  }

  /** True once the metadata named brokers: produce and partition fetches are routed per partition. */
  get clustered(): boolean {
    return this.#view !== undefined && this.#view !== "single";
  }

  /** True once the metadata was read (a cluster or a single node). */
  get loaded(): boolean {
    return this.#view !== undefined;
  }

  /**
   * Reads the metadata unless it was read already: `undefined` then (no await needed on the hot path), else
   * a promise that resolves once it was read or could not be (no broker answered: requests go to the home
   * broker, with their own retries, and the next call asks again).
   */
  ready(): Promise<void> | undefined {
    if (this.#view !== undefined) return undefined;
    return this.refresh().catch(() => {});
  }

  /**
   * Reads the metadata again (concurrent callers share one request): from the home broker first, then from the
   * other known brokers in order; the first answer wins.
   * @throws ClientError the last broker's error when none answered
   */
  refresh(): Promise<void> {
    this.#loading ??= this.#load().finally(() => (this.#loading = undefined));
    return this.#loading;
  }

  /**
   * The Http of the partition's leader, or the home broker's when the partition is unknown, offline, or the
   * broker a single node.
   */
  leader(topic: string, partition: number): Http {
    const view = this.#view;
    if (view === undefined || view === "single") return this.#homeHttp;
    this.#refreshIfOld();
    const node = view.leaders.get(topic)?.[partition];
    return (node !== undefined && view.brokers.get(node)) || this.#homeHttp;
  }

  /**
   * In a cluster, when the cached metadata does not list `topic` (created since it was read): reads it again,
   * the first time only for each topic (a topic the metadata never lists goes to the home broker, and
   * a routing failure reads it again anyway). `undefined` when there is nothing to wait for.
   */
  lookUp(topic: string): Promise<void> | undefined {
    const view = this.#view;
    if (view === undefined || view === "single" || view.leaders.has(topic) || this.#lookedUp.has(topic)) return undefined;
    this.#lookedUp.add(topic);
    return this.refresh().catch(() => {});
  }

  /**
   * Where the calls of consumer group `groupId` go: its coordinator in a cluster (asked of the home broker
   * once, and again after `NOT_COORDINATOR`, `COORDINATOR_NOT_AVAILABLE`, a connection error or a timeout);
   * the home broker on a single node. A call refused with `NOT_COORDINATOR` changed nothing: it is sent
   * again, to the coordinator named now (at once the first time, then after the `retry` backoff).
   */
  group(groupId: string): Requester {
    return { request: (method, path, options) => this.#groupRequest(groupId, method, path, options) };
  }

  /** The leader's node id (for grouping a request's partitions by leader); -1 when not routed. */
  leaderId(topic: string, partition: number): number {
    const view = this.#view;
    if (view === undefined || view === "single") return -1;
    const node = view.leaders.get(topic)?.[partition];
    return node !== undefined && view.brokers.has(node) ? node : -1;
  }

  /**
   * After a routed request failed: when the failure may mean the leader moved (a connection error, a
   * timeout, `NOT_LEADER_OR_FOLLOWER`) and the client is in a cluster, reads the metadata again in the
   * background (its failure is left for the next request to meet).
   */
  afterFailure(error: unknown): void {
    if (this.#view === "single" || !(isRoutingFailure(error) || isClientError(error, "UNKNOWN_TOPIC_OR_PARTITION"))) return;
    this.refresh().catch(() => {});
  }

  /**
   * Every live broker of the cluster, in node id order, from metadata read now; the home broker alone on a
   * single node (or when no broker answered the metadata request).
   */
  async brokers(): Promise<Requester[]> {
    // A single node is never asked again; a cluster is, for the brokers that are live now.
    if (this.#view !== "single") await this.refresh().catch(() => {});
    const view = this.#view;
    if (view === undefined || view === "single" || view.brokers.size === 0) return [this.home];
    return [...view.brokers].sort(([a], [b]) => a - b).map(([, http]) => http);
  }

  /**
   * Starts reading a cluster's metadata again in the background once the cached one is older than the
   * client's `metadataMaxAgeMs` (Kafka's `metadata.max.age.ms`): leaders that moved without a request failing
   * (a preferred leader back), brokers that joined. On use, not on a timer: an idle client sends nothing and
   * holds no timer.
   */
  #refreshIfOld(): void {
    if (this.#loading === undefined && this.#clock.now() - this.#loadedAt >= this.#maxAgeMs) this.refresh().catch(() => {});
  }

  /** Every base URL known, in the order home requests try them: the bootstrap list, then the metadata's brokers. */
  #candidates(): string[] {
    const urls = [...this.#bootstrap];
    for (const url of this.#pool.keys()) if (!urls.includes(url)) urls.push(url);
    return urls;
  }

  #http(url: string): Http {
    let http = this.#pool.get(url);
    if (http === undefined) {
      http = this.#makeHttp(url);
      this.#pool.set(url, http);
    }
    return http;
  }

  #setHome(url: string): void {
    this.#homeUrl = url;
    this.#homeHttp = this.#http(url);
  }

  async #homeRequest<T>(method: "GET" | "POST" | "DELETE", path: string, options: CallOptions): Promise<T> {
    // The first request of a client learns which broker is home (the first live one) and the cluster.
    const loading = this.ready();
    if (loading !== undefined) await loading;
    else if (this.clustered) this.#refreshIfOld();
    const url = this.#homeUrl;
    try {
      return await this.#homeHttp.request<T>(method, path, options);
    } catch (error) {
      // No connection (after the request's own retries): the next request tries the next broker.
      if (isClientError(error, "NETWORK_EXCEPTION") && this.#homeUrl === url) {
        const urls = this.#candidates();
        if (urls.length > 1) this.#setHome(urls[(urls.indexOf(url) + 1) % urls.length]!);
      }
      throw error;
    }
  }

  async #groupRequest<T>(groupId: string, method: "GET" | "POST" | "DELETE", path: string, options: CallOptions): Promise<T> {
    if (this.clustered) this.#refreshIfOld();
    for (let attempt = 0; ; attempt++) {
      const coordinator = this.#coordinatorOf(groupId);
      const target = await coordinator;
      try {
        return await target.request<T>(method, path, options);
      } catch (error) {
        if (!this.clustered) throw error;
        const moved = isClientError(error, "NOT_COORDINATOR");
        if (
          (moved || isRoutingFailure(error) || isClientError(error, "COORDINATOR_NOT_AVAILABLE")) &&
          this.#coordinators.get(groupId) === coordinator
        )
          this.#coordinators.delete(groupId);
        if (!moved || attempt >= this.#retry.retries || options.signal?.aborted) throw error;
        if (attempt > 0) {
          const wait = backoffMs(attempt, this.#retry.initialRetryTimeMs, this.#retry.maxRetryTimeMs);
          await (options.signal === undefined ? sleep(this.#clock, wait) : sleep(this.#clock, wait, options.signal));
        }
      }
    }
  }

  #coordinatorOf(groupId: string): Promise<Requester> {
    let coordinator = this.#coordinators.get(groupId);
    if (coordinator !== undefined) return coordinator;
    coordinator = this.#findCoordinator(groupId);
    this.#coordinators.set(groupId, coordinator);
    // A failed lookup is not kept: the next call asks again (and fails with the lookup's error meanwhile).
    const kept = coordinator;
    kept.catch(() => {
      if (this.#coordinators.get(groupId) === kept) this.#coordinators.delete(groupId);
    });
    return coordinator;
  }

  async #findCoordinator(groupId: string): Promise<Requester> {
    const loading = this.ready();
    if (loading !== undefined) await loading;
    if (!this.clustered) return this.home;
    let found: GroupCoordinatorResult;
    try {
      // COORDINATOR_NOT_AVAILABLE (503, retriable: the offsets topic is being created) is retried with backoff.
      found = await this.home.request<GroupCoordinatorResult>("GET", `v1/groups/${segment(groupId)}/coordinator`, { retry: "idempotent" });
    } catch (error) {
      if (isClientError(error) && error.status === 404) return this.home; // a broker that does not route groups
      throw error;
    }
    return found.url == null ? this.home : this.#http(found.url.replace(/\/+$/, ""));
  }

  async #load(): Promise<void> {
    const urls = this.#candidates();
    const start = Math.max(0, urls.indexOf(this.#homeUrl));
    let last: unknown;
    for (let i = 0; i < urls.length; i++) {
      const url = urls[(start + i) % urls.length]!;
      let answer: ClusterMetadataResult;
      try {
        // Not retried: the next broker is the retry, and without any answer the request that needed the
        // metadata goes to the home broker with its own retries (which would only be doubled here).
        answer = await this.#http(url).request<ClusterMetadataResult>("GET", "v1/metadata", { retry: "never" });
      } catch (error) {
        // A broker without cluster mode's route (older than it), or one with auth, which cluster mode does not
        // support yet (a principal without `describe` on the cluster, or a bad token, which the request
        // itself then reports): a single node.
        if (isClientError(error) && (error.status === 404 || error.status === 403 || error.status === 401)) {
          this.#setHome(url);
          this.#view = "single";
          return;
        }
        last = error;
        continue;
      }
      if (this.#view === undefined) this.#setHome(url); // the first live broker stays home
      this.#view = this.#toView(answer);
      this.#loadedAt = this.#clock.now();
      return;
    }
    throw last ?? new ClientError("NETWORK_EXCEPTION", "no broker to ask for the cluster metadata", { retriable: true });
  }

  #toView(answer: ClusterMetadataResult): ClusterView | "single" {
    // A broker in cluster mode names its cluster, even in a moment when it lists no live broker (then the
    // home broker gets everything until the next refresh); only a single node answers without one.
    if (answer?.clusterId == null || !Array.isArray(answer.brokers)) return "single";
    const brokers = new Map<number, Http>();
    for (const { nodeId, url } of answer.brokers) brokers.set(nodeId, this.#http(url.replace(/\/+$/, "")));
    const leaders = new Map<string, number[]>();
    for (const topic of answer.topics) {
      const byPartition: number[] = [];
      for (const p of topic.partitions) byPartition[p.partition] = p.leader;
      leaders.set(topic.name, byPartition);
    }
    return { brokers, leaders };
  }
}

/**
 * True for a failure after which a cluster's partition may be served by another broker now: no connection,
 * no answer in time, or `NOT_LEADER_OR_FOLLOWER`. Internal.
 */
export function isRoutingFailure(error: unknown): boolean {
  return (
    isClientError(error) && (error.code === "NOT_LEADER_OR_FOLLOWER" || error.code === "NETWORK_EXCEPTION" || error.code === "REQUEST_TIMED_OUT")
  );
}
