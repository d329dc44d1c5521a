// Who is calling (bearer tokens) and what they may do (Kafka-model ACLs): the one module every route asks.
// Everything is decided from options given at start, precomputed per principal, so a check on the hot path
// is an array index and a map lookup. The broker core knows nothing of this (it stays transport-free).
import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { BrokerError, type BrokerErrorCode } from "./errors.js";

/** One principal of `auth.principals`: a name and the SHA-256 (hex) of its bearer token. */
export interface AuthPrincipal {
  /** The principal's name, as ACLs and `superUsers` name it. */
  readonly name: string;
  /**
   * Lower- or upper-case hex SHA-256 of the token (`printf %s "$TOKEN" | sha256sum`). The token itself is
   * never configured, stored or logged.
   */
  readonly tokenSha256: string;
}

/** `BrokerAppOptions.auth`: bearer-token authentication. */
export interface AuthOptions {
  /** Who may call the broker (at least one). */
  readonly principals: readonly AuthPrincipal[];
  /** Principals every ACL check lets through (names from `principals`). */
  readonly superUsers?: readonly string[] | undefined;
}

/**
 * What an ACL entry is about. The cluster has one name, `kafka-cluster` (as in Kafka); `*` matches it too.
 * `stream`: a Durable Stream, named by its path (what follows `/v1/stream/`).
 */
export type AclResource = "topic" | "group" | "cluster" | "stream";
/** What an ACL entry allows or denies; `all` is every one of them. */
export type AclOperation = "read" | "write" | "create" | "delete" | "alter" | "describe" | "all";

/**
 * One entry of `BrokerAppOptions.acls` (Kafka's model): `principal` (a name from `auth.principals`, or `*`
 * for every authenticated principal) is allowed or denied `operations` on the resources of type `resource`
 * whose name equals `name` (`pattern: "literal"`, the default; the literal name `*` matches every name) or
 * starts with it (`pattern: "prefixed"`). Deny wins over allow; allowing `read`, `write`, `delete` or
 * `alter` also allows `describe`, as in Kafka.
 */
export interface AclEntry {
  readonly principal: string;
  readonly resource: AclResource;
  readonly name: string;
  readonly pattern?: "literal" | "prefixed" | undefined;
  readonly operations: readonly AclOperation[];
  readonly permission: "allow" | "deny";
}

/** An authenticated caller. Internal: built once per configured principal. */
export interface Principal {
  readonly name: string;
  /** A super user, or no `acls` configured: every check passes. */
  readonly unrestricted: boolean;
  /** Indexed by `resourceIndex * OPERATIONS.length + operationIndex`. */
  readonly rules: readonly Rules[];
}

/** The ACL entries of one principal, resource type and operation, precomputed. */
interface Rules {
  denyAll: boolean;
  allowAll: boolean;
  readonly deny: Set<string>;
  readonly allow: Set<string>;
  readonly denyPrefixes: string[];
  readonly allowPrefixes: string[];
  /** Decisions already made, by resource name (bounded: cleared when full). */
  readonly cache: Map<string, boolean>;
}

const RESOURCES: readonly AclResource[] = ["topic", "group", "cluster", "stream"];
const OPERATIONS = ["read", "write", "create", "delete", "alter", "describe"] as const;
type Operation = (typeof OPERATIONS)[number];
/** Allowing one of these allows `describe` too (Kafka's implied operations). */
const IMPLIES_DESCRIBE: ReadonlySet<AclOperation> = new Set(["read", "write", "delete", "alter", "all"]);
const FAILED: Readonly<Record<AclResource, BrokerErrorCode>> = {
  topic: "TOPIC_AUTHORIZATION_FAILED",
  group: "GROUP_AUTHORIZATION_FAILED",
  cluster: "CLUSTER_AUTHORIZATION_FAILED",
  stream: "STREAM_AUTHORIZATION_FAILED",
};
const CACHE_LIMIT = 4096;
/** Authorization header values already verified (see {@link Access.authenticate}); cleared when full. */
const VERIFIED_LIMIT = 1024;
const RESOURCE_INDEX: Readonly<Record<AclResource, number>> = { topic: 0, group: 1, cluster: 2, stream: 3 };
const OPERATION_INDEX: Readonly<Record<Operation, number>> = { read: 0, write: 1, create: 2, delete: 3, alter: 4, describe: 5 };
/** The name of the one cluster resource. */
export const CLUSTER = "kafka-cluster";
/** RFC 6750's `b64token`, after `Bearer` and spaces. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const PRINCIPAL_KEY = "minikafka.principal";

/** Paths anyone may call: health checks, and the static console files (they hold no data; the console asks for a token). */
function isPublic(path: string): boolean {
  return path === "/healthz" || path === "/readyz" || path === "/" || path === "/console" || path.startsWith("/console/");
}

