// What a web page on another origin may do with the broker: by default nothing that changes anything, and
// read nothing (no CORS headers); with `cors.origins`, exactly the listed origins may call it, preflights
// included. Tools that send no `Origin` (curl, the seed's Python client, the client on Node) are unaffected.
import type { MiddlewareHandler } from "hono";
import { BrokerError } from "./errors.js";

/** Cross-origin access (`BrokerAppOptions.cors`). */
export interface CorsOptions {
  /**
   * Origins (`scheme://host[:port]`, exactly as browsers send them, e.g. `"https://app.example.com"`) whose
   * pages may call the broker: their preflights are answered and their answers readable. Default: none.
   */
  origins?: readonly string[] | undefined;
}

/** Request headers a page may send (the ones our routes read, Durable Streams' included). */
const ALLOW_HEADERS =
  "authorization, content-type, if-none-match, stream-seq, stream-ttl, stream-expires-at, stream-closed, producer-id, producer-epoch, producer-seq, stream-forked-from, stream-fork-offset, stream-fork-sub-offset";
/** Answer headers a page may read (Durable Streams' included). */
const EXPOSE_HEADERS =
  "retry-after, location, etag, content-length, www-authenticate, content-type, stream-next-offset, stream-cursor, stream-up-to-date, stream-closed, stream-ttl, stream-expires-at, stream-sse-data-encoding, producer-epoch, producer-seq, producer-expected-seq, producer-received-seq";
const ALLOW_METHODS = "GET, HEAD, POST, PUT, DELETE";
const ORIGIN = /^https?:\/\/[^/?#\s]+$/;

/** An origin's host is only trusted as "the broker's own" when no DNS name is involved (DNS rebinding). */
function isAddressHost(hostname: string): boolean {
  return hostname === "localhost" || /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || hostname.startsWith("[");
}

/**
 * Validates `cors` options.
 * @throws BrokerError `INVALID_REQUEST` for an origin that is not `scheme://host[:port]`.
 */
export function corsOrigins(options: CorsOptions | undefined): ReadonlySet<string> {
  const origins = options?.origins ?? [];
  if (!Array.isArray(origins)) throw new BrokerError("INVALID_REQUEST", "cors.origins must be a list of origins");
  for (const origin of origins) {
    if (typeof origin !== "string" || !ORIGIN.test(origin)) {
      throw new BrokerError("INVALID_REQUEST", `cors.origins: ${JSON.stringify(origin)} is not an origin like "https://app.example.com"`);
    }
  }
  return new Set(origins.map((o) => o.toLowerCase()));
}

/**
 * The first middleware: refuses, before anything runs, every request from a page whose origin is not
 * allowed (`Origin` not listed and not the broker's own address, or `Sec-Fetch-Site: cross-site` from an
 * unlisted origin), answers CORS preflights of listed origins, and adds CORS headers to their answers.
 *
 * "The broker's own" origin is one whose host equals the request's `Host` and is an IP address or
 * `localhost`: a DNS name could be rebound to the broker's address by a foreign page, so a console served
 * under a DNS name needs its origin in `cors.origins`. Top-level navigations (`Sec-Fetch-Mode: navigate`,
 * GET or HEAD), which change nothing and cannot be read by the linking page, are let through.
 */
export function webGuard(allowed: ReadonlySet<string>): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header("origin");
    const site = c.req.header("sec-fetch-site");
    const listed = origin !== undefined && allowed.has(origin.toLowerCase());
    if (!listed) {
      const method = c.req.method;
      const navigation = (method === "GET" || method === "HEAD") && c.req.header("sec-fetch-mode") === "navigate" && origin === undefined;
      if (origin !== undefined && origin !== "null" && !sameAddressOrigin(origin, c.req.header("host"))) {
        throw new BrokerError("ORIGIN_NOT_ALLOWED", `requests from origin ${origin} are not allowed (list it in the broker's cors.origins)`);
      }
      if (origin === "null") throw new BrokerError("ORIGIN_NOT_ALLOWED", "requests from an opaque origin (null) are not allowed");
      if (site === "cross-site" && !navigation) {
        throw new BrokerError("ORIGIN_NOT_ALLOWED", "cross-site requests are not allowed (list the page's origin in the broker's cors.origins)");
      }
      return next();
    }
    c.header("access-control-allow-origin", origin);
    c.header("vary", "origin", { append: true });
    if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined) {
      c.header("access-control-allow-methods", ALLOW_METHODS);
      c.header("access-control-allow-headers", ALLOW_HEADERS);
      c.header("access-control-max-age", "600");
      return c.body(null, 204);
    }
    c.header("access-control-expose-headers", EXPOSE_HEADERS);
    return next();
  };
}

function sameAddressOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return url.host === host.toLowerCase() && isAddressHost(url.hostname);
}
