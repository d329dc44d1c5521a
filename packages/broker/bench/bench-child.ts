// Child processes of the broker benchmark, one role each, so that the load generators and the broker
// do not share an event loop:
//   serve-broker <dataDir>        a broker on a free port (fsync from BROKER_BENCH_FSYNC, default "always"); prints its URL
//   serve-trivial                 the yardstick: one trivial Hono route (GET/POST /ping) on a free port
//   consume <url> <topic> <n>     3 group members consuming <n> records in batches, committing each batch
//                                 in the background while fetching the next from their own position
//   poll-ack <url> <topic> <sec>  the seed consumer: poll, then ack each message, for <sec> seconds
import * as http from "node:http";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { startBroker } from "../src/index.js";

const [role, ...args] = process.argv.slice(2);

function listening(url: string): void {
  process.stdout.write(`listening ${url}\n`);
}

async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

if (role === "serve-broker") {
  const fsync = (process.env.BROKER_BENCH_FSYNC ?? "always") as "always" | "interval" | "never";
  const broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: args[0]!, fsync, handleSignals: true });
  listening(broker.url);
} else if (role === "serve-trivial") {
  const app = new Hono().get("/ping", (c) => c.text("ok")).post("/ping", (c) => c.json({ ok: true }));
  const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => listening(`http://127.0.0.1:${info.port}`));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
} else if (role === "consume") {
  const [url, topic, total] = [args[0]!, args[1]!, Number(args[2])];
  const group = `bench-${Date.now()}`;
  type Assignment = Array<{ topic: string; partitions: number[] }>;
  type Member = { memberId: string; memberEpoch: number; assignment: Assignment };
  const members: Member[] = [];
  for (let i = 0; i < 3; i++) members.push(await json<Member>(await post(`${url}/v1/groups/${group}/members`, { topics: [topic] })));
  // Converge: heartbeat until every member owns exactly one partition.
  for (let round = 0; round < 20 && !members.every((m) => m.assignment.flatMap((a) => a.partitions).length === 1); round++) {
    for (const m of members) {
      const r = await json<Member>(
        await post(`${url}/v1/groups/${group}/members/${m.memberId}/heartbeat`, { memberEpoch: m.memberEpoch, ownedPartitions: m.assignment }),
      );
      m.memberEpoch = r.memberEpoch;
      m.assignment = r.assignment;
    }
  }
  // The fetch loop uses node:http with keep-alive and counts records on the raw bytes: Node 20's fetch
  // (web streams) and decoding 800 KB bodies to strings cost more CPU per record than the broker spends.
  const agent = new http.Agent({ keepAlive: true });
  const get = (path: string) =>
    new Promise<Buffer>((resolve, reject) => {
      http
        .get(`${url}${path}`, { agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${res.statusCode}: ${Buffer.concat(chunks)}`)),
          );
        })
        .on("error", reject);
    });
  const RECORD = Buffer.from('{"topic":');
  let consumed = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    members.map(async (m) => {
      // Like a Kafka consumer: fetch from our own position, and commit each batch in the background
      // (one commit in flight at a time, so they land in order) instead of waiting for it.
      const [owned] = m.assignment.flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`));
      let position = 0;
      let commit: Promise<unknown> = Promise.resolve();
      for (;;) {
        const body = await get(`/v1/groups/${group}/members/${m.memberId}/records?maxRecords=5000&maxBytes=4194304&positions=${owned}:${position}`);
        // Count the records and parse only the last one. `{"topic":` cannot occur inside a value: quotes
        // there are escaped.
        let count = 0;
        for (let i = body.indexOf(RECORD); i >= 0; i = body.indexOf(RECORD, i + RECORD.length)) count++;
        if (count === 0) break;
        consumed += count;
        const last = JSON.parse(body.subarray(body.lastIndexOf(RECORD), body.length - 2).toString()) as {
          topic: string;
          partition: number;
          offset: number;
        };
        position = last.offset + 1;
        const offsets = [{ topic: last.topic, partition: last.partition, offset: position }];
        await commit;
        commit = post(`${url}/v1/groups/${group}/offsets`, { memberId: m.memberId, memberEpoch: m.memberEpoch, offsets }).then(json);
      }
      await commit;
    }),
  );
  agent.destroy();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  process.stdout.write(`${JSON.stringify({ consumed, seconds, expected: total, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
} else if (role === "poll-ack") {
  const [url, topic, seconds] = [args[0]!, args[1]!, Number(args[2])];
  const q = (p: Record<string, string>) => new URLSearchParams(p).toString();
  await json(await fetch(`${url}/topics/${topic}/groups/pollack/subscribe?${q({ consumer_id: "c1" })}`, { method: "POST" }));
  let messages = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    const polled = await fetch(`${url}/topics/${topic}/messages?${q({ consumer_id: "c1", group_id: "pollack" })}`);
    const msgs = await json<Array<{ message_offset: number; partition_id: number }>>(polled);
    if (msgs.length === 0) break;
    for (const msg of msgs) {
      const ack = `${url}/topics/${topic}/messages/${msg.message_offset}/ack?${q({ consumer_id: "c1", partition_id: String(msg.partition_id) })}`;
      await json(await fetch(ack, { method: "POST" }));
      messages++;
    }
  }
  process.stdout.write(`${JSON.stringify({ messages, seconds: (performance.now() - started) / 1000 })}\n`);
} else {
  throw new Error(`unknown role ${role}`);
}
