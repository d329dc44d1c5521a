import { LogStore } from "@minikafka/log-store";
import { afterEach, describe, expect, it } from "vitest";
import { createBrokerApp } from "../index.js";
import { tempDir } from "../../../../test-support/temp-dir.js";
import { until } from "../../test/helpers/wait.js";

const stores: LogStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/** A broker over a real store whose waits for data are counted (to see SSE connections release them). */
async function open() {
  const store = await LogStore.open({ dataDir: tempDir(), fsync: "never" });
  stores.push(store);
  let waiting = 0;
  const counted = Object.create(store) as LogStore;
  counted.waitForData = (...args: Parameters<LogStore["waitForData"]>) => {
    waiting++;
    return store.waitForData(...args).finally(() => waiting--);
  };
  const app = createBrokerApp({ store: counted, logger: { error() {} } });
  const produce = (values: string[]) =>
    app.request("/v1/topics/t/records", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ records: values.map((value) => ({ value, partition: 0 })) }),
    });
  await app.request("/v1/topics", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "t", partitions: 1 }),
  });
  return { app, produce, waiting: () => waiting };
}

/** Reads SSE events off a body until `n` complete events arrived. */
function eventReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    reader,
    async next(n: number): Promise<Array<{ event: string; data: string }>> {
      const out: Array<{ event: string; data: string }> = [];
      for (;;) {
        let i: number;
        while ((i = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const lines = block.split("\n");
          const event = lines
            .find((l) => l.startsWith("event:"))!
            .slice(6)
            .trim();
          const data = lines
            .filter((l) => l.startsWith("data:"))
            .map((l) => l.slice(5))
            .join("\n");
          out.push({ event, data });
          if (out.length === n) return out;
        }
        const { done, value } = await reader.read();
        if (done) return out;
        buffer += decoder.decode(value, { stream: true });
      }
    },
  };
}

describe("GET /v1/topics/:topic/partitions/:p/records?live=sse", () => {
  it("streams records from any offset with data + control events, then live appends", async () => {
    const { app, produce } = await open();
    await produce(["a", "b", "c"]);
    const res = await app.request("/v1/topics/t/partitions/0/records?offset=1&live=sse");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const events = eventReader(res.body!);
    const [data, control] = await events.next(2);
    expect(data!.event).toBe("data");
    expect(JSON.parse(data!.data).map((r: { offset: number; value: string }) => [r.offset, r.value])).toEqual([
      [1, "b"],
      [2, "c"],
    ]);
    expect(control!.event).toBe("control");
    expect(JSON.parse(control!.data)).toMatchObject({ streamNextOffset: "3", upToDate: true, streamCursor: expect.any(String) });
    await produce(["d"]);
    const [live, liveControl] = await events.next(2);
    expect(JSON.parse(live!.data).map((r: { offset: number; value: string }) => [r.offset, r.value])).toEqual([[3, "d"]]);
    expect(JSON.parse(liveControl!.data)).toMatchObject({ streamNextOffset: "4", upToDate: true });
    await events.reader.cancel();
  });

  it("releases its wait as soon as the client goes away", async () => {
    const { app, waiting } = await open();
    const res = await app.request("/v1/topics/t/partitions/0/records?offset=0&live=sse");
    const events = eventReader(res.body!);
    expect((await events.next(1))[0]!.event).toBe("control");
    await until(() => (waiting() === 1 ? true : undefined));
    await events.reader.cancel();
    await until(() => (waiting() === 0 ? true : undefined), 2_000);
    expect(waiting()).toBe(0);
  });

  it("answers errors before the stream starts: unknown topic 404, offset past the end 416, bad offset 400", async () => {
    const { app } = await open();
    expect((await app.request("/v1/topics/nope/partitions/0/records?offset=0&live=sse")).status).toBe(404);
    expect((await app.request("/v1/topics/t/partitions/0/records?offset=5&live=sse")).status).toBe(416);
    expect((await app.request("/v1/topics/t/partitions/0/records?offset=x&live=sse")).status).toBe(400);
    // Without live=sse the ordinary fetch answers.
    expect((await app.request("/v1/topics/t/partitions/0/records?offset=0")).status).toBe(200);
  });
});