/**
 * Authentication and authorisation of one broker. With no `auth`, every request passes unauthenticated
 * and every check is a no-op. With `auth`, every request but {@link isPublic} paths needs a known bearer
 * token; with `acls` too, every operation needs an allowing ACL (super users excepted).
 */
export class Access {
  /** Whether `auth` is configured. */
  readonly enabled: boolean;
  readonly #principals: readonly { readonly digest: Buffer; readonly principal: Principal }[];
  /**
   * `Authorization` header values that {@link Access.authenticate} has verified, to their principal. Only
   * successes enter, so unknown tokens cannot grow it (and variants of a known one are bounded by
   * {@link VERIFIED_LIMIT}). It lives and dies with this object, which is built from the configuration:
   * a changed `auth` is a new `Access` with an empty map, so a removed token is never let in from here.
   */
  readonly #verified = new Map<string, Principal>();

  /**
   * @throws BrokerError `INVALID_REQUEST` naming the option for invalid `auth` or `acls` (also: `acls`
   *   without `auth`, an ACL or super user naming an unknown principal, two principals with one token).
   */
  constructor(auth: AuthOptions | undefined, acls: readonly AclEntry[] | undefined) {
    if (auth === undefined) {
      if (acls !== undefined) throw new BrokerError("INVALID_REQUEST", "acls need auth (principals with tokens) to apply to");
      this.enabled = false;
      this.#principals = [];
      return;
    }
    this.enabled = true;
    if (typeof auth !== "object" || auth === null || !Array.isArray(auth.principals) || auth.principals.length === 0) {
      throw new BrokerError("INVALID_REQUEST", "auth.principals must be a non-empty list of { name, tokenSha256 }");
    }
    const names = new Set<string>();
    const digests = new Set<string>();
    auth.principals.forEach((p, i) => {
      if (typeof p?.name !== "string" || p.name === "" || p.name === "*") {
        throw new BrokerError("INVALID_REQUEST", `auth.principals[${i}].name must be a non-empty string other than "*"`);
      }
      if (names.has(p.name)) throw new BrokerError("INVALID_REQUEST", `auth.principals[${i}].name: ${JSON.stringify(p.name)} is listed twice`);
      if (typeof p.tokenSha256 !== "string" || !HEX_SHA256.test(p.tokenSha256)) {
        throw new BrokerError("INVALID_REQUEST", `auth.principals[${i}].tokenSha256 must be 64 hex digits (the token's SHA-256)`);
      }
      const digest = p.tokenSha256.toLowerCase();
      if (digests.has(digest)) throw new BrokerError("INVALID_REQUEST", `auth.principals[${i}].tokenSha256 is another principal's too`);
      names.add(p.name);
      digests.add(digest);
    });
    const superUsers = auth.superUsers ?? [];
    if (!Array.isArray(superUsers)) throw new BrokerError("INVALID_REQUEST", "auth.superUsers must be a list of principal names");
    superUsers.forEach((name, i) => {
      if (!names.has(name)) throw new BrokerError("INVALID_REQUEST", `auth.superUsers[${i}]: ${JSON.stringify(name)} is not in auth.principals`);
    });
    const entries = validateAcls(acls, names);
    this.#principals = auth.principals.map((p) => ({
      digest: Buffer.from(p.tokenSha256, "hex"),
      principal: {
        name: p.name,
        unrestricted: entries === undefined || superUsers.includes(p.name),
        rules: compileRules(p.name, entries ?? []),
      },
    }));
  }

  /**
   * The principal whose token `authorization` carries. A header value seen before is a map lookup; a new
   * one has its token's SHA-256 compared, in constant time, with every configured digest, whichever
   * matches, and is remembered when one does.
   *
   * Why the lookup leaks nothing the constant-time comparison protects: that comparison keeps response
   * times from telling how much of a guessed token's digest matches a configured one. The map holds only
   * header values that carried a valid token. Looking up a guess costs the guess's own hash (its length,
   * nothing of the stored keys); V8 compares it with a stored key — the one step whose time depends on
   * shared leading characters — only when their string hashes collide, and those are seeded at random per
   * process and never shown. So the one signal left is hit or miss, which is whether the token is valid:
   * the answer's status says that anyway. A miss takes exactly the path it took before (digest, compare
   * with every principal), so unknown tokens are not faster or slower than they were.
   * @throws BrokerError `AUTHENTICATION_FAILED` for a missing or malformed header or an unknown token.
   */
  authenticate(authorization: string | undefined): Principal {
    if (authorization === undefined) throw new BrokerError("AUTHENTICATION_FAILED", "this broker needs an authorization: bearer <token> header");
    const known = this.#verified.get(authorization);
    if (known !== undefined) return known;
    const match = BEARER.exec(authorization);
    if (match === null) throw new BrokerError("AUTHENTICATION_FAILED", "the authorization header must be bearer <token>");
    const digest = createHash("sha256").update(match[1]!, "utf8").digest();
    let found: Principal | undefined;
    for (const candidate of this.#principals) if (timingSafeEqual(candidate.digest, digest)) found = candidate.principal;
    if (found === undefined) throw new BrokerError("AUTHENTICATION_FAILED", "unknown bearer token");
    if (this.#verified.size >= VERIFIED_LIMIT) this.#verified.clear();
    this.#verified.set(authorization, found);
    return found;
  }

  /**
   * Middleware: authenticates every request to a non-public path (when `auth` is configured) and keeps
   * the principal for {@link Access.check}. Runs before any body is read.
   */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      if (this.enabled && !isPublic(c.req.path)) c.set(PRINCIPAL_KEY as never, this.authenticate(c.req.header("authorization")) as never);
      return next();
    };
  }

  /** The request's principal (`undefined` without `auth`, and on public paths). */
  principal(c: Context): Principal | undefined {
    return this.enabled ? (c.get(PRINCIPAL_KEY as never) as Principal | undefined) : undefined;
  }

  /** Whether the request's principal may do `operation` on the resource (always true without `auth`). */
  allows(c: Context, resource: AclResource, name: string, operation: Operation): boolean {
    return this.enabled ? this.allowsPrincipal(c.get(PRINCIPAL_KEY as never) as Principal | undefined, resource, name, operation) : true;
  }

  /**
   * {@link Access.allows} for a principal {@link Access.authenticate} returned, without a Hono context (the
   * Node fast lane); `undefined` is no principal (always allowed without `auth`, never with it).
   */
  allowsPrincipal(principal: Principal | undefined, resource: AclResource, name: string, operation: Operation): boolean {
    if (!this.enabled) return true;
    return principal !== undefined && (principal.unrestricted || decide(principal, resource, name, operation));
  }

  /**
   * Refuses unless the request's principal may do `operation` on the resource.
   * @throws BrokerError `TOPIC_AUTHORIZATION_FAILED`, `GROUP_AUTHORIZATION_FAILED` or
   *   `CLUSTER_AUTHORIZATION_FAILED` (403).
   */
  check(c: Context, resource: AclResource, name: string, operation: Operation): void {
    if (this.enabled) this.checkPrincipal(c.get(PRINCIPAL_KEY as never) as Principal | undefined, resource, name, operation);
  }

  /**
   * {@link Access.check} for a principal {@link Access.authenticate} returned, without a Hono context.
   * @throws BrokerError as {@link Access.check}.
   */
  checkPrincipal(principal: Principal | undefined, resource: AclResource, name: string, operation: Operation): void {
    if (!this.allowsPrincipal(principal, resource, name, operation)) {
      const what = resource === "cluster" ? "the cluster" : `${resource} ${JSON.stringify(name)}`;
      throw new BrokerError(FAILED[resource], `principal ${JSON.stringify(principal?.name ?? "anonymous")} may not ${operation} ${what}`);
    }
  }

  /** Creating topic `name`: allowed by `create` on the topic or on the cluster. @throws BrokerError `TOPIC_AUTHORIZATION_FAILED` */
  checkCreateTopic(c: Context, name: string): void {
    if (!this.allows(c, "cluster", CLUSTER, "create")) this.check(c, "topic", name, "create");
  }

  /** {@link Access.checkCreateTopic} for a principal, without a Hono context. @throws BrokerError `TOPIC_AUTHORIZATION_FAILED` */
  checkCreateTopicPrincipal(principal: Principal | undefined, name: string): void {
    if (!this.allowsPrincipal(principal, "cluster", CLUSTER, "create")) this.checkPrincipal(principal, "topic", name, "create");
  }

  /** Creating stream `path`: allowed by `create` on the stream or on the cluster. @throws BrokerError `STREAM_AUTHORIZATION_FAILED` */
  checkCreateStream(c: Context, path: string): void {
    if (!this.allows(c, "cluster", CLUSTER, "create")) this.check(c, "stream", path, "create");
  }

  /** The items whose resource the principal may `describe` (all of them without `auth`). */
  filter<T>(c: Context, resource: AclResource, items: T[], name: (item: T) => string): T[] {
    if (!this.enabled) return items;
    return items.filter((item) => this.allows(c, resource, name(item), "describe"));
  }
}

