// Every input the broker accepts, and every answer it gives, as typebox schemas, each with its static
// type under the same name. The broker compiles validators from them once; /openapi.json is generated
// from these same objects (see routes.ts and openapi.ts).
//
// `x-error-code` names the error code a violation of that part of a schema answers with (the deepest
// annotation on the failing path wins; none means INVALID_REQUEST), so that a bad topic name says
// INVALID_TOPIC_NAME wherever it appears.
import { Type, type Static } from "typebox";

/** The schema keyword naming the error code for violations below it. */
export const ERROR_CODE_KEYWORD = "x-error-code";
/** The schema keyword giving a readable message for a `pattern` violation. */
export const PATTERN_MESSAGE_KEYWORD = "x-pattern-message";

const MAX_INT32 = 2_147_483_647;

// Kafka's rule [a-zA-Z0-9._-]{1,249}, minus "." and "..", and minus names log-store reserves ("__*", ".lock").
// The topic is a directory name: this pattern is what keeps every file inside the data directory.
const TOPIC_NAME_PATTERN = "^(?!\\.\\.?$)(?!__)(?!\\.lock$)[a-zA-Z0-9._-]+$";
// C0 and C1 control characters and DEL are refused (the coordinator's rule for ids).
const NO_CONTROL_CHARACTERS = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$";

/** A topic name: a directory name, hence the strict rule. */
export const TopicName = Type.String({
  minLength: 1,
  maxLength: 249,
  pattern: TOPIC_NAME_PATTERN,
  description: "Kafka's rule `[a-zA-Z0-9._-]{1,249}`, not `.` or `..`, not starting with `__`, not `.lock`",
  [ERROR_CODE_KEYWORD]: "INVALID_TOPIC_NAME",
  [PATTERN_MESSAGE_KEYWORD]: 'may only contain a-z, A-Z, 0-9, ".", "_" and "-", must not be "." or "..", and must not start with "__" or be ".lock"',
});

/** A consumer group id (never a path: log-store hashes it). */
export const GroupId = Type.String({
  minLength: 1,
  maxLength: 249,
  pattern: NO_CONTROL_CHARACTERS,
  description: "1 to 249 characters, no control characters",
  [ERROR_CODE_KEYWORD]: "INVALID_GROUP_ID",
  [PATTERN_MESSAGE_KEYWORD]: "must not contain control characters",
});

/** Member ids, instance ids and seed consumer ids. */
export const MemberId = Type.String({
  minLength: 1,
  maxLength: 249,
  pattern: NO_CONTROL_CHARACTERS,
  [PATTERN_MESSAGE_KEYWORD]: "must not contain control characters",
});

/** A number of partitions for a new or grown topic. */
export const PartitionCount = Type.Integer({
  minimum: 1,
  maximum: 100_000,
  description: "number of partitions (the store may impose a lower limit, 1000 by default)",
  [ERROR_CODE_KEYWORD]: "INVALID_PARTITIONS",
});

/** A partition number. */
export const Partition = Type.Integer({ minimum: 0, maximum: MAX_INT32, description: "0-based partition number" });
/** An offset in a partition. */
export const Offset = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "0-based offset in a partition" });
/** How bytes travel in JSON. */
export const Encoding = Type.Union([Type.Literal("utf8"), Type.Literal("base64")], {
  description: "how keys, values and header values are written in JSON: UTF-8 text (default) or base64 bytes",
});

const Bytes = Type.Union([Type.String(), Type.Null()]);

/** Per-topic log settings (`LogStore` validates the values further). */
export const LogConfig = Type.Object(
  {
    segmentBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: MAX_INT32 })),
    indexIntervalBytes: Type.Optional(Type.Integer({ minimum: 1 })),
    retentionMs: Type.Optional(Type.Integer({ minimum: 0 })),
    retentionBytes: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false, description: "per-topic overrides of the store's log settings" },
);

// ---------------------------------------------------------------------------------------------------
// Path parameters and query strings (strings on the wire; integer fields are converted before checking).

