import type { Admin as AdminClass } from "./admin.js";
import type { Consumer as ConsumerClass } from "./consumer.js";
import type { Producer as ProducerClass } from "./producer.js";

export { createClient, type Client, type ClientOptions, type FetchFunction } from "./client.js";
export type { ProducerOptions } from "./producer.js";
export type { Clock, Scheduler, ClientClock } from "./clock.js";
export type {
  ConsumerOptions,
  SubscribeOptions,
  RunOptions,
  EachMessagePayload,
  EachBatchPayload,
  Batch,
  ConsumerCrashEvent,
  TopicPartitionsSelection,
} from "./consumer.js";
export type { TopicSpec, TopicOffsets, PartitionOffsetLag, DeleteGroupResult } from "./admin.js";
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

// Producer, Consumer and Admin are made by a Client (`producer()`, `consumer()`, `admin()`), so they are
// exported as types only. As classes, their internal-only constructors were stripped from the published
// .d.ts, which then let `new Producer()` compile (and fail at run time).
/** Sends records (see `Client.producer()`). */
export type Producer = ProducerClass;
/** A consumer-group member (see `Client.consumer()`). */
export type Consumer<T = Uint8Array> = ConsumerClass<T>;
/** Topic and group administration (see `Client.admin()`). */
export type Admin = AdminClass;
