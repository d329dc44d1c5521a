import type { FetchedBatch, FetchLimits } from "./fetch-manager.js";
import { segment, type Requester } from "./http.js";
import { partitionKey } from "./partition-key.js";
import type { PartitionState } from "./partition-state.js";
import type { PartitionTable } from "./partition-table.js";
import type { WireMemberFetchResult } from "./wire.js";

/**
 * The fetch strategy while every partition of the member is deliverable: one long poll for all of them
 * (the broker's member fetch), naming the consumer's positions, so the next batch can be fetched while the
 * commit of the last is in flight. Records are split into one batch per partition; records of partitions
 * the table does not hold (any more, or not yet) are dropped, to be fetched again later. Internal.
 * @throws ClientError from the broker (`OFFSET_OUT_OF_RANGE` when a position is past its partition's end).
 */
export async function fetchAsMember(
  http: Requester,
  memberPath: string,
  table: PartitionTable,
  active: readonly PartitionState[],
  limits: FetchLimits,
  signal: AbortSignal,
): Promise<FetchedBatch[]> {
  const positions = active.map((s) => `${s.topic}:${s.partition}:${s.position!}`).join(",");
  const answer = await http.request<WireMemberFetchResult>("GET", `${memberPath}/records`, {
    searchParams: { maxRecords: limits.maxRecords, maxBytes: limits.maxBytes, waitMs: limits.waitMs, encoding: limits.encoding, positions },
    retry: "idempotent",
    signal,
    extraTimeoutMs: limits.waitMs,
  });
  const batches: FetchedBatch[] = [];
  let current: FetchedBatch | undefined;
  for (const record of answer.records) {
    if (current === undefined || current.state.topic !== record.topic || current.state.partition !== record.partition) {
      const state = table.get(partitionKey(record.topic, record.partition));
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

/** `memberPath` of {@link fetchAsMember}: `v1/groups/<groupId>/members/<memberId>`. */
export function memberPath(groupPath: string, memberId: string): string {
  return `${groupPath}/members/${segment(memberId)}`;
}