/** Path `:topic`. */
export const TopicParams = Type.Object({ topic: TopicName });
/** Path `:topic/partitions/:partition`. */
export const PartitionParams = Type.Object({ topic: TopicName, partition: Partition });
/** Path `:group`. */
export const GroupParams = Type.Object({ group: GroupId });
/** Path `/console/:file`: a file name of the web console. */
export const ConsoleFileParams = Type.Object({ file: Type.String({ minLength: 1, maxLength: 255 }) });
/** Path `:group/members/:member`. */
export const MemberParams = Type.Object({ group: GroupId, member: MemberId });

const Limits = {
  maxRecords: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: "at most this many records (default 500)" })),
  maxBytes: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 64 * 1024 * 1024, description: "about this many stored bytes at most (default 1 MiB)" }),
  ),
  waitMs: Type.Optional(
    Type.Integer({ minimum: 0, maximum: MAX_INT32, description: "long poll: wait up to this many ms for data (capped by the broker)" }),
  ),
  encoding: Type.Optional(Encoding),
};

/** Query of a partition fetch. */
export const FetchQuery = Type.Object({ offset: Offset, ...Limits });
/** Query of a group member's fetch. */
export const MemberFetchQuery = Type.Object({
  ...Limits,
  positions: Type.Optional(
    Type.String({
      pattern: "^[a-zA-Z0-9._-]{1,249}:[0-9]{1,9}:[0-9]{1,16}(,[a-zA-Z0-9._-]{1,249}:[0-9]{1,9}:[0-9]{1,16})*$",
      maxLength: 64 * 1024,
      description:
        "where to read owned partitions from, as topic:partition:offset items separated by commas (default: the group's committed offsets); lets a consumer fetch its next batch while its commit of the last one is in flight",
    }),
  ),
});

/**
 * Path `:topic/partitions/:partition` of the broker-to-broker replica routes: the topic may also be one of
 * the cluster's internal topics (`__consumer_offsets`).
 */
export const ReplicaPartitionParams = Type.Object({
  topic: Type.String({ minLength: 1, maxLength: 249, pattern: "^[a-zA-Z0-9._-]+$", [ERROR_CODE_KEYWORD]: "INVALID_TOPIC_NAME" }),
  partition: Partition,
});

/**
 * Which topic of its name a replica request is about (the etcd creation revision of the topic's key): a
 * leader refuses a follower of another topic of the same name (deleted and created again).
 */
const TopicId = Type.String({
  pattern: "^[0-9]{1,20}$",
  description: "the topic's id in the cluster metadata (a topic re-created under the same name has another)",
});
/** Query of a follower's replica fetch (cluster mode, broker to broker). */
export const ReplicaFetchQuery = Type.Object({
  offset: Offset,
  leaderEpoch: Type.Integer({ minimum: 0, maximum: MAX_INT32, description: "the leader epoch the follower follows" }),
  replicaId: Type.Integer({ minimum: 1, maximum: MAX_INT32, description: "the follower's node id" }),
  maxBytes: Limits.maxBytes,
  waitMs: Limits.waitMs,
  topicId: Type.Optional(TopicId),
});
/** Query of an OffsetForLeaderEpoch request (cluster mode, broker to broker). */
export const EpochEndQuery = Type.Object({
  leaderEpoch: Type.Integer({ minimum: 0, maximum: MAX_INT32, description: "the follower's latest leader epoch" }),
  currentLeaderEpoch: Type.Integer({ minimum: 0, maximum: MAX_INT32, description: "the leader epoch the follower follows" }),
  topicId: Type.Optional(TopicId),
});

// ---------------------------------------------------------------------------------------------------
// Request bodies.

/** Body of `POST /v1/topics`. */
export const CreateTopicBody = Type.Object(
  {
    name: TopicName,
    partitions: PartitionCount,
    replicationFactor: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 16, description: "copies of each partition on distinct brokers (cluster mode; default 1)" }),
    ),
    minInsyncReplicas: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 16,
        description:
          "a produce to a partition with fewer in-sync replicas is refused with NOT_ENOUGH_REPLICAS (Kafka's min.insync.replicas; default 1, at most replicationFactor)",
      }),
    ),
    config: Type.Optional(LogConfig),
  },
  { additionalProperties: false },
);

/** Body of `POST /v1/topics/:topic/partitions`. */
export const AddPartitionsBody = Type.Object(
  { count: Type.Integer({ ...PartitionCount, description: "the new total number of partitions (grow only)" }) },
  { additionalProperties: false },
);

