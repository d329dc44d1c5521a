// A minimal HTTP/1.1 keep-alive client for the poll + ack benchmarks: one socket, one request at a time,
// answers read by Content-Length (or chunked). It costs the load generator a few µs per request where
// Node's fetch (undici) costs ~0.4 ms, so a one-message-at-a-time loop measures the server, as the Redis
// side of the same bench does with its minimal RESP client.
import { connect, type Socket } from "node:net";

/** An answer: status and body text. */
export interface RawAnswer {
  status: number;
  body: string;
}

/** One keep-alive connection to `http://host:port`. */
export class HttpConnection {
  readonly #socket: Socket;
  readonly #host: string;
  #buffer: Buffer = Buffer.alloc(0);
  #waiting: { resolve(answer: RawAnswer): void; reject(error: Error): void } | undefined;

  private constructor(socket: Socket, host: string) {
    this.#socket = socket;
    this.#host = host;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
    const fail = (error: Error) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.reject(error);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed")));
  }

  /** Connects to the origin of `url`. */
  static open(url: string): Promise<HttpConnection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => resolve(new HttpConnection(socket, `${hostname}:${port}`)));
      socket.once("error", reject);
    });
  }

  /** Sends one request (a JSON body when `body` is given) and resolves with its answer. */
  request(method: string, path: string, body?: unknown): Promise<RawAnswer> {
    if (this.#waiting !== undefined) throw new Error("one request at a time");
    const payload = body === undefined ? "" : JSON.stringify(body);
    const head =
      `${method} ${path} HTTP/1.1\r\nhost: ${this.#host}\r\n` +
      (body === undefined ? "content-length: 0\r\n" : `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n`) +
      "\r\n";
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#socket.write(head + payload);
    });
  }

  /** Like {@link request}, but throws unless the status is 2xx, and parses the body. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.request(method, path, body);
    if (answer.status < 200 || answer.status > 299) throw new Error(`${method} ${path}: ${answer.status} ${answer.body}`);
    return (answer.body === "" ? undefined : JSON.parse(answer.body)) as T;
  }

  close(): void {
    this.#socket.destroy();
  }

  #parse(): void {
    const buf = this.#buffer;
    const end = buf.indexOf("\r\n\r\n");
    if (end < 0 || this.#waiting === undefined) return;
    const head = buf.toString("latin1", 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    let body: string;
    let rest: Buffer;
    if (length !== null) {
      const total = end + 4 + Number(length[1]);
      if (buf.length < total) return;
      body = buf.toString("utf8", end + 4, total);
      rest = buf.subarray(total);
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const parts: Buffer[] = [];
      let at = end + 4;
      for (;;) {
        const line = buf.indexOf("\r\n", at);
        if (line < 0) return;
        const size = parseInt(buf.toString("latin1", at, line), 16);
        if (buf.length < line + 2 + size + 2) return;
        if (size === 0) {
          at = line + 4;
          break;
        }
        parts.push(buf.subarray(line + 2, line + 2 + size));
        at = line + 2 + size + 2;
      }
      body = Buffer.concat(parts).toString("utf8");
      rest = buf.subarray(at);
    } else {
      body = "";
      rest = buf.subarray(end + 4);
    }
    this.#buffer = rest;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting.resolve({ status, body });
  }
}
