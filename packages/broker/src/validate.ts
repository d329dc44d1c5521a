import type { MiddlewareHandler } from "hono";
import { validator } from "hono/validator";
import type { Static, TObject, TSchema } from "typebox";
import { Compile, type Validator } from "typebox/compile";
import type { TLocalizedValidationError } from "typebox/error";
import { BrokerError, type BrokerErrorCode } from "./errors.js";
import { ERROR_CODE_KEYWORD, PATTERN_MESSAGE_KEYWORD } from "@minikafka/protocol";

const compiled = new WeakMap<TSchema, Validator>();

/** The compiled validator of `schema`, compiled on first use and reused afterwards. */
function validatorOf(schema: TSchema): Validator {
  let v = compiled.get(schema);
  if (v === undefined) {
    v = Compile(schema) as Validator;
    compiled.set(schema, v);
  }
  return v;
}

type Where = "body" | "query" | "path";

/**
 * Checks `value` against `schema`; returns it typed, or throws a {@link BrokerError} whose code is the
 * schema's `x-error-code` annotation nearest the failing part (default `INVALID_REQUEST`) and whose message
 * names the field, the rule and the value.
 */
export function parseWith<S extends TSchema>(schema: S, value: unknown, where: Where): Static<S> {
  const v = validatorOf(schema);
  if (v.Check(value)) return value as Static<S>;
  throw validationError(schema, v.Errors(value), value, where);
}

/** `application/json`, with parameters (`; charset=utf-8`) or not, in any case. */
const JSON_MEDIA_TYPE = /^\s*application\/json\s*(;|$)/i;

/**
 * Body middleware: refuses a body not declared `application/json` (415 `UNSUPPORTED_MEDIA_TYPE`: a page on
 * another origin can send text/plain or a form without a CORS preflight, never JSON), then parses and
 * validates it.
 */
export function jsonBody<S extends TSchema>(schema: S): MiddlewareHandler<any, string, { in: { json: Static<S> }; out: { json: Static<S> } }> {
  validatorOf(schema);
  return async (c, next) => {
    requireJsonContentType(c.req.header("content-type"));
    c.req.addValidatedData("json", parseJsonText(schema, await c.req.text()) as object);
    await next();
  };
}

/**
 * The first step of {@link jsonBody}, before the body is read.
 * @throws BrokerError `UNSUPPORTED_MEDIA_TYPE` unless `type` (the `Content-Type` header) is `application/json`.
 */
export function requireJsonContentType(type: string | undefined): void {
  // A page on another origin can POST text/plain (or a form) without a preflight; never JSON.
  if (type === undefined || !JSON_MEDIA_TYPE.test(type)) {
    throw new BrokerError(
      "UNSUPPORTED_MEDIA_TYPE",
      `request body must be sent as content-type application/json, got ${type === undefined ? "none" : JSON.stringify(truncate(type, 100))}`,
    );
  }
}

/**
 * The rest of {@link jsonBody}: the body's text parsed and checked against `schema`.
 * @throws BrokerError `INVALID_REQUEST` for an empty body or malformed JSON; the schema's codes (see {@link parseWith}).
 */
export function parseJsonText<S extends TSchema>(schema: S, text: string): Static<S> {
  if (text.length === 0) throw new BrokerError("INVALID_REQUEST", "request body is empty; expected a JSON object");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BrokerError("INVALID_REQUEST", `malformed JSON in request body: ${lowerFirst(truncate((error as Error).message, 200))}`);
  }
  return parseWith(schema, value, "body");
}

/**
 * What {@link query} and {@link params} check, without Hono: `raw` (decoded strings; a list for a query
 * parameter given more than once) with integer fields converted, validated against `schema`.
 * @throws BrokerError `INVALID_REQUEST` for a repeated parameter; the schema's codes (see {@link parseWith}).
 */
export function parseStrings<S extends TObject>(schema: S, raw: Record<string, string | string[]>, where: "query" | "path"): Static<S> {
  return parseWith(schema, coerce(schema, raw), where);
}

/** Query middleware: converts integer fields from their string form, then validates. Unknown parameters are ignored. */
export function query<S extends TObject>(schema: S) {
  validatorOf(schema);
  return validator("query", (value) => parseStrings(schema, value, "query"));
}

/** Path-parameter middleware: converts integer fields from their string form, then validates. */
export function params<S extends TObject>(schema: S) {
  validatorOf(schema);
  return validator("param", (value) => parseStrings(schema, value as Record<string, string>, "path"));
}

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

/**
 * The text of integer parameters that a `number` cannot hold exactly (beyond ±(2^53 − 1)), by the
 * coerced object they were put in: error messages quote what was sent ("got 9007199254740993"), not the
 * nearest double ("got 9007199254740992").
 */
const inexact = new WeakMap<object, Map<string, string>>();

/**
 * Query strings and path parameters are strings: turn the ones the schema wants as integers into numbers.
 * An integer too large for a double to hold exactly is compared as a BigInt against the schema's bounds,
 * so that a value just past a bound near 2^53 is not rounded back inside it.
 */
