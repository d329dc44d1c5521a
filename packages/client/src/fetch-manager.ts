import { isClientError } from "./errors.js";
import type { GroupMember } from "./group-member.js";
import type { BrokerRouter } from "./broker-router.js";
import type { Requester } from "./http.js";
import { fetchAsMember, memberPath } from "./member-fetch.js";
import type { OffsetManager } from "./offset-manager.js";
import { fetchByPartition } from "./partition-fetch.js";
import type { PartitionState } from "./partition-state.js";
import type { PartitionTable } from "./partition-table.js";
import type { MessageFormat } from "./types.js";
import type { WireEncoding, WireRecord } from "./wire.js";

/** The records of one partition from one fetch, in offset order. */
export interface FetchedBatch {
  state: PartitionState;
  records: WireRecord[];
}

/** The limits of one fetch, shared between its partitions. */
export interface FetchLimits {
  maxRecords: number;
  maxBytes: number;
  /** Long poll: how long the broker may wait for records, in ms. */
  waitMs: number;
  encoding: WireEncoding;
}

/** What {@link FetchManager} works with. */
export interface FetchManagerOptions {
  /** The group's broker: member fetches. */
  http: Requester;
  /** Partition fetches go to each partition's leader. */
  router: BrokerRouter;
  /** `v1/groups/<groupId>` */
  groupPath: string;
  table: PartitionTable;
  offsets: OffsetManager;
  member: () => GroupMember | undefined;
  maxRecords: number;
  maxBytes: number;
  waitMs: number;
  format: MessageFormat;
}

/**
 * Fetches the next records of a consumer's deliverable partitions, choosing the strategy: one member
 * fetch for all partitions when it serves exactly those ({@link fetchAsMember}), otherwise one long poll per
 * partition ({@link fetchByPartition}). Positions found outside their log are clamped and bring nothing
 * this time. Internal.
 */
export class FetchManager {
  readonly #o: FetchManagerOptions;
  readonly #limits: FetchLimits;
  readonly #outOfRange: (state: PartitionState) => Promise<void>;

  constructor(options: FetchManagerOptions) {
    this.#o = options;
    const encoding: WireEncoding = options.format === "text" ? "utf8" : "base64";
    this.#limits = { maxRecords: options.maxRecords, maxBytes: options.maxBytes, waitMs: options.waitMs, encoding };
    this.#outOfRange = (state) => options.offsets.resetPosition(state);
  }

  /**
   * The records of `active` (the deliverable partitions, the member joined), one batch per partition that
   * brought any. A wake-up (`wake` aborting) cuts the long poll short.
   * @throws ClientError from the broker; the wake signal's reason when it aborts.
   */
  async fetch(active: readonly PartitionState[], wake: AbortSignal): Promise<FetchedBatch[]> {
    const { http, table } = this.#o;
    if (!table.memberFetchServes()) return fetchByPartition(this.#o.router, active, this.#limits, wake, this.#outOfRange);
    try {
      return await fetchAsMember(http, memberPath(this.#o.groupPath, this.#o.member()!.memberId!), table, active, this.#limits, wake);
    } catch (error) {
      // A position past the end of its partition (a seek too far, a topic re-created): clamp them all.
      if (!isClientError(error, "OFFSET_OUT_OF_RANGE")) throw error;
      await Promise.all(active.map(this.#outOfRange));
      return [];
    }
  }
}
