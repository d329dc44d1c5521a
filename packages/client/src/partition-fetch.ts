import type { FetchedBatch, FetchLimits } from "./fetch-manager.js";
import { isClientError } from "./errors.js";
import type { BrokerRouter } from "./broker-router.js";
import { segment } from "./http.js";
import type { PartitionState } from "./partition-state.js";
import { abortWhen } from "./sleep.js";
import type { WireFetchResult } from "./wire.js";

/**
 * The fetch strategy while some partitions are paused or being set up (the member fetch would serve them
 * too): one long poll per deliverable partition, from our positions, each with its share of the limits;
 * the first that brings records cuts the others short. A partition whose position is outside its log is
 * handed to `outOfRange` (which clamps it) and brings nothing this time. Each partition is read from its
 * leader (in a cluster; any replica serves reads, the leader is the most up to date); a failure that may
 * mean the leader moved refreshes the metadata for the next fetch. Internal.
 * @throws ClientError from the broker; the wake signal's reason when it aborts.
 */
export async function fetchByPartition(
  router: BrokerRouter,
  active: readonly PartitionState[],
  limits: FetchLimits,
  wake: AbortSignal,
  outOfRange: (state: PartitionState) => Promise<void>,
): Promise<FetchedBatch[]> {
  const cut = new AbortController();
  const signal = cut.signal;
  const unlink = abortWhen(cut, wake);
  const maxRecords = Math.max(1, Math.ceil(limits.maxRecords / active.length));
  const maxBytes = Math.max(1, Math.ceil(limits.maxBytes / active.length));
  const loading = router.ready();
  if (loading !== undefined) await loading; // unread: the home broker serves, as a single node
  try {
    const results = await Promise.all(
      active.map(async (state): Promise<FetchedBatch | undefined> => {
        try {
          const answer = await router
            .leader(state.topic, state.partition)
            .request<WireFetchResult>("GET", `v1/topics/${segment(state.topic)}/partitions/${state.partition}/records`, {
              searchParams: { offset: state.position!, maxRecords, maxBytes, waitMs: limits.waitMs, encoding: limits.encoding },
              retry: "idempotent",
              signal,
              extraTimeoutMs: limits.waitMs,
            });
          if (answer.records.length === 0) return undefined;
          cut.abort();
          return { state, records: answer.records };
        } catch (error) {
          if (cut.signal.aborted && !wake.aborted) return undefined;
          router.afterFailure(error);
          if (isClientError(error, "OFFSET_OUT_OF_RANGE")) {
            await outOfRange(state);
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
