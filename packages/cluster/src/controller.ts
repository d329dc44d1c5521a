import type { ClusterEvent, ClusterMetadata } from "./cluster-metadata.js";
import { electLeader } from "./election.js";

/** Options for {@link Controller}. */
export interface ControllerOptions {
  /** Called after each leadership or ISR change the controller wrote (for logs). */
  onChange?: ((change: { topic: string; partition: number; leader: number; leaderEpoch: number; isr: number[] }) => void) | undefined;
  /** Called with errors of background work (etcd unreachable…); the controller retries on the next event. */
  onError?: ((error: unknown) => void) | undefined;
}

/**
 * The cluster controller, run by every broker; one at a time holds the etcd `controller` key (bound to its
 * broker's lease, so it is released when that broker dies) and acts:
 *
 * - when elected, and whenever a broker comes or goes, it reconciles every partition with
 *   {@link electLeader}: a partition whose leader is dead gets the first live in-sync replica as its leader
 *   with a bumped epoch; dead brokers leave ISRs; a partition without a live in-sync replica goes offline
 *   (unclean election is off) and comes back when one of its in-sync replicas does;
 * - every write is a compare-and-swap on the partition state's revision, fenced by the controller key's
 *   creation revision, so a deposed controller (its lease expired while it was paused) cannot write.
 *
 * The others watch the controller key and campaign again when it disappears.
 */
export class Controller {
  readonly #metadata: ClusterMetadata;
  readonly #options: ControllerOptions;
  /** The creation revision of our controller key while we hold it. */
  #fence: string | undefined;
  #stopWatching: (() => Promise<void>) | undefined;
  #running: Promise<void> = Promise.resolve();
  #dirty = false;
  #stopped = false;

  constructor(metadata: ClusterMetadata, options: ControllerOptions = {}) {
    this.#metadata = metadata;
    this.#options = options;
  }

  /** Starts watching and campaigning. Resolves once the first campaign round is done. */
  async start(): Promise<void> {
    this.#stopWatching = await this.#metadata.watch((event) => this.#onEvent(event));
    await this.#schedule();
  }

  /** True while this broker holds the controller key. */
  get isController(): boolean {
    return this.#fence !== undefined && this.#metadata.leaseValidUntil() > Date.now();
  }

  /** Resolves once the work queued so far is done (tests, and a broker's orderly shutdown). */
  settled(): Promise<void> {
    return this.#running;
  }

  /** Stops campaigning and watching (the controller key goes with the broker's lease). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#stopWatching?.();
    await this.#running;
  }

  #onEvent(event: ClusterEvent): void {
    if (event.type === "controller" && event.nodeId !== this.#metadata.nodeId) this.#fence = undefined;
    if (
      event.type === "broker-up" ||
      event.type === "broker-down" ||
      event.type === "controller" ||
      event.type === "topic-created" ||
      event.type === "topic-changed"
    ) {
      void this.#schedule();
    }
  }

  /** Runs one campaign + reconcile round after the current one; rounds asked for meanwhile collapse into one. */
  #schedule(): Promise<void> {
    if (this.#dirty) return this.#running;
    this.#dirty = true;
    this.#running = this.#running.then(async () => {
      this.#dirty = false;
      if (this.#stopped) return;
      try {
        await this.#round();
      } catch (error) {
        this.#options.onError?.(error);
      }
    });
    return this.#running;
  }

  async #round(): Promise<void> {
    this.#fence ??= await this.#metadata.claimController();
    if (this.#fence === undefined) return;
    const live = new Set((await this.#metadata.liveBrokers()).map((b) => b.nodeId));
    for (const name of await this.#metadata.topicNames()) {
      const topic = await this.#metadata.topic(name);
      if (!topic) continue;
      for (const p of topic.partitions) await this.#reconcile(name, p.partition, live);
    }
  }

  /** Brings one partition in line with the live brokers, re-reading after a lost compare-and-swap. */
  async #reconcile(topic: string, partition: number, live: ReadonlySet<number>): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = (await this.#metadata.topic(topic))?.partitions[partition];
      if (!current || this.#fence === undefined) return;
      const next = electLeader(current.state, current.replicas, live);
      if (!next) return;
      const written = await this.#metadata.updatePartitionState(topic, partition, current.revision, next, {
        key: "controller",
        createRevision: this.#fence,
      });
      if (written !== undefined) {
        this.#options.onChange?.({ topic, partition, ...next });
        return;
      }
      // Lost the race: the state changed (a leader's ISR change) or we are no longer the controller.
      if ((await this.#metadata.controller()) !== this.#metadata.nodeId) {
        this.#fence = undefined;
        return;
      }
    }
  }
}
