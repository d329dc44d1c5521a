// Child processes of the broker benchmark, one role each, so that the load generators and the broker
// do not share an event loop:
//   serve-broker <dataDir>        a broker on a free port (fsync from BROKER_BENCH_FSYNC, default "always"; auth and ACLs
//                                 with BROKER_BENCH_AUTH=1; without the Node lane and produce merging with
//                                 BROKER_BENCH_BASELINE=1); prints its URL, then how long startBroker() took
//   serve-trivial                 the yardstick: one trivial Hono route (GET/POST /ping) on a free port
//   consume <url> <topic> <n>     3 group members consuming <n> records in batches, committing each batch
//                                 in the background while fetching the next from their own position
//   poll-ack <url> <topic> <sec>  the seed consumer: poll, then ack each message, for <sec> seconds
//   serve-ds-reference <dataDir>  the Durable Streams reference server (@durable-streams/server) with its
//                                 file-backed store in <dataDir>, on a free port; prints its URL
//   fill-stream <dataDir> <path> <n> <bytes>
//                                 appends <n> messages of <bytes> bytes to Durable Stream <path> (created as
//                                 application/octet-stream) of a broker data directory through StreamService
//                                 itself (no HTTP, fsync "never", flushed at close): a fast fill for read benches
//   sse-readers <url> <n> <expected> <from> <sec>
//                                 <n> SSE readers of one stream (text/plain messages "<seq>,<sent ms>,…;") until
//                                 each has <expected> messages, at most <sec> seconds; prints the messages each
//                                 received (each once, one order), the latency percentiles of seqs ≥ <from>
//                                 and failed connections, and when each message first and last reached one of them
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import * as http from "node:http";
import { Session } from "node:inspector";
import * as net from "node:net";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { LogStore } from "@minikafka/log-store";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { StreamService, startBroker, type AclEntry, type AuthOptions } from "../src/index.js";

const [role, ...args] = process.argv.slice(2);

function listening(url: string): void {
  process.stdout.write(`listening ${url}\n`);
}

async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * With BROKER_BENCH_AUTH=1: auth (principal "bench", token "bench-token", among 20 principals) and 60 ACL
 * entries, the bench's topics allowed by prefix among literal and prefixed entries for other names.
 */
function benchAuth(): { auth?: AuthOptions; acls?: AclEntry[] } {
  if (process.env.BROKER_BENCH_AUTH !== "1") return {};
  const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");
  const names = ["bench", ...Array.from({ length: 19 }, (_, i) => `user-${i}`)];
  const acls: AclEntry[] = names.flatMap((principal, i): AclEntry[] => [
    {
      principal,
      resource: "topic",
      name: `team-${i}.`,
      pattern: "prefixed",
      operations: ["read", "write"],
      permission: "allow",
    },
    { principal, resource: "topic", name: `team-${i}.secret`, operations: ["all"], permission: "deny" },
    {
      principal,
      resource: "group",
      name: `team-${i}-`,
      pattern: "prefixed",
      operations: ["read"],
      permission: "allow",
    },
  ]);
  acls.push({ principal: "bench", resource: "topic", name: "bench", pattern: "prefixed", operations: ["all"], permission: "allow" });
  return { auth: { principals: names.map((name) => ({ name, tokenSha256: sha256(`${name}-token`) })) }, acls };
}

/** With BROKER_BENCH_CPU_PROFILE=<file>: a CPU profile of this process until it exits, written to <file> (.cpuprofile). */
function profileUntilExit(file: string): void {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.start");
  // The in-thread session answers synchronously, so the profile is written even from the exit event.
  process.on("exit", () =>
    session.post("Profiler.stop", (error, result) => {
      if (error === null) writeFileSync(file, JSON.stringify(result.profile));
    }),
  );
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/**
 * With BROKER_BENCH_LOOP_DELAY=1: the event loop's delay, printed every second to stdout as
 * `loop-delay {"p50":…,"p99":…,"max":…}` (ms, over that second; perf_hooks' histogram at 1 ms resolution).
 */
function reportLoopDelay(): void {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  setInterval(() => {
    const line = { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) };
    histogram.reset();
    process.stdout.write(`loop-delay ${JSON.stringify(line)}\n`);
  }, 1000).unref();
}

