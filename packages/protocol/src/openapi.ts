import type { TSchema } from "typebox";
import { ERRORS, type ErrorCode } from "./errors.js";
import { ROUTES, type RouteSpec } from "./routes.js";
import { ErrorEnvelope } from "./schemas.js";

const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: "invalid input",
  404: "unknown topic, partition, group or member",
  409: "conflicts with the current state",
  413: "request body too large",
  416: "offset out of range",
  503: "temporarily unavailable",
};

/** Error statuses documented on every non-admin route, each naming the codes the error table gives it. */
function errorResponses(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [status, description] of Object.entries(ERROR_DESCRIPTIONS)) {
    const codes = (Object.keys(ERRORS) as ErrorCode[]).filter((code) => String(ERRORS[code].status) === status);
    out.push([status, `${description} (${codes.join(", ")})`]);
  }
  return out;
}

/**
 * The OpenAPI 3.1 document of the broker (JSON Schema 2020-12 is what typebox emits), generated from
 * {@link ROUTES} and the error table.
 */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errors = errorResponses();
  for (const op of Object.values(ROUTES) as RouteSpec[]) {
    const path = op.path.replace(/:([A-Za-z_]+)/g, "{$1}");
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ["path", op.params],
      ["query", op.query],
    ] as const) {
      if (schema === undefined) continue;
      const required = new Set<string>((schema as { required?: string[] }).required ?? []);
      for (const [name, property] of Object.entries(schema.properties as Record<string, TSchema>)) {
        parameters.push({ name, in: where, required: where === "path" || required.has(name), schema: property });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, [description, schema]] of Object.entries(op.responses)) {
      responses[status] = schema === undefined ? { description } : { description, content: { [op.contentType ?? "application/json"]: { schema } } };
    }
    if (op.tag !== "admin" && op.tag !== "console") {
      for (const [status, description] of errors) {
        responses[status] ??= { description, content: { "application/json": { schema: ErrorEnvelope } } };
      }
    }
    (paths[path] ??= {})[op.method] = {
      operationId: op.operationId ?? `${op.method}${path.replace(/[{}]/g, "").replace(/[/._-]+(\w)/g, (_, ch: string) => ch.toUpperCase())}`,
      summary: op.summary,
      tags: [op.tag],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(op.body !== undefined ? { requestBody: { required: true, content: { "application/json": { schema: op.body } } } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "minikafka broker",
      version: "1",
      description: "Kafka-style broker over HTTP/1.1 + JSON. Errors: `{ error: { code, message, retriable } }`.",
    },
    paths,
  };
}