/** One record to produce. */
export const ProduceRecord = Type.Object(
  {
    key: Type.Optional(Bytes),
    value: Bytes,
    headers: Type.Optional(Type.Record(Type.String(), Bytes)),
    partition: Type.Optional(Partition),
    timestamp: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "create time, ms since the epoch" })),
  },
  { additionalProperties: false, [ERROR_CODE_KEYWORD]: "INVALID_RECORD" },
);

/** An idempotent producer's id, from `POST /v1/producers`. */
export const ProducerId = Type.Integer({
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: "an idempotent producer's id, from POST /v1/producers",
});
/** An idempotent producer's epoch (Kafka's int16): a higher one fences the lower ones in every partition it writes. */
export const ProducerEpoch = Type.Integer({
  minimum: 0,
  maximum: 32_767,
  description: "the producer's epoch (0 from POST /v1/producers); a higher epoch fences the lower ones, and starts at sequence 0 in every partition",
});
/** One partition's base sequence in an idempotent produce. */
export const PartitionSequence = Type.Object(
  {
    partition: Partition,
    sequence: Type.Integer({
      minimum: 0,
      maximum: MAX_INT32,
      description:
        "sequence of this request's first record in that partition: 0 for the producer's first batch there in its epoch, then the previous batch's sequence plus its record count (wrapping to 0 after 2^31-1)",
    }),
  },
  { additionalProperties: false },
);

/** Body of `POST /v1/topics/:topic/records`. */
export const ProduceBody = Type.Object(
  {
    records: Type.Array(ProduceRecord, { minItems: 1, maxItems: 100_000, [ERROR_CODE_KEYWORD]: "INVALID_RECORD" }),
    encoding: Type.Optional(Encoding),
    producerId: Type.Optional(ProducerId),
    producerEpoch: Type.Optional(ProducerEpoch),
    sequences: Type.Optional(
      Type.Array(PartitionSequence, {
        minItems: 1,
        maxItems: 100_000,
        description:
          "idempotent produce (with producerId and producerEpoch): the base sequence of each partition the records go to, exactly one entry per partition; every record then names its partition",
      }),
    ),
  },
  { additionalProperties: false },
);

/** Partitions of one topic. */
export const TopicPartitions = Type.Object(
  { topic: TopicName, partitions: Type.Array(Partition, { maxItems: 100_000 }) },
  { additionalProperties: false },
);
/** A set of partitions: one entry per topic. */
export const Assignment = Type.Array(TopicPartitions, { maxItems: 10_000 });

/** Body of a group join. */
export const JoinBody = Type.Object(
  {
    topics: Type.Array(TopicName, { minItems: 1, maxItems: 1000 }),
    instanceId: Type.Optional(MemberId),
    /** The member's own session timeout (ms), within the broker's bounds (else 400 `INVALID_SESSION_TIMEOUT`). */
    sessionTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_INT32 })),
  },
  { additionalProperties: false },
);

/** A member epoch in a request (0 means joining, which is its own route). */
export const MemberEpoch = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

/** Body of a heartbeat. */
export const HeartbeatBody = Type.Object({ memberEpoch: MemberEpoch, ownedPartitions: Assignment }, { additionalProperties: false });

/** Body of an offset commit. */
export const CommitBody = Type.Object(
  {
    memberId: MemberId,
    memberEpoch: MemberEpoch,
    offsets: Type.Array(Type.Object({ topic: TopicName, partition: Partition, offset: Offset }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 100_000,
    }),
  },
  { additionalProperties: false },
);

// ---------------------------------------------------------------------------------------------------
// Seed-compatible routes (query parameters as in the tutorial's FastAPI server).

/** Seed API: query of topic creation. */
export const CompatCreateQuery = Type.Object({ num_partitions: Type.Optional(PartitionCount) });
/** Seed API: query of a send. */
export const CompatProduceQuery = Type.Object({ message: Type.String(), key: Type.Optional(Type.String()) });
/** Seed API: path of a subscribe. */
export const CompatSubscribeParams = Type.Object({ topic: TopicName, group: GroupId });
/** Seed API: query of a subscribe. */
export const CompatConsumerQuery = Type.Object({ consumer_id: MemberId });
/** Seed API: query of a poll. */
export const CompatPollQuery = Type.Object({ consumer_id: MemberId, group_id: GroupId });
/** Seed API: path of an ack. */
export const CompatAckParams = Type.Object({ topic: TopicName, offset: Offset });
/** Seed API: query of an ack. */
export const CompatAckQuery = Type.Object({ consumer_id: MemberId, partition_id: Partition });

