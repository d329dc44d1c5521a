// Buffers for large response bodies (record fetches), reused across requests. A fresh 1 MB buffer per fetch
// costs more than writing the records into it (the allocator maps and zero-fills new pages every time), so
// on Node, where the response tells when the socket has taken its bytes, a body's buffer goes back to a
// small pool afterwards. Elsewhere buffers are simply allocated and left to the garbage collector.
import type { Context } from "hono";
import type { JsonBytes } from "./encoding.js";

/** The part of Node's `http.ServerResponse` this needs; @hono/node-server passes it as `c.env.outgoing`. */
export interface Outgoing {
  once(event: "finish", listener: () => void): unknown;
}

/** Smallest buffer handed out: small fetches all share one size class. */
const MIN_BYTES = 64 * 1024;

/** A pool of byte buffers for response bodies, bounded in count and size. */
export class BodyPool {
  private readonly free: Uint8Array<ArrayBuffer>[] = [];

  constructor(
    /** Buffers kept for reuse at most. */
    private readonly maxBuffers = 8,
    /** Larger buffers are not kept. */
    private readonly maxBufferBytes = 16 * 1024 * 1024,
  ) {}

  /** A buffer of at least `bytes` bytes (contents unspecified), from the pool when one fits. */
  take(bytes: number): Uint8Array<ArrayBuffer> {
    const free = this.free;
    for (let i = free.length - 1; i >= 0; i--) {
      const buf = free[i]!;
      if (buf.length >= bytes) {
        free[i] = free[free.length - 1]!;
        free.pop();
        return buf;
      }
    }
    // Powers of two, so that buffers of one size class serve fetches of similar sizes.
    return new Uint8Array(Math.max(MIN_BYTES, 2 ** Math.ceil(Math.log2(bytes))));
  }

  /**
   * Gives `buf` back once the response of `c` has been handed to the operating system, if the runtime says
   * when that is (Node); otherwise, or if the connection closes first, the buffer is not reused.
   */
  recycleAfterResponse(c: Context, buf: Uint8Array<ArrayBuffer>): void {
    this.recycleAfterFinish((c.env as { outgoing?: Outgoing } | undefined)?.outgoing, buf);
  }

  /** {@link BodyPool.recycleAfterResponse} given Node's response itself (`undefined`: not on Node, not reused). */
  recycleAfterFinish(outgoing: Outgoing | undefined, buf: Uint8Array<ArrayBuffer>): void {
    if (typeof outgoing?.once !== "function" || buf.length > this.maxBufferBytes) return;
    // "finish": every byte was passed to the kernel, nothing references the buffer any more. A "close"
    // without it means the write was abandoned; the buffer is then left to the garbage collector.
    outgoing.once("finish", () => {
      if (this.free.length < this.maxBuffers) this.free.push(buf);
    });
  }
}

const JSON_HEADERS = { "content-type": "application/json" };

/** Answers 200 with the JSON text written into `body`, whose buffer came from `pool` and returns to it after sending. */
export function sendJsonBytes(c: Context, pool: BodyPool, body: JsonBytes): Response {
  pool.recycleAfterResponse(c, body.buffer);
  return c.body(body.bytes(), 200, JSON_HEADERS);
}
