export { LogStore, type LogStoreOptions, type CreateTopicOptions, type NewTopic } from "./log-store.js";
export type { TopicChangeEvent, TopicChangeListener } from "./topic-events.js";
export { PartitionLog, type PartitionLogOptions } from "./partition-log.js";
export type { InitProducerIdResult } from "./producer-ids.js";
export type { EpochEndOffset } from "./leader-epoch-cache.js";
export { LogStoreError, isLogStoreError, type LogStoreErrorCode, type ProducerErrorDetails } from "./errors.js";
export { MAX_TOPIC_NAME_LENGTH, validateTopicName } from "./names.js";
export type {
  AppendOptions,
  AppendResult,
  BatchReadResult,
  Clock,
  DurabilityOptions,
  FsyncPolicy,
  LogConfig,
  LogStoreMetrics,
  PartitionAppend,
  PartitionDescription,
  ProducerSequence,
  ReadOptions,
  ReadResult,
  RecordData,
  RecordHeaders,
  RecordHeadersInput,
  RecordInput,
  StoredRecord,
  TopicDescription,
  TopicPartitionOffset,
  WaitOptions,
} from "./types.js";