// ---------------------------------------------------------------------------------------------------
// Answers (for the OpenAPI document).

/** The error envelope every failing route answers with. */
export const ErrorEnvelope = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), retriable: Type.Boolean() }),
});

/** One partition's offsets and size. */
export const PartitionDescription = Type.Object({
  partition: Partition,
  logStartOffset: Offset,
  logEndOffset: Offset,
  highWatermark: Type.Integer({ description: "one past the last durable offset: readers see offsets below it" }),
  sizeBytes: Type.Integer(),
  leader: Type.Optional(Type.Integer({ description: "cluster mode: the leader's node id (-1 while offline)" })),
  leaderEpoch: Type.Optional(Type.Integer({ description: "cluster mode: bumped on every leader change" })),
  replicas: Type.Optional(Type.Array(Type.Integer(), { description: "cluster mode: node ids holding a replica, preferred leader first" })),
  isr: Type.Optional(Type.Array(Type.Integer(), { description: "cluster mode: the in-sync replicas (node ids)" })),
});

/** A topic as described by the topic routes. */
export const TopicDescription = Type.Object({
  name: TopicName,
  config: LogConfig,
  createdAt: Type.Integer({ description: "ms since the epoch" }),
  partitions: Type.Array(PartitionDescription),
  replicationFactor: Type.Optional(Type.Integer({ description: "cluster mode: copies of each partition" })),
  minInsyncReplicas: Type.Optional(Type.Integer({ description: "cluster mode: the fewest in-sync replicas a produce is accepted with" })),
});

/** A broker of the cluster, as `GET /v1/metadata` lists it. */
export const BrokerMetadata = Type.Object({
  nodeId: Type.Integer({ description: "the broker's cluster.nodeId" }),
  url: Type.String({ description: "its advertised URL (cluster.advertisedUrl)" }),
});

/** One partition in `GET /v1/metadata`. */
export const PartitionMetadata = Type.Object({
  partition: Partition,
  leader: Type.Integer({ description: "the leader's node id; -1 while no in-sync replica is alive (offline)" }),
  leaderEpoch: Type.Integer(),
  replicas: Type.Array(Type.Integer()),
  isr: Type.Array(Type.Integer()),
});

/** Answer of `GET /v1/groups/:group/coordinator` (Kafka's FindCoordinator). */
export const GroupCoordinatorResult = Type.Object({
  nodeId: Type.Union([Type.Integer(), Type.Null()], { description: "the coordinating broker's node id; null on a single-node broker" }),
  url: Type.Union([Type.String(), Type.Null()], { description: "its URL; null on a single-node broker (the broker asked is the coordinator)" }),
});

/** Answer of `GET /v1/metadata`. */
export const ClusterMetadataResult = Type.Object({
  clusterId: Type.Union([Type.String(), Type.Null()], { description: "the cluster's name; null on a single-node broker" }),
  nodeId: Type.Union([Type.Integer(), Type.Null()], { description: "the answering broker's node id; null on a single-node broker" }),
  controller: Type.Union([Type.Integer(), Type.Null()], { description: "the controller's node id, if one is elected" }),
  brokers: Type.Array(BrokerMetadata, {
    description: "the live brokers; empty on a single-node broker (send every request to the broker asked)",
  }),
  topics: Type.Array(
    Type.Object({
      name: TopicName,
      replicationFactor: Type.Integer(),
      minInsyncReplicas: Type.Integer(),
      partitions: Type.Array(PartitionMetadata),
    }),
    { description: "every topic of the cluster with its partitions' leaders; empty on a single-node broker" },
  ),
});

/** Answer of an OffsetForLeaderEpoch request: where the leader's history of that epoch ends. */
export const EpochEndResult = Type.Object({
  leaderEpoch: Type.Integer({ description: "the largest epoch at or below the one asked that the leader knows; -1 if none" }),
  endOffset: Type.Integer({ description: "one past that epoch's last offset (the log end for the current epoch); -1 if unknown" }),
});

/** Answer of `GET /v1/topics`. */
export const TopicList = Type.Object({ topics: Type.Array(TopicDescription) });

