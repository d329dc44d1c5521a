import { LogStoreError } from "./errors.js";
import { nodeFileSystem, type FileSystem } from "./file-system.js";
import { HandleCache } from "./handle-cache.js";
import type { Journal } from "./journal.js";
import type { DurabilityOptions, FsyncPolicy, LogConfig, LogStoreMetrics } from "./types.js";

/** Fully resolved settings of one partition log. */
export interface LogSettings {
  segmentBytes: number;
  indexIntervalBytes: number;
  retentionMs: number | undefined;
  retentionBytes: number | undefined;
  producerIdExpirationMs: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  now: () => number;
  metrics: LogStoreMetrics;
  /** Where the log's files live (the real file system outside tests; through {@link LogSettings.handles}' eviction). */
  fs: FileSystem;
  /** The bounded pool of open segment and index descriptors (one per store, shared by its logs). */
  handles: HandleCache;
  /** {@link LogConfig.replicated}: the high watermark is set from outside. */
  replicated: boolean;
  /** Replicated logs: the longest time in ms between a high watermark change and its checkpoint. */
  highWatermarkCheckpointIntervalMs: number;
  /** The store's journal (`fsync: "always"` in a {@link LogStore}); unset: each log fsyncs its own segments. */
  journal?: Journal | undefined;
}

/** Default segment size: 64 MiB (smaller than Kafka's 1 GiB: an embedded log wants finer retention). */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** Default index interval: an entry per 4 KiB of batches (Kafka's default). */
export const DEFAULT_INDEX_INTERVAL_BYTES = 4096;
/** Default idle time after which a producer's state is dropped: 1 day (Kafka's `producer.id.expiration.ms`). */
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 24 * 60 * 60 * 1000;
/** Default fsync interval for `fsync: "interval"`. */
export const DEFAULT_FSYNC_INTERVAL_MS = 100;
/** Default longest time between a high watermark change and its checkpoint (Kafka's default). */
export const DEFAULT_HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS = 5000;

function optionalInt(name: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new LogStoreError("INVALID_REQUEST", `${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/** Checks a {@link LogConfig} and returns only its known, valid fields. */
export function validateLogConfig(config: LogConfig | undefined): LogConfig {
  if (config === undefined) return {};
  if (typeof config !== "object" || config === null) throw new LogStoreError("INVALID_REQUEST", "config must be an object");
  const out: LogConfig = {};
  const segmentBytes = optionalInt("segmentBytes", config.segmentBytes, 1024);
  if (segmentBytes !== undefined && segmentBytes > 2 ** 31 - 1)
    throw new LogStoreError("INVALID_REQUEST", `segmentBytes must be < 2 GiB, got ${segmentBytes}`);
  const indexIntervalBytes = optionalInt("indexIntervalBytes", config.indexIntervalBytes, 1);
  const retentionMs = optionalInt("retentionMs", config.retentionMs, 0);
  const retentionBytes = optionalInt("retentionBytes", config.retentionBytes, 0);
  const producerIdExpirationMs = optionalInt("producerIdExpirationMs", config.producerIdExpirationMs, 1);
  if (segmentBytes !== undefined) out.segmentBytes = segmentBytes;
  if (indexIntervalBytes !== undefined) out.indexIntervalBytes = indexIntervalBytes;
  if (retentionMs !== undefined) out.retentionMs = retentionMs;
  if (retentionBytes !== undefined) out.retentionBytes = retentionBytes;
  if (producerIdExpirationMs !== undefined) out.producerIdExpirationMs = producerIdExpirationMs;
  if (config.replicated !== undefined) {
    if (typeof config.replicated !== "boolean")
      throw new LogStoreError("INVALID_REQUEST", `replicated must be true or false, got ${String(config.replicated)}`);
    // Only stored when on, so that configs (and topic.json) of logs that are not replicated stay as they were.
    if (config.replicated) out.replicated = true;
  }
  return out;
}

/** Merges per-log config over store defaults and validates the durability options. */
export function resolveSettings(
  config: LogConfig,
  durability: DurabilityOptions,
  metrics?: LogStoreMetrics,
  fs: FileSystem = nodeFileSystem,
  handles?: HandleCache,
): LogSettings {
  const c = validateLogConfig(config);
  const fsync = durability.fsync ?? "always";
  if (fsync !== "always" && fsync !== "interval" && fsync !== "never") {
    throw new LogStoreError("INVALID_REQUEST", `fsync must be "always", "interval" or "never", got ${JSON.stringify(fsync)}`);
  }
  const fsyncIntervalMs = optionalInt("fsyncIntervalMs", durability.fsyncIntervalMs, 1) ?? DEFAULT_FSYNC_INTERVAL_MS;
  const highWatermarkCheckpointIntervalMs =
    optionalInt("highWatermarkCheckpointIntervalMs", durability.highWatermarkCheckpointIntervalMs, 1) ??
    DEFAULT_HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS;
  if (highWatermarkCheckpointIntervalMs > 2_147_483_647)
    throw new LogStoreError(
      "INVALID_REQUEST",
      `highWatermarkCheckpointIntervalMs must be at most 2147483647, got ${highWatermarkCheckpointIntervalMs}`,
    );
  if (durability.now !== undefined && typeof durability.now !== "function")
    throw new LogStoreError("INVALID_REQUEST", "now must be a function returning ms");
  if (durability.clock !== undefined && typeof durability.clock?.now !== "function")
    throw new LogStoreError("INVALID_REQUEST", "clock must have a now() method returning ms");
  return {
    segmentBytes: c.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
    indexIntervalBytes: c.indexIntervalBytes ?? DEFAULT_INDEX_INTERVAL_BYTES,
    retentionMs: c.retentionMs,
    retentionBytes: c.retentionBytes,
    producerIdExpirationMs: c.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS,
    fsync,
    fsyncIntervalMs,
    replicated: c.replicated === true,
    highWatermarkCheckpointIntervalMs,
    now: nowOf(durability),
    metrics: metrics ?? { appendedRecords: 0, appendedBytes: 0, readRecords: 0, fsyncs: 0 },
    fs: handles?.fs ?? fs,
    handles: handles ?? new HandleCache(fs),
  };
}

/** The time source of the durability options: `clock`, else the deprecated `now`, else `Date.now`. */
export function nowOf(durability: DurabilityOptions): () => number {
  const clock = durability.clock;
  if (clock !== undefined) return () => clock.now();
  return durability.now ?? Date.now;
}
