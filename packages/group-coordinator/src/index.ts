export {
  GroupCoordinator,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
  DEFAULT_MIN_SESSION_TIMEOUT_MS,
  DEFAULT_MAX_SESSION_TIMEOUT_MS,
  DEFAULT_OFFSETS_RETENTION_MS,
  type GroupCoordinatorOptions,
  type JoinOptions,
  type HeartbeatOptions,
  type CommitOffsetsOptions,
  type ExpiredMember,
  type GroupEvent,
} from "./group-coordinator.js";
export type { GroupState, GroupDescription, GroupListing, HeartbeatResult, JoinResult } from "./consumer-group.js";
export type { MemberDescription, MemberState } from "./member.js";
export { uniformStickyAssignor } from "./assignors/uniform-sticky.js";
export { rangeAssignor } from "./assignors/range.js";
export type { Assignment, Assignor, AssignorInput, AssignorMember, TopicPartitions } from "./assignors/types.js";
export { type Clock, type Scheduler, systemClock, ManualClock } from "./clock.js";
export { type OffsetStore, type TopicPartitionOffset, InMemoryOffsetStore } from "./offset-store.js";
export { CoordinatorError, isCoordinatorError, type CoordinatorErrorCode } from "./errors.js";
