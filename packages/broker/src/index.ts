// The public surface of @minikafka/broker; everything else is internal.
export { createBrokerApp } from "./app.js";
export type { BrokerAppOptions } from "./context.js";
export type { BrokerStore } from "./core/storage.js";
export { startBroker, type StartBrokerOptions, type StartBrokerResult, type StreamsOptions, type TlsOptions } from "./node.js";
export { StreamService, type StreamServiceOptions, type StreamLogStore } from "./core/stream-service.js";
export { BrokerError, isBrokerError, type BrokerErrorCode } from "./errors.js";
export type { CorsOptions } from "./web-guard.js";
export type { QuotaLimits, QuotaOptions } from "./quotas.js";
export type { AclEntry, AclOperation, AclResource, AuthOptions, AuthPrincipal } from "./access.js";
export type { BrokerLogger } from "./core/broker-core.js";
export { runBroker, type RunBrokerOptions } from "./run-broker.js";
export { StructuredLogger, type StructuredLoggerOptions, type LogFields } from "./structured-logger.js";
export type { LogFormat, LogLevel } from "./serve-options.js";
