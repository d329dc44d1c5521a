export { ClusterMetadata, type ClusterMetadataOptions, type ClusterEvent } from "./cluster-metadata.js";
export { Controller, type ControllerOptions } from "./controller.js";
export { assignReplicas } from "./assignment.js";
export { electLeader } from "./election.js";
export type { BrokerInfo, PartitionMetadata, PartitionState, TopicMetadata } from "./types.js";
export { ClusterError, isClusterError, type ClusterErrorCode } from "./errors.js";
