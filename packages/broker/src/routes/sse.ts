import type { Context } from "hono";
import type { LiveReader } from "../core/live-tail.js";

/** Bytes an SSE client may leave untaken (queued in the answer) before it is dropped: 1 MiB by default. */
export const DEFAULT_SSE_BACKLOG_BYTES = 1024 * 1024;

/** Options of an {@link SseChannel}. */
export interface SseChannelOptions {
  /** Bytes queued for the client (not yet taken by its socket) past which it is dropped. */
  maxBacklogBytes: number;
  /** The answer ends after this long, in ms (clients reconnect from their last offset). */
  maxDurationMs: number;
  /** Called once when the channel ends, however it ends (release its quota slot). */
  onClose: () => void;
  /**
   * Closes the client's connection at once (Node: destroys the socket). A dropped reader's connection is
   * closed with it, so the client sees a broken answer, not a clean end; without it, the body fails.
   */
  destroyConnection?: (() => void) | undefined;
  /**
   * The runtime's own response (Node: the `http.ServerResponse`), when it gives access to it: once the
   * server has sent the answer's head and taken every queued chunk, each round is written to it directly
   * instead of through the `ReadableStream` (one write call per reader and round instead of an enqueue, a
   * read promise and a write: the cost of fan-out to many readers), its backlog being what the response
   * has not yet handed to the kernel. With chunked encoding and the socket at hand (Node, HTTP/1.1), each
   * round goes to the socket as one write of a chunk frame shared by the round's readers, instead of the
   * response's corked write of three pieces flushed on the next tick.
   */
  outgoing?: SseOutgoing | undefined;
}

/** The part of Node's `http.ServerResponse` an {@link SseChannel} writes rounds to directly. */
export interface SseOutgoing {
  readonly headersSent: boolean;
  readonly writableLength: number;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  /** The answer is sent in chunked transfer encoding (HTTP/1.1 without a length): Node's, `undefined` elsewhere. */
  readonly chunkedEncoding?: boolean | undefined;
  /** The connection (Node: the `net.Socket`), written to directly once the response has nothing queued. */
  readonly socket?: SseSocket | null | undefined;
  write(chunk: Uint8Array): boolean;
  destroy(): unknown;
}

/** The part of a `net.Socket` an {@link SseChannel} writes framed rounds to. */
export interface SseSocket {
  readonly writableLength: number;
  readonly destroyed: boolean;
  write(chunk: Uint8Array): boolean;
}

/**
 * Each round's bytes framed as one HTTP/1.1 chunk (`<hex length>\r\n<bytes>\r\n`), made once per round:
 * the same bytes object goes to every reader of a profile, so the frame is shared too.
 */
const chunkFrames = new WeakMap<Uint8Array, Buffer>();
const CRLF = Buffer.from("\r\n");

function chunkFrame(bytes: Uint8Array): Buffer {
  let frame = chunkFrames.get(bytes);
  if (frame === undefined) {
    frame = Buffer.concat([Buffer.from(`${bytes.byteLength.toString(16)}\r\n`), bytes, CRLF]);
    chunkFrames.set(bytes, frame);
  }
  return frame;
}

/**
 * One SSE answer's body as a {@link LiveReader}: the bytes of each round are queued in a `ReadableStream`
 * (the same `Uint8Array` for every reader of a round: queueing copies nothing), which the server drains as
 * the socket takes them. A client that leaves more than `maxBacklogBytes` untaken is dropped (its answer
 * fails, the connection is closed), so a slow reader costs a bounded amount of memory. The answer ends
 * after `maxDurationMs`, when the client goes away (`cancel`), or when the log ends.
 */
export class SseChannel<P> implements LiveReader<P> {
  readonly body: ReadableStream<Uint8Array>;
  onEnded: (() => void) | undefined;
  #ended = false;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  readonly #options: SseChannelOptions;
  readonly #timer: ReturnType<typeof setTimeout>;
  /** Rounds go straight to `options.outgoing` (from the first round after the server drained the stream). */
  #direct = false;
  /** Direct rounds go to this socket as chunk frames (the response has nothing queued of its own then). */
  #socket: SseSocket | undefined;

