// The clean-shutdown marker: one file that LogStore.close() writes last, once every partition is closed
// (flushed), naming every topic with its metadata and, per partition, where it stood (a RecoveryPoint).
// The next open reads it instead of every topic.json and every partition, removes it durably before
// anything else changes (so a crash after the open never finds a stale marker), and opens partitions on
// first use, trusting a point only while the files still match it (same segments, same last-segment size).
import { join } from "node:path";
import type { FileSystem } from "./file-system.js";
import { writeFileAtomic } from "./fs-utils.js";
import type { RecoveryPoint } from "./partition-log.js";
import { validateLogConfig } from "./settings.js";
import type { TopicMetadata } from "./topic-metadata.js";

/** The marker's file name in the data directory (`__` is reserved: no topic can have it). */
export const CLEAN_SHUTDOWN_FILE = "__clean-shutdown.json";
const VERSION = 1;

/** One topic of the marker: its metadata and each partition's point (`null`: recover it as after a crash). */
export interface CleanTopic {
  metadata: TopicMetadata;
  points: Array<RecoveryPoint | null>;
}

type PointTuple = [number, number, number, number, number, number, number | null];

const toTuple = (p: RecoveryPoint): PointTuple => [
  p.logStartOffset,
  p.logEndOffset,
  p.sizeBytes,
  p.segmentCount,
  p.activeBaseOffset,
  p.activeSize,
  p.activeMaxTimestamp ?? null,
];

const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

function fromTuple(t: unknown): RecoveryPoint | null | undefined {
  if (t === null) return null;
  if (!Array.isArray(t) || t.length !== 7) return undefined;
  const [logStartOffset, logEndOffset, sizeBytes, segmentCount, activeBaseOffset, activeSize, maxTs] = t as unknown[];
  if (![logStartOffset, logEndOffset, sizeBytes, segmentCount, activeBaseOffset, activeSize].every(isCount)) return undefined;
  if (maxTs !== null && !(typeof maxTs === "number" && Number.isSafeInteger(maxTs))) return undefined;
  const point: RecoveryPoint = {
    logStartOffset: logStartOffset as number,
    logEndOffset: logEndOffset as number,
    sizeBytes: sizeBytes as number,
    segmentCount: segmentCount as number,
    activeBaseOffset: activeBaseOffset as number,
    activeSize: activeSize as number,
    activeMaxTimestamp: maxTs === null ? undefined : (maxTs as number),
  };
  if (
    point.segmentCount < 1 ||
    point.logStartOffset > point.activeBaseOffset ||
    point.activeBaseOffset > point.logEndOffset ||
    point.activeSize > point.sizeBytes
  )
    return undefined;
  return point;
}

/** Writes the marker atomically and durably (temp file, fsync, rename, fsync of the directory). */
export function writeCleanShutdown(fs: FileSystem, dataDir: string, topics: readonly CleanTopic[]): Promise<void> {
  const body = {
    version: VERSION,
    topics: topics.map(({ metadata, points }) => ({ ...metadata, points: points.map((p) => (p === null ? null : toTuple(p))) })),
  };
  return writeFileAtomic(fs, join(dataDir, CLEAN_SHUTDOWN_FILE), JSON.stringify(body));
}

/**
 * Reads the marker; `undefined` when there is none or it is not a valid marker of this version (then the
 * store opens as after a crash: nothing is lost by ignoring it).
 */
export function readCleanShutdown(fs: FileSystem, dataDir: string): CleanTopic[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(join(dataDir, CLEAN_SHUTDOWN_FILE)).toString("utf8"));
  } catch {
    return undefined;
  }
  const body = parsed as { version?: unknown; topics?: unknown };
  if (typeof body !== "object" || body === null || body.version !== VERSION || !Array.isArray(body.topics)) return undefined;
  const out: CleanTopic[] = [];
  for (const entry of body.topics as unknown[]) {
    const t = entry as Partial<TopicMetadata> & { points?: unknown };
    if (typeof t !== "object" || t === null || typeof t.name !== "string" || !isCount(t.partitions) || t.partitions < 1) return undefined;
    if (!Number.isSafeInteger(t.createdAt) || !Array.isArray(t.points) || t.points.length !== t.partitions) return undefined;
    let config;
    try {
      config = validateLogConfig(t.config ?? {});
    } catch {
      return undefined;
    }
    const points: Array<RecoveryPoint | null> = [];
    for (const tuple of t.points as unknown[]) {
      const point = fromTuple(tuple);
      if (point === undefined) return undefined;
      points.push(point);
    }
    out.push({ metadata: { name: t.name, partitions: t.partitions, config, createdAt: t.createdAt! }, points });
  }
  return out;
}
