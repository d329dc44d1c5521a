// The public surface of @minikafka/protocol: the wire contract of the minikafka broker.
export { ERRORS, errorRow, errorCodesWhere, type ErrorCode, type ErrorRow } from "./errors.js";
export * from "./schemas.js";
export { ROUTES, type RouteSpec, type RouteName } from "./routes.js";
export { openApiDocument } from "./openapi.js";
