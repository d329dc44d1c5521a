import { join } from "node:path";
import { LogStoreError } from "./errors.js";
import type { FileSystem } from "./file-system.js";
import { writeFileAtomic } from "./fs-utils.js";
import { validateLogConfig } from "./settings.js";
import type { LogConfig } from "./types.js";

/** The content of `<dataDir>/<topic>/topic.json`. */
export interface TopicMetadata {
  name: string;
  partitions: number;
  config: LogConfig;
  createdAt: number;
}

const FILE = "topic.json";

/** Whether `dir` holds a topic (has its metadata file). */
export const hasTopicMetadata = (fs: FileSystem, dir: string): boolean => fs.existsSync(join(dir, FILE));

/** Replaces the topic's metadata atomically and durably. */
export function writeTopicMetadata(fs: FileSystem, dir: string, metadata: TopicMetadata): Promise<void> {
  return writeFileAtomic(fs, join(dir, FILE), `${JSON.stringify(metadata, null, 2)}\n`);
}

/**
 * Reads and checks a topic's metadata.
 * @throws LogStoreError `KAFKA_STORAGE_ERROR` when the file is unreadable or not valid metadata.
 */
export function readTopicMetadata(fs: FileSystem, dir: string): TopicMetadata {
  const path = join(dir, FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(path).toString("utf8"));
  } catch (error) {
    throw new LogStoreError("KAFKA_STORAGE_ERROR", `cannot read topic metadata ${path}: ${(error as Error).message}`, { cause: error });
  }
  const m = parsed as Partial<TopicMetadata>;
  if (
    typeof m !== "object" ||
    m === null ||
    typeof m.name !== "string" ||
    !Number.isSafeInteger(m.partitions) ||
    (m.partitions ?? 0) < 1 ||
    !Number.isSafeInteger(m.createdAt)
  ) {
    throw new LogStoreError("KAFKA_STORAGE_ERROR", `topic metadata ${path} is not valid`);
  }
  return { name: m.name, partitions: m.partitions!, config: validateLogConfig(m.config ?? {}), createdAt: m.createdAt! };
}