  constructor(
    readonly profile: P,
    options: SseChannelOptions,
  ) {
    this.#options = options;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        cancel: () => this.#finish(),
      },
      // Counted in bytes; nothing is wanted ahead (desiredSize = -bytes queued).
      { highWaterMark: 0, size: (chunk) => chunk.byteLength },
    );
    this.#timer = setTimeout(() => this.end(), options.maxDurationMs);
    this.#timer.unref?.();
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes queued and not yet taken by the client. */
  get backlog(): number {
    if (this.#ended) return 0;
    if (!this.#direct) return 0 - (this.#controller.desiredSize ?? 0);
    return this.#options.outgoing!.writableLength + (this.#socket?.writableLength ?? 0);
  }

  send(bytes: Uint8Array): boolean {
    if (this.#ended) return false;
    const outgoing = this.#options.outgoing;
    // Direct once the server has written the head and taken every queued chunk (so the order holds): its
    // read of the stream stays pending until the channel closes it, and then ends the response.
    if (!this.#direct && outgoing !== undefined && outgoing.headersSent && this.#controller.desiredSize === 0) {
      this.#direct = true;
      // Framed by hand only when the response itself has nothing queued, so that the order holds.
      const socket = outgoing.socket;
      if (outgoing.chunkedEncoding === true && outgoing.writableLength === 0 && socket != null && !socket.destroyed) this.#socket = socket;
    }
    if (this.#direct && (outgoing!.destroyed || outgoing!.writableEnded || this.#socket?.destroyed === true)) {
      this.cancel(); // the connection is gone: nothing more is sent
      return false;
    }
    if (this.backlog + bytes.byteLength > this.#options.maxBacklogBytes) {
      this.drop();
      return false;
    }
    if (bytes.byteLength === 0) return true; // nothing to send (and an empty chunk would end the answer)
    if (this.#socket !== undefined) this.#socket.write(chunkFrame(bytes));
    else if (this.#direct) outgoing!.write(bytes);
    else this.#controller.enqueue(bytes);
    return true;
  }

  end(): void {
    if (this.#ended) return;
    this.#close();
    this.#finish();
  }

  /** Ends the answer as failed (the client's connection is closed) and frees what it had queued. */
  drop(): void {
    if (this.#ended) return;
    const destroy = this.#options.destroyConnection;
    if (destroy === undefined) this.#controller.error(new Error("the SSE client took too long to read: dropped"));
    else {
      destroy();
      this.#close();
    }
    this.#finish();
  }

  /** The client went away (its request's signal aborted): nothing more is sent. */
  cancel(): void {
    if (this.#ended) return;
    this.#close();
    this.#finish();
  }

  #close(): void {
    try {
      this.#controller.close();
    } catch {
      // Already cancelled by the server (the socket closed first): nothing to close.
    }
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    const onEnded = this.onEnded;
    this.onEnded = undefined;
    onEnded?.();
    this.#options.onClose();
  }
}

/**
 * A `text/event-stream` answer with the channel's body; the channel is cancelled when the client goes
 * away. Middleware headers set before (CORS of a listed origin) are kept.
 */
export function sseResponse<P>(c: Context, channel: SseChannel<P>, headers: Record<string, string>): Response {
  const signal = c.req.raw.signal;
  if (signal.aborted) channel.cancel();
  else signal.addEventListener("abort", () => channel.cancel(), { once: true });
  return c.newResponse(channel.body, 200, {
    ...headers,
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
}

/** The part of Node's `http.ServerResponse` a drop needs; @hono/node-server passes it as `c.env.outgoing`. */
interface Outgoing {
  destroy(): unknown;
}

/** How to close the client's connection at once, where the runtime gives access to it (Node). */
export function sseConnectionCloser(c: Context): (() => void) | undefined {
  const outgoing = (c.env as { outgoing?: Outgoing } | undefined)?.outgoing;
  return typeof outgoing?.destroy === "function" ? () => outgoing.destroy() : undefined;
}

/** The runtime's response to write SSE rounds to directly, where it gives access to it (Node: @hono/node-server's `c.env.outgoing`). */
export function sseOutgoing(c: Context): SseOutgoing | undefined {
  const outgoing = (c.env as { outgoing?: Partial<SseOutgoing> } | undefined)?.outgoing;
  return typeof outgoing?.write === "function" && typeof outgoing.destroy === "function" && typeof outgoing.writableLength === "number"
    ? (outgoing as SseOutgoing)
    : undefined;
}
