import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { BrokerError } from "./errors.js";

/**
 * Refuses request bodies over `maxBytes` with `REQUEST_TOO_LARGE`, before reading them where it can.
 *
 * On Node with a `Content-Length` (every client but a chunked upload), the header decides at once and the
 * body is then read by @hono/node-server's fast path, straight from the socket into one buffer: Node's HTTP
 * parser delivers exactly `Content-Length` bytes, so the body cannot outgrow the check. Hono's `bodyLimit`,
 * which counts bytes as they stream, is only used without a length (chunked) or off Node: it touches
 * `c.req.raw.body`, which makes @hono/node-server build a full web `Request` with a body stream and an
 * abort signal, about a fifth of the broker's CPU for a one-record produce.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => new BrokerError("REQUEST_TOO_LARGE", `request body exceeds the limit of ${maxBytes} bytes`);
  const streaming = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge();
    },
  });
  return async (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD") return next();
    const onNode = (c.env as { incoming?: unknown } | undefined)?.incoming !== undefined;
    const length = c.req.header("content-length");
    if (onNode && length !== undefined && c.req.header("transfer-encoding") === undefined) {
      // Node's parser has already refused a malformed or repeated Content-Length (400) before we get here.
      if (Number(length) > maxBytes) throw tooLarge();
      return next();
    }
    return streaming(c, next);
  };
}