if (role === "serve-broker") {
  if (process.env.BROKER_BENCH_CPU_PROFILE) profileUntilExit(process.env.BROKER_BENCH_CPU_PROFILE);
  if (process.env.BROKER_BENCH_LOOP_DELAY === "1") reportLoopDelay();
  const fsync = (process.env.BROKER_BENCH_FSYNC ?? "always") as "always" | "interval" | "never";
  const opening = performance.now();
  // BROKER_BENCH_BASELINE=1: every request through the Hono app and one batch per call, as before the
  // per-request work (issue 17): the same code otherwise, for side-by-side figures.
  const baseline = process.env.BROKER_BENCH_BASELINE === "1" ? { nodeLane: false, coalesceProduce: false } : {};
  const broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir: args[0]!, fsync, handleSignals: true, ...baseline, ...benchAuth() });
  listening(broker.url);
  process.stdout.write(`opened in ${(performance.now() - opening).toFixed(1)} ms\n`);
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
  // The fetch loop uses node:http with keep-alive and counts records on the raw bytes as they arrive: Node
  // 20's fetch (web streams), joining ~800 KB bodies and decoding them to strings cost more CPU per record
  // than the broker spends, and this process must not be the bottleneck. `{"topic":` starts every record
  // and cannot occur inside a value (quotes there are escaped).
  const RECORD = Buffer.from('{"topic":');
  const agent = new http.Agent({ keepAlive: true });
  /** Fetches `path`; resolves with the number of records and the body's last two chunks (for the last record). */
  const fetchRecords = (path: string) =>
    new Promise<{ count: number; end: Buffer }>((resolve, reject) => {
      http
        .get(`${url}${path}`, { agent }, (res) => {
          let count = 0;
          let previous: Buffer = Buffer.alloc(0);
          let last: Buffer = Buffer.alloc(0);
          res.on("data", (chunk: Buffer) => {
            for (let i = chunk.indexOf(RECORD); i >= 0; i = chunk.indexOf(RECORD, i + RECORD.length)) count++;
            // A record start split between two chunks: the joint holds the last 8 bytes of one and the first 8 of the next.
            if (last.length > 0 && Buffer.concat([last.subarray(-(RECORD.length - 1)), chunk.subarray(0, RECORD.length - 1)]).includes(RECORD))
              count++;
            previous = last;
            last = chunk;
          });
          res.on("end", () => {
            const end = Buffer.concat([previous, last]);
            if (res.statusCode === 200) resolve({ count, end });
            else reject(new Error(`${res.statusCode}: ${end}`));
          });
        })
        .on("error", reject);
    });
  let consumed = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    members.map(async (m) => {
      // Like a Kafka consumer: fetch from our own position, and commit each batch in the background
      // (one commit in flight at a time, so they land in order) instead of waiting for it.
      const [owned] = m.assignment.flatMap((a) => a.partitions.map((p) => ({ topic: a.topic, partition: p })));
      let position = 0;
      let commit: Promise<unknown> = Promise.resolve();
      for (;;) {
        const { count, end } = await fetchRecords(
          `/v1/groups/${group}/members/${m.memberId}/records?maxRecords=5000&maxBytes=4194304&positions=${owned!.topic}:${owned!.partition}:${position}`,
        );
        if (count === 0) break;
        consumed += count;
        // Offsets are dense: the batch ends at position + count - 1. Check it against the last record.
        const at = end.lastIndexOf(RECORD);
        if (at >= 0) {
          const lastOffset = (JSON.parse(end.subarray(at, end.length - 2).toString()) as { offset: number }).offset;
          if (lastOffset !== position + count - 1) throw new Error(`counted ${count} records from ${position}, but the last is ${lastOffset}`);
        }
        position += count;
        const offsets = [{ ...owned!, offset: position }];
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
} else if (role === "serve-ds-reference") {
  const { DurableStreamTestServer } = await import("@durable-streams/server");
  const server = new DurableStreamTestServer({ dataDir: args[0]!, port: 0, host: "127.0.0.1", longPollTimeout: 30_000 });
  listening(await server.start());
  process.on("SIGTERM", () => void server.stop().then(() => process.exit(0)));
} else if (role === "fill-stream") {
  const [dataDir, path, n, size] = [args[0]!, args[1]!, Number(args[2]), Number(args[3])];
  const store = await LogStore.open({ dataDir: join(dataDir, "__streams"), fsync: "never" });
  const streams = await StreamService.open({ store });
  await streams.create(path, { contentType: "application/octet-stream", closed: false, body: new Uint8Array(0) });
  const message = Buffer.alloc(size, 0x6d);
  // Many appends in flight: each is one batch of one record, as over HTTP.
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    const p = streams.append(path, { contentType: "application/octet-stream", body: message, close: false }).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 2000) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await streams.close();
  await store.close();
  process.stdout.write(`${JSON.stringify({ appended: n })}\n`);
} else if (role === "sse-readers") {
  // <n> readers of <url> until each has received <expected> messages (or <seconds> have passed): every
  // message "<seq>,<sent ms>,<padding>;" checked (each seq once per reader, every reader in the same
  // order, compared by a hash of the order), from seq <from> on its latency (arrival of its chunk minus
  // its sent time) in a histogram of 0.1 ms buckets. Each reader is a raw TCP connection with its own HTTP/1.1 response and
  // chunked-encoding decoder, and the events are parsed as bytes: the readers share the machine's CPU with
  // the broker, so they take as little of it as they can (node:http's client costs several times more).
  const [url, n, expected, measuredFrom, seconds] = [args[0]!, Number(args[1]), Number(args[2]), Number(args[3]), Number(args[4])];
  const target = new URL(url);
  const BUCKETS = 600_000; // 0.1 ms each: up to 60 s
  const histogram = new Uint32Array(BUCKETS + 1);
  const received: number[] = Array(n).fill(0);
  let connected = 0;
  let failed = 0;
  let doubled = 0;
  let events = 0;
  const seen = new Uint8Array(n * expected);
  // When each message first and last reached one of this process's readers (ms since the epoch; 0: never).
  const firstArrival = new Float64Array(expected);
  const lastArrival = new Float64Array(expected);
  const order = new Int32Array(n); // a hash of the order each reader received the messages in
  let complete = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const sockets: net.Socket[] = [];
  const DATA = Buffer.from("event: data\ndata:");
  const EVENT_END = Buffer.from("\n\n");
  const HEAD_END = Buffer.from("\r\n\r\n");
  const CRLF = Buffer.from("\r\n");
  const [COMMA, DOT, SEMICOLON, ZERO] = [0x2c, 0x2e, 0x3b, 0x30];
  const request = `GET ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\naccept: text/event-stream\r\n\r\n`;

  /** Parses the complete SSE events of `buf` for reader `i`; returns where the unparsed rest starts. */
  const parseEvents = (i: number, buf: Buffer, now: number): number => {
    let from = 0;
    for (let at = buf.indexOf(EVENT_END, from); at >= 0; at = buf.indexOf(EVENT_END, from)) {
      if (buf.compare(DATA, 0, DATA.length, from, from + DATA.length) === 0) {
        // The payload: messages "<seq>,<sent ms with 3 decimals>,…;" back to back.
        events++;
        let m = from + DATA.length;
        while (m < at) {
          let p = m;
          let seq = 0;
          for (let c = buf[p]!; c !== COMMA; c = buf[++p]!) seq = seq * 10 + c - ZERO;
          let sent = 0;
          for (let c = buf[++p]!; c !== DOT; c = buf[++p]!) sent = sent * 10 + c - ZERO;
          sent += ((buf[p + 1]! - ZERO) * 100 + (buf[p + 2]! - ZERO) * 10 + (buf[p + 3]! - ZERO)) / 1000;
          const end = buf.indexOf(SEMICOLON, p);
          if (end < 0 || end > at) throw new Error(`a torn message in an SSE data event: ${buf.subarray(m, at).toString()}`);
          // Concurrent appends land in any order, but once each, and in the same order for every reader.
          if (!(seq >= 0 && seq < expected) || seen[i * expected + seq] === 1) doubled++;
          else {
            seen[i * expected + seq] = 1;
            if (firstArrival[seq] === 0) firstArrival[seq] = now;
            lastArrival[seq] = now;
            received[i]!++;
            order[i] = (Math.imul(order[i]!, 31) + seq) | 0;
          }
          if (seq >= measuredFrom) histogram[Math.min(BUCKETS, Math.max(0, Math.round((now - sent) * 10)))]!++;
          m = end + 1;
        }
      }
      from = at + 2;
    }
    return from;
  };

  await new Promise<void>((resolve) => {
    const connectedOne = (ok: boolean) => {
      if (!ok) failed++;
      if (++connected === n) resolve();
    };
    for (let i = 0; i < n; i++) {
      const socket = net.connect({ host: target.hostname, port: Number(target.port) }, () => socket.write(request));
      socket.setNoDelay(true);
      sockets.push(socket);
      let head = true;
      let raw: Buffer | undefined; // received, not yet decoded (a torn head or chunk header)
      let events_: Buffer | undefined; // decoded body bytes, not yet parsed (a torn event)
      let chunkLeft = 0; // body bytes left in the current chunk (then its CRLF)
      let skipCrlf = false;
      socket.on("data", (chunk: Buffer) => {
        const now = performance.timeOrigin + performance.now();
        let buf = raw === undefined ? chunk : Buffer.concat([raw, chunk]);
        raw = undefined;
        if (head) {
          const end = buf.indexOf(HEAD_END);
          if (end < 0) return void (raw = buf);
          head = false;
          const status = buf.subarray(0, buf.indexOf(CRLF)).toString();
          const chunked = /\r\ntransfer-encoding: *chunked\r\n/i.test(buf.subarray(0, end + 2).toString());
          connectedOne(/^HTTP\/1\.1 200 /.test(status) && chunked);
          buf = buf.subarray(end + 4);
        }
        // Chunked transfer coding: "<hex size>\r\n<bytes>\r\n"; the body bytes go to the SSE parser.
        const body: Buffer[] = events_ === undefined ? [] : [events_];
        let p = 0;
        while (p < buf.length) {
          if (skipCrlf) {
            if (buf.length - p < 2) break;
            p += 2;
            skipCrlf = false;
          }
          if (chunkLeft > 0) {
            const take = Math.min(chunkLeft, buf.length - p);
            body.push(buf.subarray(p, p + take));
            p += take;
            chunkLeft -= take;
            if (chunkLeft === 0) skipCrlf = true;
            continue;
          }
          const eol = buf.indexOf(CRLF, p);
          if (eol < 0) break;
          const size = parseInt(buf.subarray(p, eol).toString("latin1"), 16);
          p = eol + 2;
          if (size === 0) {
            socket.destroy(); // the answer ended
            break;
          }
          chunkLeft = size;
        }
        if (p < buf.length) raw = buf.subarray(p);
        const joined = body.length === 1 ? body[0]! : Buffer.concat(body);
        const rest = parseEvents(i, joined, now);
        events_ = rest === joined.length ? undefined : joined.subarray(rest);
        if (received[i] === expected && ++complete === n) finish();
      });
      socket.on("error", () => {
        if (head) connectedOne(false);
        else failed++;
      });
    }
  });
  process.stdout.write("connected\n");
  const cpu = process.cpuUsage();
  // This process's own event-loop delay: a reader stamps a message's arrival when its loop gets to it.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const deadline = setTimeout(finish, seconds * 1000);
  await finished;
  clearTimeout(deadline);
  for (const socket of sockets) socket.destroy();
  let count = 0;
  for (const c of histogram) count += c;
  const q = (p: number) => {
    const rank = Math.ceil(p * count);
    let seen = 0;
    for (let b = 0; b <= BUCKETS; b++) if ((seen += histogram[b]!) >= rank) return b / 10;
    return NaN;
  };
  const used = process.cpuUsage(cpu);
  process.stdout.write(
    `${JSON.stringify({ readers: n, failed, doubled, events, cpuSeconds: (used.user + used.system) / 1e6, orders: [...new Set(order)], received: received.reduce((a, b) => a + b, 0), minPerReader: Math.min(...received), p50: q(0.5), p99: q(0.99), max: q(1), loopP99: loop.percentile(99) / 1e6, firstArrival: [...firstArrival].map((t) => Math.round(t * 10) / 10), lastArrival: [...lastArrival].map((t) => Math.round(t * 10) / 10) })}\n`,
  );
} else {
  throw new Error(`unknown role ${role}`);
}
