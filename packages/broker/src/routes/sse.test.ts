import { describe, expect, it } from "vitest";
import { SseChannel, type SseOutgoing, type SseSocket } from "./sse.js";

/** Node's response as a channel sees it once the head is sent: what is written to it and to its socket. */
function outgoing(chunked: boolean, socketBacklog = 0) {
  const socketWrites: Uint8Array[] = [];
  const responseWrites: Uint8Array[] = [];
  const socket: SseSocket = {
    writableLength: socketBacklog,
    destroyed: false,
    write(chunk) {
      socketWrites.push(chunk);
      return true;
    },
  };
  let destroyed = 0;
  const res: SseOutgoing = {
    headersSent: true,
    writableLength: 0,
    destroyed: false,
    writableEnded: false,
    chunkedEncoding: chunked,
    socket,
    write(chunk) {
      responseWrites.push(chunk);
      return true;
    },
    destroy() {
      destroyed++;
    },
  };
  return { res, socketWrites, responseWrites, destroyed: () => destroyed };
}

const channel = (res: SseOutgoing, onDestroy?: () => void) =>
  new SseChannel(
    {},
    { maxBacklogBytes: 1024 * 1024, maxDurationMs: 60_000, onClose() {}, outgoing: res, destroyConnection: onDestroy ?? (() => res.destroy()) },
  );

describe("SseChannel", () => {
  it("writes each round to the socket as one HTTP chunk, the same frame for every reader of the round", () => {
    const a = outgoing(true);
    const b = outgoing(true);
    const [ca, cb] = [channel(a.res), channel(b.res)];
    const round = new TextEncoder().encode("event: data\ndata:x\n\n".repeat(100));
    expect(ca.send(round)).toBe(true);
    expect(cb.send(round)).toBe(true);
    expect(a.responseWrites).toEqual([]);
    expect(a.socketWrites[0]).toBe(b.socketWrites[0]); // one frame per round, shared
    const frame = Buffer.from(a.socketWrites[0]!);
    const head = `${round.length.toString(16)}\r\n`;
    expect(frame.subarray(0, head.length).toString()).toBe(head);
    expect(frame.subarray(head.length, head.length + round.length).equals(round)).toBe(true);
    expect(frame.subarray(head.length + round.length).toString()).toBe("\r\n");
    // An empty round writes nothing: an empty chunk would end the answer.
    expect(ca.send(new Uint8Array(0))).toBe(true);
    expect(a.socketWrites).toHaveLength(1);
    ca.end();
    cb.end();
  });

  it("writes plain bytes through the response when it is not chunked", () => {
    const a = outgoing(false);
    const c = channel(a.res);
    const round = new TextEncoder().encode("event: control\ndata:{}\n\n");
    c.send(round);
    expect([a.socketWrites.length, a.responseWrites]).toEqual([0, [round]]);
    c.end();
  });

  it("counts what the socket has not taken as the reader's backlog, and drops the reader past the bound", () => {
    const a = outgoing(true, 1024 * 1024 - 100);
    let destroyed = 0;
    const c = channel(a.res, () => destroyed++);
    expect(c.backlog).toBe(0); // not direct before its first round
    expect(c.send(new Uint8Array(50).fill(1))).toBe(true);
    expect(c.backlog).toBe(1024 * 1024 - 100);
    expect(c.send(new Uint8Array(200).fill(1))).toBe(false);
    expect([c.ended, destroyed, a.socketWrites.length]).toEqual([true, 1, 1]);
  });
});
