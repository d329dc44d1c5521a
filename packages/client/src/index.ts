export { createClient, type Client, type ClientOptions, type FetchFunction } from "./client.js";
export { Producer, type ProducerOptions } from "./producer.js";
export type { Clock, Scheduler, ClientClock } from "./clock.js";
export {
  Consumer,
  type ConsumerOptions,
  type SubscribeOptions,
  type RunOptions,
  type EachMessagePayload,
  type EachBatchPayload,
  type Batch,
  type ConsumerCrashEvent,
  type TopicPartitionsSelection,
} from "./consumer.js";
export { Admin, type TopicSpec, type TopicOffsets, type PartitionOffsetLag, type DeleteGroupResult } from "./admin.js";
export { ClientError, isClientError, type ClientErrorCode, type ClientErrorOptions } from "./errors.js";
export type {
  TopicPartition,
  TopicPartitionOffset,
  TopicPartitions,
  MessageFormat,
  MessageData,
  ProducerMessage,
  ProducerRecord,
  RecordMetadata,
  KafkaMessage,
  RetryOptions,
  TopicConfig,
  TopicDescription,
  PartitionDescription,
  GroupDescription,
  GroupMemberDescription,
  GroupOverview,
  PartitionLag,
} from "./types.js";
export type { Partitioner, PartitionerInput } from "@minikafka/partitioner";
