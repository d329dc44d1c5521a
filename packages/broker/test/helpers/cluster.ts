// Shared by the broker's cluster tests: JSON calls, the metadata's partition shape, and a partition's
// segment bytes on disk (to compare replicas byte for byte).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One HTTP call with an optional JSON body, answered as `{ status, body }` (body parsed, null when empty). */
export async function call(method: string, url: string, body?: unknown, signal?: AbortSignal): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? null : (JSON.parse(text) as any) };
}

/** A partition as `GET /v1/metadata` lists it. */
export interface PartitionView {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

/** The stored batches of a partition on disk, its segments in order. */
export function segmentBytes(dataDir: string, topic: string, partition: number): Buffer {
  const dir = join(dataDir, topic, String(partition));
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".log"))
    .sort();
  return Buffer.concat(names.map((f) => readFileSync(join(dir, f))));
}