/** Answer of a produce. */
export const ProduceResult = Type.Object({
  offsets: Type.Array(Type.Object({ partition: Partition, offset: Offset }), { description: "one per record, in request order" }),
  duplicate: Type.Optional(
    Type.Boolean({
      description:
        "idempotent produce only: true when every partition's batch was a retry of one already stored (nothing appended now; the offsets are the original ones)",
    }),
  ),
  duplicatePartitions: Type.Optional(
    Type.Array(Partition, { description: "idempotent produce only: the partitions whose batch was a retry already stored, ascending" }),
  ),
});

/** Answer of `POST /v1/producers`: a fresh idempotent-producer id. */
export const InitProducerResult = Type.Object({ producerId: ProducerId, producerEpoch: ProducerEpoch });

/** A record as fetched. */
export const FetchedRecord = Type.Object({
  offset: Offset,
  timestamp: Type.Integer(),
  key: Bytes,
  value: Bytes,
  headers: Type.Record(Type.String(), Bytes),
});

/** Answer of a partition fetch. */
export const FetchResult = Type.Object({
  records: Type.Array(FetchedRecord),
  nextOffset: Offset,
  highWatermark: Offset,
  logStartOffset: Offset,
});

/** Answer of a group member's fetch. */
export const MemberFetchResult = Type.Object({
  records: Type.Array(Type.Object({ topic: TopicName, partition: Partition, ...FetchedRecord.properties })),
});

const HeartbeatFields = {
  memberEpoch: Type.Integer(),
  assignment: Assignment,
  heartbeatIntervalMs: Type.Integer(),
  revokingPartitions: Assignment,
  pendingPartitions: Assignment,
};
/** Answer of a heartbeat. */
export const HeartbeatResult = Type.Object(HeartbeatFields);
/** Answer of a join. */
export const JoinResult = Type.Object({ memberId: MemberId, ...HeartbeatFields });

/**
 * A group's state, as the group coordinator reports it: `empty` (no members), `assigning` (a new target
 * assignment is due), `reconciling` (members are moving toward it), `stable`.
 */
export type GroupState = "empty" | "assigning" | "reconciling" | "stable";
const GroupStateSchema = Type.Union([Type.Literal("empty"), Type.Literal("assigning"), Type.Literal("reconciling"), Type.Literal("stable")]);

/**
 * A member's state, as the group coordinator reports it: `stable` (at the group's assignment epoch),
 * `reconciling`, `unrevoked-partitions` (still owns partitions taken from it), `unreleased-partitions`
 * (waits for partitions another member still owns).
 */
export type MemberState = "stable" | "reconciling" | "unrevoked-partitions" | "unreleased-partitions";
const MemberStateSchema = Type.Union([
  Type.Literal("stable"),
  Type.Literal("reconciling"),
  Type.Literal("unrevoked-partitions"),
  Type.Literal("unreleased-partitions"),
]);

/** One group in `GET /v1/groups`. */
export const GroupListing = Type.Object({ groupId: GroupId, state: GroupStateSchema, groupEpoch: Type.Integer(), memberCount: Type.Integer() });
/** Answer of `GET /v1/groups`. */
export const GroupList = Type.Object({ groups: Type.Array(GroupListing) });

/** Answer of `GET /v1/groups/:group`. */
export const GroupDescription = Type.Object({
  groupId: GroupId,
  state: GroupStateSchema,
  groupEpoch: Type.Integer(),
  assignmentEpoch: Type.Integer(),
  members: Type.Array(
    Type.Object({
      memberId: MemberId,
      instanceId: Type.Union([MemberId, Type.Null()]),
      memberEpoch: Type.Integer(),
      topics: Type.Array(TopicName),
      assignment: Assignment,
      revokingPartitions: Assignment,
      pendingPartitions: Assignment,
      targetAssignment: Assignment,
      lastHeartbeatMs: Type.Integer(),
      state: MemberStateSchema,
    }),
  ),
  offsets: Type.Array(
    Type.Object({
      topic: TopicName,
      partition: Partition,
      committedOffset: Type.Union([Offset, Type.Null()]),
      logStartOffset: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "first offset still stored" }),
      highWatermark: Offset,
      lag: Type.Integer({ description: "highWatermark − max(committedOffset, logStartOffset) (from logStartOffset when nothing is committed)" }),
    }),
  ),
});