function decide(principal: Principal, resource: AclResource, name: string, operation: Operation): boolean {
  const rules = principal.rules[RESOURCE_INDEX[resource] * OPERATIONS.length + OPERATION_INDEX[operation]]!;
  const cached = rules.cache.get(name);
  if (cached !== undefined) return cached;
  const denied = rules.denyAll || rules.deny.has(name) || rules.denyPrefixes.some((p) => name.startsWith(p));
  const allowed = !denied && (rules.allowAll || rules.allow.has(name) || rules.allowPrefixes.some((p) => name.startsWith(p)));
  if (rules.cache.size >= CACHE_LIMIT) rules.cache.clear();
  rules.cache.set(name, allowed);
  return allowed;
}

function compileRules(principal: string, acls: readonly AclEntry[]): Rules[] {
  const rules: Rules[] = [];
  for (let i = 0; i < RESOURCES.length * OPERATIONS.length; i++) {
    rules.push({ denyAll: false, allowAll: false, deny: new Set(), allow: new Set(), denyPrefixes: [], allowPrefixes: [], cache: new Map() });
  }
  for (const acl of acls) {
    if (acl.principal !== principal && acl.principal !== "*") continue;
    const allow = acl.permission === "allow";
    const ops = new Set<Operation>();
    for (const op of acl.operations) {
      if (op === "all") for (const o of OPERATIONS) ops.add(o);
      else ops.add(op);
      if (allow && IMPLIES_DESCRIBE.has(op)) ops.add("describe");
    }
    for (const op of ops) {
      const r = rules[RESOURCES.indexOf(acl.resource) * OPERATIONS.length + OPERATIONS.indexOf(op)]!;
      // The cluster resource has one name: an entry for any other name matches nothing.
      if (acl.resource === "cluster" && !clusterMatches(acl)) continue;
      if ((acl.pattern ?? "literal") === "prefixed") (allow ? r.allowPrefixes : r.denyPrefixes).push(acl.name);
      else if (acl.name === "*") {
        if (allow) r.allowAll = true;
        else r.denyAll = true;
      } else (allow ? r.allow : r.deny).add(acl.name);
    }
  }
  return rules;
}

