// Durable Streams SSE on a real broker (port 0) over real sockets, where each round is written straight to
// Node's response once the answer has started (not through a ReadableStream): a reader at the tail gets
// every append byte-exact and in order across that switch; a reader whose client stops reading is dropped
// once the kernel's buffers and the channel's backlog bound are full (its connection closed, its SSE slot
// freed), while the other reader goes on; the gauge comes back to 0.
import * as http from "node:http";
import { connect, type Socket } from "node:net";
import { afterEach, expect, it } from "vitest";
import { startBroker, type StartBrokerResult } from "../src/index.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { until } from "./helpers/wait.js";

let broker: StartBrokerResult | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

const sseOpen = async (b: StartBrokerResult) =>
  Number(/^minikafka_sse_streams_open (\d+)$/m.exec(await (await fetch(`${b.url}/metrics`)).text())?.[1]);

/** An SSE reader through node:http (which decodes the chunked body): the text so far and whether it ended. */
function reader(url: string): Promise<{ text(): string; ended(): boolean; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      expect(res.statusCode).toBe(200);
      let text = "";
      let ended = false;
      res.setEncoding("utf8").on("data", (d: string) => (text += d));
      res.on("close", () => (ended = true));
      resolve({ text: () => text, ended: () => ended, close: () => req.destroy() });
    });
    req.on("error", reject);
  });
}

/** The base64 data payloads of SSE text, decoded and joined. */
const dataOf = (text: string) =>
  Buffer.concat([...text.matchAll(/event: data\n((?:data:.*\n)+)\n/g)].map((m) => Buffer.from(m[1]!.replace(/^data:|\n/gm, ""), "base64")));

it("writes rounds straight to the response: byte-exact for a reader, a reader that stops reading dropped, the other unaffected", async () => {
  broker = await startBroker({ dataDir: tempDir(), port: 0, fsync: "never", logger: { error() {} }, shutdownTimeoutMs: 200 });
  const stream = `${broker.url}/v1/stream/fan`;
  expect((await fetch(stream, { method: "PUT", headers: { "content-type": "application/octet-stream" } })).status).toBe(201);
  const fast = await reader(`${stream}?offset=now&live=sse`);
  // The slow client: a raw socket that sends its request, then never reads (the kernel's buffers fill).
  const slow: Socket = await new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(broker!.url).port), "127.0.0.1", () => {
      socket.write("GET /v1/stream/fan?offset=now&live=sse HTTP/1.1\r\nHost: x\r\n\r\n");
      resolve(socket);
    });
    socket.once("error", reject);
  });
  let slowClosed = false;
  slow.on("close", () => (slowClosed = true)).on("error", () => {});
  slow.once("data", () => slow.pause()); // the head and the first round, then nothing more is read
  await until(async () => ((await sseOpen(broker!)) === 2 ? true : undefined));

  const appended: Buffer[] = [];
  const controls = () => fast.text().split("event: control").length - 1;
  // 64 KiB appends (about 87 KiB of base64 SSE each) until the slow reader is dropped: loopback buffers
  // take a few MiB, then the channel's 1 MiB bound; 400 appends (35 MiB of SSE) are far more than that.
  for (let i = 0; i < 400 && (await sseOpen(broker)) === 2; i++) {
    const chunk = Buffer.alloc(64 * 1024, i % 256);
    chunk.writeUInt32BE(i, 0);
    const before = controls();
    const res = await fetch(stream, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: chunk });
    expect(res.status).toBe(204);
    appended.push(chunk);
    await until(() => (controls() > before ? true : undefined));
  }
  expect(await sseOpen(broker)).toBe(1);
  // The slow reader's connection is closed by the broker (it sees a broken answer, not a clean end).
  slow.resume();
  await until(() => (slowClosed ? true : undefined));

  // The fast reader goes on, and has everything byte-exact, in order.
  const after = Buffer.from("after");
  await fetch(stream, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: after });
  appended.push(after);
  const all = Buffer.concat(appended);
  await until(() => (dataOf(fast.text()).length >= all.length ? true : undefined));
  expect(dataOf(fast.text()).equals(all)).toBe(true);
  expect(fast.ended()).toBe(false);
  fast.close();
  await until(async () => ((await sseOpen(broker!)) === 0 ? true : undefined));
}, 60_000);