/** Seed API: answer of a send. */
export const CompatProduceResult = Type.Object({ message_offset: Offset, partition_id: Partition });
/** Seed API: answer of a subscribe. */
export const CompatSubscribeResult = Type.Object({ assigned_partitions: Type.Array(Partition) });
/** Seed API: answer of a poll. */
export const CompatMessages = Type.Array(Type.Object({ message_offset: Offset, data: Bytes, partition_id: Partition }));
/** Seed API: answer of an ack. */
export const CompatAckResult = Type.Object({ status: Type.Literal("ok") });
/** Seed API: FastAPI's error shape, for a consumer without partitions. */
export const CompatDetail = Type.Object({ detail: Type.String() });

/** Answer of `/healthz` and `/readyz`. */
export const Status = Type.Object({ status: Type.String() });

// ---------------------------------------------------------------------------------------------------
// Static types: each schema's TypeScript type, under the schema's name.

// Compile-time checks that the hand-written unions above match their schemas.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
true satisfies Same<Static<typeof GroupStateSchema>, GroupState>;
true satisfies Same<Static<typeof MemberStateSchema>, MemberState>;

/** The static type of the schema `TopicName`. */
export type TopicName = Static<typeof TopicName>;
/** The static type of the schema `GroupId`. */
export type GroupId = Static<typeof GroupId>;
/** The static type of the schema `MemberId`. */
export type MemberId = Static<typeof MemberId>;
/** The static type of the schema `PartitionCount`. */
export type PartitionCount = Static<typeof PartitionCount>;
/** The static type of the schema `Partition`. */
export type Partition = Static<typeof Partition>;
/** The static type of the schema `Offset`. */
export type Offset = Static<typeof Offset>;
/** The static type of the schema `Encoding`. */
export type Encoding = Static<typeof Encoding>;
/** The static type of the schema `LogConfig`. */
export type LogConfig = Static<typeof LogConfig>;
/** The static type of the schema `TopicParams`. */
export type TopicParams = Static<typeof TopicParams>;
/** The static type of the schema `PartitionParams`. */
export type PartitionParams = Static<typeof PartitionParams>;
/** The static type of the schema `GroupParams`. */
export type GroupParams = Static<typeof GroupParams>;
/** The static type of the schema `ConsoleFileParams`. */
export type ConsoleFileParams = Static<typeof ConsoleFileParams>;
/** The static type of the schema `MemberParams`. */
export type MemberParams = Static<typeof MemberParams>;
/** The static type of the schema `FetchQuery`. */
export type FetchQuery = Static<typeof FetchQuery>;
/** The static type of the schema `MemberFetchQuery`. */
export type MemberFetchQuery = Static<typeof MemberFetchQuery>;
/** The static type of the schema `CreateTopicBody`. */
export type CreateTopicBody = Static<typeof CreateTopicBody>;
/** The static type of the schema `AddPartitionsBody`. */
export type AddPartitionsBody = Static<typeof AddPartitionsBody>;
/** The static type of the schema `ProduceRecord`. */
export type ProduceRecord = Static<typeof ProduceRecord>;
/** The static type of the schema `ProducerId`. */
export type ProducerId = Static<typeof ProducerId>;
/** The static type of the schema `ProducerEpoch`. */
export type ProducerEpoch = Static<typeof ProducerEpoch>;
/** The static type of the schema `PartitionSequence`. */
export type PartitionSequence = Static<typeof PartitionSequence>;
/** The static type of the schema `ProduceBody`. */
export type ProduceBody = Static<typeof ProduceBody>;
/** The static type of the schema `TopicPartitions`. */
export type TopicPartitions = Static<typeof TopicPartitions>;
/** The static type of the schema `Assignment`. */
export type Assignment = Static<typeof Assignment>;
/** The static type of the schema `JoinBody`. */
export type JoinBody = Static<typeof JoinBody>;
/** The static type of the schema `MemberEpoch`. */
export type MemberEpoch = Static<typeof MemberEpoch>;
/** The static type of the schema `HeartbeatBody`. */
export type HeartbeatBody = Static<typeof HeartbeatBody>;
/** The static type of the schema `CommitBody`. */
export type CommitBody = Static<typeof CommitBody>;
/** The static type of the schema `CompatCreateQuery`. */
export type CompatCreateQuery = Static<typeof CompatCreateQuery>;
/** The static type of the schema `CompatProduceQuery`. */
export type CompatProduceQuery = Static<typeof CompatProduceQuery>;
/** The static type of the schema `CompatSubscribeParams`. */
export type CompatSubscribeParams = Static<typeof CompatSubscribeParams>;
/** The static type of the schema `CompatConsumerQuery`. */
export type CompatConsumerQuery = Static<typeof CompatConsumerQuery>;
/** The static type of the schema `CompatPollQuery`. */
export type CompatPollQuery = Static<typeof CompatPollQuery>;
/** The static type of the schema `CompatAckParams`. */
export type CompatAckParams = Static<typeof CompatAckParams>;
/** The static type of the schema `CompatAckQuery`. */
export type CompatAckQuery = Static<typeof CompatAckQuery>;
/** The static type of the schema `ErrorEnvelope`. */
export type ErrorEnvelope = Static<typeof ErrorEnvelope>;
/** The static type of the schema `PartitionDescription`. */
export type PartitionDescription = Static<typeof PartitionDescription>;
/** The static type of the schema `TopicDescription`. */
export type TopicDescription = Static<typeof TopicDescription>;
/** The static type of the schema `TopicList`. */
export type TopicList = Static<typeof TopicList>;
/** The static type of the schema `ProduceResult`. */
export type ProduceResult = Static<typeof ProduceResult>;
/** The static type of the schema `InitProducerResult`. */
export type InitProducerResult = Static<typeof InitProducerResult>;
/** The static type of the schema `FetchedRecord`. */
export type FetchedRecord = Static<typeof FetchedRecord>;
/** The static type of the schema `FetchResult`. */
export type FetchResult = Static<typeof FetchResult>;
/** The static type of the schema `MemberFetchResult`. */
export type MemberFetchResult = Static<typeof MemberFetchResult>;
/** The static type of the schema `HeartbeatResult`. */
export type HeartbeatResult = Static<typeof HeartbeatResult>;
/** The static type of the schema `JoinResult`. */
export type JoinResult = Static<typeof JoinResult>;
/** The static type of the schema `GroupListing`. */
export type GroupListing = Static<typeof GroupListing>;
/** The static type of the schema `GroupList`. */
export type GroupList = Static<typeof GroupList>;
/** The static type of the schema `GroupDescription`. */
export type GroupDescription = Static<typeof GroupDescription>;
/** The static type of the schema `CompatProduceResult`. */
export type CompatProduceResult = Static<typeof CompatProduceResult>;
/** The static type of the schema `CompatSubscribeResult`. */
export type CompatSubscribeResult = Static<typeof CompatSubscribeResult>;
/** The static type of the schema `CompatMessages`. */
export type CompatMessages = Static<typeof CompatMessages>;
/** The static type of the schema `CompatAckResult`. */
export type CompatAckResult = Static<typeof CompatAckResult>;
/** The static type of the schema `CompatDetail`. */
export type CompatDetail = Static<typeof CompatDetail>;
/** The static type of the schema `Status`. */
export type Status = Static<typeof Status>;
/** The static type of the schema `ReplicaFetchQuery`. */
export type ReplicaFetchQuery = Static<typeof ReplicaFetchQuery>;
/** The static type of the schema `EpochEndQuery`. */
export type EpochEndQuery = Static<typeof EpochEndQuery>;
/** The static type of the schema `EpochEndResult`. */
export type EpochEndResult = Static<typeof EpochEndResult>;
/** The static type of the schema `BrokerMetadata`. */
export type BrokerMetadata = Static<typeof BrokerMetadata>;
/** The static type of the schema `PartitionMetadata`. */
export type PartitionMetadata = Static<typeof PartitionMetadata>;
/** The static type of the schema `ClusterMetadataResult`. */
export type ClusterMetadataResult = Static<typeof ClusterMetadataResult>;
/** The static type of the schema `GroupCoordinatorResult`. */
export type GroupCoordinatorResult = Static<typeof GroupCoordinatorResult>;
/** The static type of the schema `ReplicaPartitionParams`. */
export type ReplicaPartitionParams = Static<typeof ReplicaPartitionParams>;