function clusterMatches(acl: AclEntry): boolean {
  return acl.pattern === "prefixed" ? CLUSTER.startsWith(acl.name) : acl.name === "*" || acl.name === CLUSTER;
}

function validateAcls(acls: readonly AclEntry[] | undefined, principals: ReadonlySet<string>): readonly AclEntry[] | undefined {
  if (acls === undefined) return undefined;
  if (!Array.isArray(acls)) throw new BrokerError("INVALID_REQUEST", "acls must be a list of ACL entries");
  const allOps: readonly string[] = [...OPERATIONS, "all"];
  acls.forEach((acl, i) => {
    const at = `acls[${i}]`;
    if (typeof acl !== "object" || acl === null) throw new BrokerError("INVALID_REQUEST", `${at} must be an object`);
    for (const key of Object.keys(acl)) {
      if (!["principal", "resource", "name", "pattern", "operations", "permission"].includes(key)) {
        throw new BrokerError("INVALID_REQUEST", `${at}.${key} is not an ACL field`);
      }
    }
    if (typeof acl.principal !== "string" || (acl.principal !== "*" && !principals.has(acl.principal))) {
      throw new BrokerError("INVALID_REQUEST", `${at}.principal: ${JSON.stringify(acl.principal)} is neither "*" nor in auth.principals`);
    }
    if (!RESOURCES.includes(acl.resource)) throw new BrokerError("INVALID_REQUEST", `${at}.resource must be "topic", "group", "cluster" or "stream"`);
    if (typeof acl.name !== "string" || acl.name === "") throw new BrokerError("INVALID_REQUEST", `${at}.name must be a non-empty string`);
    if (acl.pattern !== undefined && acl.pattern !== "literal" && acl.pattern !== "prefixed") {
      throw new BrokerError("INVALID_REQUEST", `${at}.pattern must be "literal" or "prefixed"`);
    }
    if (!Array.isArray(acl.operations) || acl.operations.length === 0 || acl.operations.some((op: unknown) => !allOps.includes(op as string))) {
      throw new BrokerError("INVALID_REQUEST", `${at}.operations must be a non-empty list of ${allOps.join(", ")}`);
    }
    if (acl.permission !== "allow" && acl.permission !== "deny")
      throw new BrokerError("INVALID_REQUEST", `${at}.permission must be "allow" or "deny"`);
  });
  return acls;
}
