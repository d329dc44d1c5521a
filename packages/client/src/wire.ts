// The broker's JSON shapes, as the protocol package defines them (type-only imports: no typebox at run
// time). Internal: the public types (types.ts) are what users see; these are what travels.
import type {
  Encoding,
  ErrorEnvelope,
  FetchedRecord,
  FetchResult,
  GroupDescription,
  GroupListing,
  HeartbeatResult,
  JoinResult,
  MemberFetchResult,
  ProduceBody,
  ProduceRecord,
  ProduceResult,
  TopicPartitions,
} from "@minikafka/protocol";

/** `"utf8"`: strings are the text; `"base64"`: strings are base64 of the bytes. */
export type WireEncoding = Encoding;
/** One record of a produce request. */
export type WireProduceRecord = ProduceRecord;
/** Body of `POST /v1/topics/:topic/records`. */
export type WireProduceBody = ProduceBody;
/** Answer of a produce: each record's partition and offset, in request order. */
export type WireProduceResult = ProduceResult;
/** A record as a partition fetch answers it. */
export type WireRecord = FetchedRecord;
/** Answer of a partition fetch. */
export type WireFetchResult = FetchResult;
/** A record as a member fetch answers it (with its topic and partition). */
export type WireMemberRecord = MemberFetchResult["records"][number];
/** Answer of a member fetch. */
export type WireMemberFetchResult = MemberFetchResult;
/** Partitions of one topic, as assignments travel. */
export type WireTopicPartitions = TopicPartitions;
/** Answer of a heartbeat. */
export type WireHeartbeatResult = HeartbeatResult;
/** Answer of a join. */
export type WireJoinResult = JoinResult;
/** One partition's committed offset and lag in a group description. */
export type WireGroupOffset = GroupDescription["offsets"][number];
/** Answer of `GET /v1/groups/:group`. */
export type WireGroupDescription = GroupDescription;
/** One group of `GET /v1/groups`. */
export type WireGroupListing = GroupListing;
/** The error envelope of every failing answer. */
export type WireErrorEnvelope = ErrorEnvelope;