function coerce(schema: TObject, raw: Record<string, string | string[]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const properties = schema.properties as Record<string, { type?: unknown; minimum?: unknown; maximum?: unknown }>;
  for (const key of Object.keys(properties)) {
    const value = raw[key];
    if (value === undefined) continue;
    if (Array.isArray(value)) throw new BrokerError("INVALID_REQUEST", `${where(key)} is given ${value.length} times; give it once`);
    const property = properties[key]!;
    if (property.type !== "integer" || !INTEGER.test(value)) {
      out[key] = value;
      continue;
    }
    const n = Number(value);
    out[key] = n;
    if (Number.isSafeInteger(n)) continue;
    let texts = inexact.get(out);
    if (texts === undefined) inexact.set(out, (texts = new Map()));
    texts.set(key, value);
    // Beyond 2^53 a double may round onto a bound: decide on the exact value.
    const exact = BigInt(value);
    if (typeof property.maximum === "number" && exact > BigInt(property.maximum)) out[key] = Math.max(n, property.maximum + 1);
    else if (typeof property.minimum === "number" && exact < BigInt(property.minimum)) out[key] = Math.min(n, property.minimum - 1);
    // Within the bounds but not exact (no schema bound is that wide today): never let a rounded value through.
    else throw new BrokerError("INVALID_REQUEST", `${where(key)} must be a safe integer, got ${value}`);
  }
  return out;
}

const where = (key: string) => `parameter ${key}`;

function validationError(schema: TSchema, errors: TLocalizedValidationError[], value: unknown, at: Where): BrokerError {
  const first = errors.find((e) => e.keyword !== "boolean") ?? errors[0];
  if (first === undefined) return new BrokerError("INVALID_REQUEST", `invalid ${at}`);
  let message = first.message;
  if (first.schemaPath.includes("/anyOf/")) {
    // "must be string or must be null" reads better than the first alternative alone.
    const alternatives = errors.filter((e) => e.instancePath === first.instancePath && e.keyword !== "anyOf");
    message = alternatives.every((e) => e.keyword === "const")
      ? `must be one of ${alternatives.map((e) => JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)).join(", ")}`
      : [...new Set(alternatives.map((e) => e.message))].join(" or ");
  } else if (first.keyword === "pattern") {
    const readable = schemaAt(schema, first.schemaPath)?.[PATTERN_MESSAGE_KEYWORD];
    if (typeof readable === "string") message = readable;
  } else if (first.keyword === "additionalProperties") {
    const names = (first.params as { additionalProperties: string[] }).additionalProperties;
    message = `has unknown field${names.length > 1 ? "s" : ""} ${names.map((n) => JSON.stringify(truncate(n, 50))).join(", ")}`;
  }
  const field = describeField(at, first.instancePath);
  const sent = typeof value === "object" && value !== null ? inexact.get(value)?.get(decodePointer(first.instancePath.slice(1))) : undefined;
  const got =
    first.keyword === "required" || first.keyword === "additionalProperties" ? "" : `, got ${sent ?? show(pointer(value, first.instancePath))}`;
  return new BrokerError(errorCode(schema, first.schemaPath), `${field} ${message}${got}`);
}

/** The deepest `x-error-code` annotation on the schema path (`#/properties/records/items/...`). */
function errorCode(schema: TSchema, schemaPath: string): BrokerErrorCode {
  let code: unknown = (schema as Record<string, unknown>)[ERROR_CODE_KEYWORD];
  let node: unknown = schema;
  for (const segment of schemaPath.split("/").slice(1)) {
    node = (node as Record<string, unknown> | undefined)?.[decodePointer(segment)];
    if (typeof node !== "object" || node === null) break;
    const annotated = (node as Record<string, unknown>)[ERROR_CODE_KEYWORD];
    if (typeof annotated === "string") code = annotated;
  }
  return (typeof code === "string" ? code : "INVALID_REQUEST") as BrokerErrorCode;
}

function schemaAt(schema: TSchema, schemaPath: string): Record<string, unknown> | undefined {
  let node: unknown = schema;
  for (const segment of schemaPath.split("/").slice(1)) node = (node as Record<string, unknown> | undefined)?.[decodePointer(segment)];
  return typeof node === "object" && node !== null ? (node as Record<string, unknown>) : undefined;
}

function describeField(at: Where, instancePath: string): string {
  const segments = instancePath.split("/").slice(1).map(decodePointer);
  if (at === "body") {
    if (segments.length === 0) return "request body";
    const path = segments.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
    return `body field ${path}`;
  }
  const kind = at === "query" ? "query parameter" : "path parameter";
  return segments.length === 0 ? `${kind}s` : `${kind} ${segments[0]}`;
}

function pointer(value: unknown, instancePath: string): unknown {
  let node = value;
  for (const segment of instancePath.split("/").slice(1)) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[decodePointer(segment)];
  }
  return node;
}

const decodePointer = (segment: string) => segment.replace(/~1/g, "/").replace(/~0/g, "~");

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  // A JSON body's number was parsed before we saw it: say when it cannot be what was sent.
  if (typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value)) return `${value} (beyond 2^53, not exact)`;
  if (typeof value === "string") return JSON.stringify(truncate(value, 60));
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);
