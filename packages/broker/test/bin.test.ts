// The `minikafka-broker` executable as a real process: flags, help, friendly start errors, graceful stop,
// and the structured log of every event it reports.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../../../test-support/free-port.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { startBroker } from "../src/index.js";
import { until } from "./helpers/wait.js";
import { binTarget, spawnBroker, startBrokerProcess, type BrokerProcess } from "./helpers/broker-bin.js";
import { httpsCall, httpsOpen, selfSigned } from "./helpers/tls.js";

const json = (url: string, method: string, body?: unknown) =>
  fetch(url, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

async function stop(broker: BrokerProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  broker.child.kill(signal);
  return broker.exited;
}

const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

describe("minikafka-broker", () => {
  it("--help lists every flag and exits 0; --version prints the package version", async () => {
    const help = await spawnBroker(["--help"]);
    expect(await help.exited).toBe(0);
    const text = help.stdout.join("\n");
    expect(help.stdout[0]).toBe("usage: minikafka-broker [options]");
    for (const flag of [
      "--port",
      "--host",
      "--data-dir",
      "--fsync",
      "--fsync-interval-ms",
      "--session-timeout-ms",
      "--heartbeat-interval-ms",
      "--log-format",
      "--log-level",
      "--slow-request-ms",
      "--cors-origins",
      "--tls-cert-file",
      "--tls-key-file",
      "--config",
      "--min-session-timeout-ms",
      "--max-session-timeout-ms",
      "--segment-bytes",
      "--retention-ms",
      "--max-body-bytes",
      "--help",
      "--version",
    ]) {
      expect(text).toMatch(new RegExp(`^  (-., )?${flag} `, "m"));
    }
    const v = await spawnBroker(["--version"]);
    expect([await v.exited, v.stdout]).toEqual([0, [version]]);
  });

  it("a bad flag: one line on stderr and exit 2", async () => {
    const run = await spawnBroker(["--port", "eighty"]);
    expect(await run.exited).toBe(2);
    expect(run.stderr).toEqual(['minikafka-broker: --port must be an integer from 0 to 65535, got "eighty" (see minikafka-broker --help)']);
    expect(run.stdout).toEqual([]);
  });

  it("serves with the flags and environment given, logs start and stop, and exits 0 on SIGTERM", async () => {
    const cwd = tempDir();
    // DATA_DIR from the environment, relative to the working directory; --fsync (a flag) wins over MINIKAFKA_FSYNC.
    const broker = await startBrokerProcess([], {
      cwd,
      env: { DATA_DIR: "rel", MINIKAFKA_FSYNC: "interval", MINIKAFKA_CORS_ORIGINS: "https://app.example" },
    });
    const started = broker.events()[0]!;
    expect(started).toMatchObject({ level: "info", event: "broker.started", dataDir: join(cwd, "rel"), fsync: "never" });
    expect(started.address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(started.msg).toBe(`minikafka broker listening on ${String(started.address)}`);
    expect(typeof started.time).toBe("string");
    const health = await fetch(`${broker.url}/healthz`);
    expect(health.status).toBe(200);
    expect(existsSync(join(cwd, "rel"))).toBe(true);
    // cors.origins from the environment reached the app: the listed origin's preflight is answered, another refused.
    const preflight = (origin: string) =>
      fetch(`${broker.url}/v1/topics`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
    const listed = await preflight("https://app.example");
    expect([listed.status, listed.headers.get("access-control-allow-origin")]).toEqual([204, "https://app.example"]);
    expect((await preflight("https://evil.example")).status).toBe(403);
    expect(await stop(broker)).toBe(0);
    expect(broker.events().map((e) => e.event)).toEqual(["broker.started", "broker.stopping", "broker.stopped"]);
    expect(broker.events()[1]).toMatchObject({ reason: "SIGTERM" });
    expect(broker.stderr).toEqual([]);
  });

  it("--config FILE / MINIKAFKA_CONFIG: settings from JSON under flags and environment; a bad key stops it in one line", async () => {
    const dir = tempDir();
    const config = join(dir, "minikafka.json");
    writeFileSync(
      config,
      JSON.stringify({
        port: 0,
        dataDir: "state",
        fsync: "never",
        logging: { format: "json" },
        group: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 },
      }),
    );
    // MINIKAFKA_CONFIG names the file; the environment (MINIKAFKA_FSYNC) wins over it.
    const broker = await spawnBroker(["--log-level", "info"], { env: { MINIKAFKA_CONFIG: config, MINIKAFKA_FSYNC: "interval" } });
    const started = await broker.nextEvent((e) => e.event === "broker.started");
    expect(started).toMatchObject({ dataDir: join(dir, "state"), fsync: "interval" });
    const url = String(started.address);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await json(`${url}/v1/topics`, "POST", { name: "t", partitions: 1 })).status).toBe(201);
    // The group settings reached the coordinator: its heartbeat interval, and the session-timeout bounds (6 s is the minimum).
    const joined = await json(`${url}/v1/groups/g/members`, "POST", { topics: ["t"] });
    expect(((await joined.json()) as { heartbeatIntervalMs: number }).heartbeatIntervalMs).toBe(500);
    expect((await json(`${url}/v1/groups/g/members`, "POST", { topics: ["t"], sessionTimeoutMs: 5999 })).status).toBe(400);
    expect(await stop(broker)).toBe(0);

    writeFileSync(config, JSON.stringify({ port: 0, group: { sessionTimeout: 6000 } }));
    const bad = await spawnBroker(["--config", config]);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr).toEqual([`minikafka-broker: config file ${config}: unknown key group.sessionTimeout (see minikafka-broker --help)`]);
    writeFileSync(config, JSON.stringify({ port: "8000" }));
    const wrong = await spawnBroker([], { env: { MINIKAFKA_CONFIG: config } });
    expect(await wrong.exited).toBe(2);
    expect(wrong.stderr).toEqual([
      `minikafka-broker: config file ${config}: port must be an integer from 0 to 65535, got "8000" (see minikafka-broker --help)`,
    ]);
  });

  it("--config with auth, acls, tls, cors and quotas: 401/403/200 over HTTPS only, preflights, SSE streams bounded per principal", async () => {
    const dir = tempDir();
    selfSigned(dir);
    const ca = readFileSync(join(dir, "cert.pem"));
    const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");
    const config = join(dir, "minikafka.json");
    writeFileSync(
      config,
      JSON.stringify({
        port: 0,
        dataDir: "data",
        fsync: "never",
        logging: { format: "json" },
        // Relative to the file.
        tls: { certFile: "cert.pem", keyFile: "key.pem" },
        auth: {
          principals: [
            { name: "admin", tokenSha256: sha256("admin-token") },
            { name: "alice", tokenSha256: sha256("alice-token").toUpperCase() },
          ],
          superUsers: ["admin"],
        },
        acls: [
          { principal: "alice", resource: "topic", name: "orders.", pattern: "prefixed", operations: ["write", "read"], permission: "allow" },
          { principal: "alice", resource: "topic", name: "orders.secret", operations: ["all"], permission: "deny" },
          { principal: "alice", resource: "stream", name: "feeds/", pattern: "prefixed", operations: ["read"], permission: "allow" },
        ],
        cors: { origins: ["https://app.example"] },
        quotas: { maxSseStreams: 1, principals: { admin: { maxSseStreams: 5 } } },
      }),
    );
    const broker = await spawnBroker(["--config", config]);
    try {
      const started = await broker.nextEvent((e) => e.event === "broker.started");
      const url = String(started.address);
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const port = new URL(url).port;
      const call = (who: string | undefined, method: string, path: string, body?: unknown) =>
        httpsCall(`${url}${path}`, {
          ca,
          method,
          headers: { "content-type": "application/json", ...(who === undefined ? {} : { authorization: `Bearer ${who}-token` }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      const code = (answer: { body: string }) => (JSON.parse(answer.body) as { error: { code: string } }).error.code;
      // Plain HTTP on the port gets no answer.
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
      expect((await call(undefined, "GET", "/healthz")).status).toBe(200);
      // auth: no token or an unknown one → 401 with WWW-Authenticate; acls: 403; allowed: 2xx.
      const anonymous = await call(undefined, "GET", "/v1/topics");
      expect([anonymous.status, code(anonymous), anonymous.headers["www-authenticate"]]).toEqual([
        401,
        "AUTHENTICATION_FAILED",
        'Bearer realm="minikafka"',
      ]);
      expect((await call("mallory", "GET", "/v1/topics")).status).toBe(401);
      expect((await call("admin", "POST", "/v1/topics", { name: "orders.eu", partitions: 1 })).status).toBe(201);
      expect((await call("admin", "POST", "/v1/topics", { name: "orders.secret", partitions: 1 })).status).toBe(201);
      const create = await call("alice", "POST", "/v1/topics", { name: "orders.us", partitions: 1 });
      expect([create.status, code(create)]).toEqual([403, "TOPIC_AUTHORIZATION_FAILED"]);
      expect((await call("alice", "POST", "/v1/topics/orders.secret/records", { records: [{ value: "no" }] })).status).toBe(403);
      const produced = await call("alice", "POST", "/v1/topics/orders.eu/records", { records: [{ value: "yes" }] });
      expect([produced.status, JSON.parse(produced.body)]).toEqual([200, { offsets: [{ partition: 0, offset: 0 }] }]);
      expect(JSON.parse((await call("alice", "GET", "/v1/topics")).body).topics.map((t: { name: string }) => t.name)).toEqual(["orders.eu"]);
      // cors: the listed origin's preflight is answered, another is refused.
      const preflight = (origin: string) =>
        httpsCall(`${url}/v1/topics`, { ca, method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
      const listed = await preflight("https://app.example");
      expect([listed.status, listed.headers["access-control-allow-origin"]]).toEqual([204, "https://app.example"]);
      expect((await preflight("https://evil.example")).status).toBe(403);

      // quotas.maxSseStreams: alice may hold one SSE stream (topic or Durable Stream) at once; admin five.
      const streamCreated = await httpsCall(`${url}/v1/stream/feeds/a`, {
        ca,
        method: "PUT",
        headers: { "content-type": "text/plain", authorization: "Bearer admin-token" },
      });
      expect(streamCreated.status).toBe(201);
      const sse = (who: string, path: string) => httpsOpen(`${url}${path}`, { ca, headers: { authorization: `Bearer ${who}-token` } });
      const topicSse = "/v1/topics/orders.eu/partitions/0/records?offset=0&live=sse";
      const streamSse = "/v1/stream/feeds/a?offset=-1&live=sse";
      const first = await sse("alice", topicSse);
      expect(first.status).toBe(200);
      await until(() => (first.received().includes('"yes"') ? true : undefined));
      const second = await sse("alice", streamSse);
      expect(second.status).toBe(429);
      second.close();
      const third = await sse("alice", topicSse);
      expect(third.status).toBe(429);
      third.close();
      const admins = await Promise.all([sse("admin", topicSse), sse("admin", streamSse)]);
      expect(admins.map((a) => a.status)).toEqual([200, 200]);
      // Hanging up frees the slot: the next stream is served once the broker has seen the close.
      first.close();
      const again = await until(async () => {
        const s = await sse("alice", streamSse);
        if (s.status === 200) return s;
        s.close();
        return undefined;
      });
      again.close();
      for (const a of admins) a.close();
    } finally {
      expect(await stop(broker)).toBe(0);
    }
  });

  it("SIGINT: an in-flight long poll is answered, the store is closed, one stopped line, exit 0", async () => {
    const dataDir = tempDir();
    const broker = await startBrokerProcess(["--data-dir", dataDir]);
    expect((await json(`${broker.url}/v1/topics`, "POST", { name: "t", partitions: 1 })).status).toBe(201);
    const poll = fetch(`${broker.url}/v1/topics/t/partitions/0/records?offset=0&waitMs=20000`);
    // The long poll is in flight once the broker counts it.
    for (;;) {
      const metrics = await (await fetch(`${broker.url}/metrics`)).text();
      if (/^minikafka_http_requests_in_flight 2$/m.test(metrics)) break;
    }
    broker.child.kill("SIGINT");
    const answer = await poll;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ records: [], nextOffset: 0 });
    expect(await broker.exited).toBe(0);
    expect(broker.events().filter((e) => e.event === "broker.stopped")).toHaveLength(1);
    // The lock is gone: another broker opens the directory at once.
    const again = await startBroker({ dataDir, port: 0 });
    await again.close();
  });

  it("a second signal right after the first (a wrapper's copy) does not cut the graceful stop short", async () => {
    const broker = await startBrokerProcess(["--data-dir", tempDir()]);
    broker.child.kill("SIGINT");
    broker.child.kill("SIGINT");
    broker.child.kill("SIGTERM");
    expect(await broker.exited).toBe(0);
    expect(broker.events().map((e) => e.event)).toEqual(["broker.started", "broker.stopping", "broker.stopped"]);
  });

  it("a busy port: one line naming it on stderr, no stack, exit 1, data directory left unlocked", async () => {
    const other = await startBroker({ dataDir: tempDir(), port: 0 });
    try {
      const dataDir = tempDir();
      const run = await spawnBroker(["--port", String(other.port), "--data-dir", dataDir]);
      expect(await run.exited).toBe(1);
      expect(run.stderr).toEqual([
        `minikafka-broker: cannot listen on 127.0.0.1:${other.port}: the port is already in use (another broker running? choose one with --port)`,
      ]);
      expect(run.stdout).toEqual([]);
      await (await startBroker({ dataDir, port: 0 })).close();
    } finally {
      await other.close();
    }
  });

  it("a locked data directory: one line naming it on stderr, no stack, exit 1", async () => {
    const dataDir = tempDir();
    const owner = await startBroker({ dataDir, port: 0 });
    try {
      const run = await spawnBroker(["--port", "0", "--data-dir", dataDir]);
      expect(await run.exited).toBe(1);
      expect(run.stderr).toHaveLength(1);
      expect(run.stderr[0]).toMatch(
        new RegExp(
          `^minikafka-broker: data directory \\S*${dataDir.split("/").at(-1)!} is locked by running process ${process.pid} .*\\(DATA_DIR_LOCKED\\)$`,
        ),
      );
      expect(run.stdout).toEqual([]);
    } finally {
      await owner.close();
    }
  });

  it.runIf(existsSync(binTarget()))("the built bin (package.json's bin target) runs as well", async () => {
    expect(readFileSync(binTarget(), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    const help = await spawnBroker(["--help"], { bin: binTarget() });
    expect([await help.exited, help.stdout[0]]).toEqual([0, "usage: minikafka-broker [options]"]);
    const broker = await spawnBroker(["--port", "0", "--log-format", "json", "--data-dir", tempDir()], { bin: binTarget() });
    const started = await broker.nextEvent((e) => e.event === "broker.started");
    expect((await fetch(`${String(started.address)}/healthz`)).status).toBe(200);
    expect(await stop(broker)).toBe(0);
  });
});

describe("minikafka-broker logs", () => {
  it("topic changes: created, grown, deleted", async () => {
    const broker = await startBrokerProcess(["--data-dir", tempDir()]);
    try {
      await json(`${broker.url}/v1/topics`, "POST", { name: "orders", partitions: 2 });
      await json(`${broker.url}/v1/topics/orders/partitions`, "POST", { count: 5 });
      await json(`${broker.url}/v1/topics/orders`, "DELETE");
      await broker.nextEvent((e) => e.event === "topic.deleted");
      expect(broker.events().filter((e) => String(e.event).startsWith("topic."))).toEqual([
        expect.objectContaining({
          level: "info",
          event: "topic.created",
          topic: "orders",
          partitions: 2,
          msg: "topic orders created with 2 partitions",
        }),
        expect.objectContaining({ level: "info", event: "topic.grown", topic: "orders", partitions: 5, msg: "topic orders grown to 5 partitions" }),
        expect.objectContaining({ level: "info", event: "topic.deleted", topic: "orders" }),
      ]);
    } finally {
      expect(await stop(broker)).toBe(0);
    }
  });

  it("group joins, rebalances, fencings and evictions after the session timeout", async () => {
    const broker = await startBrokerProcess(["--data-dir", tempDir(), "--session-timeout-ms", "1000", "--heartbeat-interval-ms", "200"]);
    try {
      await json(`${broker.url}/v1/topics`, "POST", { name: "t", partitions: 2 });
      const a = (await (await json(`${broker.url}/v1/groups/g/members`, "POST", { topics: ["t"] })).json()) as { memberId: string };
      const b = (await (await json(`${broker.url}/v1/groups/g/members`, "POST", { topics: ["t"] })).json()) as { memberId: string };
      const fenced = await json(`${broker.url}/v1/groups/g/members/${b.memberId}/heartbeat`, "POST", { memberEpoch: 99, ownedPartitions: [] });
      expect(fenced.status).toBeGreaterThanOrEqual(400);
      await fenced.body?.cancel();
      // Member a never heartbeats: evicted once the session timeout passes.
      const expired = await broker.nextEvent((e) => e.event === "group.member.expired");
      expect(expired).toMatchObject({ level: "warn", groupId: "g", memberId: a.memberId });
      // The eviction's rebalance is logged right after it: wait for that line too.
      await broker.nextEvent((e) => e.event === "group.rebalanced" && e.groupEpoch === 4);
      const groupLines = broker.events().filter((e) => String(e.event).startsWith("group."));
      expect(groupLines.map((e) => [e.event, e.memberId ?? e.groupEpoch])).toEqual([
        ["group.member.joined", a.memberId],
        ["group.rebalanced", 1],
        ["group.member.joined", b.memberId],
        ["group.rebalanced", 2],
        ["group.member.fenced", b.memberId],
        ["group.rebalanced", 3],
        ["group.member.expired", a.memberId],
        ["group.rebalanced", 4],
      ]);
      expect(groupLines[0]).toMatchObject({ level: "info", groupId: "g", memberEpoch: 1, topics: ["t"] });
      expect(groupLines[4]).toMatchObject({ level: "warn", code: "FENCED_MEMBER_EPOCH", memberEpoch: 99 });
      expect(groupLines[7]).toMatchObject({ memberCount: 0 });
    } finally {
      expect(await stop(broker)).toBe(0);
    }
  });

  it("slow requests at warn (long polls excepted), every request at debug; --log-level warn hides info", async () => {
    const broker = await startBrokerProcess(["--data-dir", tempDir(), "--slow-request-ms", "150", "--log-level", "debug"]);
    try {
      await json(`${broker.url}/v1/topics`, "POST", { name: "t", partitions: 1 });
      // A long poll that waits its full 300 ms is not slow.
      const poll = await fetch(`${broker.url}/v1/topics/t/partitions/0/records?offset=0&waitMs=300`);
      expect((await poll.json()) as unknown).toMatchObject({ records: [] });
      await broker.nextEvent((e) => e.event === "request" && e.path === "/v1/topics/t/partitions/0/records");
      // A produce whose body takes 300 ms to arrive is.
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${broker.url}/v1/topics/t/records`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on("error", reject);
        req.write('{"records":[{"value":');
        setTimeout(() => req.end('"x"}]}'), 300);
      });
      expect(status).toBe(200);
      const slow = await broker.nextEvent((e) => e.event === "request.slow");
      expect(slow).toMatchObject({ level: "warn", method: "POST", path: "/v1/topics/t/records", status: 200 });
      expect(slow.durationMs).toBeGreaterThanOrEqual(150);
      expect(broker.events().filter((e) => e.event === "request.slow")).toHaveLength(1);
      expect(broker.events().find((e) => e.event === "request" && e.method === "POST" && e.path === "/v1/topics")).toMatchObject({
        level: "debug",
        status: 201,
      });
    } finally {
      expect(await stop(broker)).toBe(0);
    }
  });

  it("--log-level warn leaves the info lines out", async () => {
    const port = await freePort();
    const quiet = await spawnBroker(["--port", String(port), "--data-dir", tempDir(), "--log-level", "warn"]);
    await until(() =>
      fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => (r.status === 200 ? true : undefined),
        () => undefined,
      ),
    );
    await json(`http://127.0.0.1:${port}/v1/topics`, "POST", { name: "t", partitions: 1 });
    expect(await stop(quiet)).toBe(0);
    expect([quiet.stdout, quiet.stderr]).toEqual([[], []]);
  });

  it("a damaged byte in an older segment: CORRUPT_RECORD counted in /metrics per partition, logged once", async () => {
    const dataDir = tempDir();
    const first = await startBrokerProcess(["--data-dir", dataDir]);
    await json(`${first.url}/v1/topics`, "POST", { name: "t", partitions: 2, config: { segmentBytes: 1024 } });
    for (let i = 0; i < 12; i++) {
      const res = await json(`${first.url}/v1/topics/t/records`, "POST", { records: [{ value: `record ${i} `.padEnd(200, "x"), partition: 0 }] });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
    expect(await stop(first)).toBe(0);
    const segments = readdirSync(join(dataDir, "t", "0"))
      .filter((f) => f.endsWith(".log"))
      .sort();
    expect(segments.length).toBeGreaterThan(2);
    // Rot one byte of a record value in the oldest segment (well inside the first batch).
    const oldest = join(dataDir, "t", "0", segments[0]!);
    const bytes = readFileSync(oldest);
    bytes[150] = bytes[150]! ^ 0xff;
    writeFileSync(oldest, bytes);

    const broker = await startBrokerProcess(["--data-dir", dataDir]);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${broker.url}/v1/topics/t/partitions/0/records?offset=0`);
        expect(res.status).toBe(500);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("CORRUPT_RECORD");
      }
      // The broker stays up and serves the rest.
      const tail = await fetch(`${broker.url}/v1/topics/t/partitions/0/records?offset=11`);
      expect(((await tail.json()) as { records: unknown[] }).records).toHaveLength(1);
      const metrics = await (await fetch(`${broker.url}/metrics`)).text();
      expect(metrics).toContain("# TYPE minikafka_corrupt_records_total counter");
      expect(metrics.split("\n").filter((l) => l.startsWith("minikafka_corrupt_records_total"))).toEqual([
        'minikafka_corrupt_records_total{topic="t",partition="0"} 3',
      ]);
      const logged = broker.events().filter((e) => e.event === "storage.error");
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: "error", code: "CORRUPT_RECORD" });
      expect(String(logged[0]!.error)).toMatch(
        new RegExp(`^topic "t" partition 0: corrupt batch in \\S*${segments[0]} at byte \\d+ \\(offset \\d+\\)`),
      );
    } finally {
      expect(await stop(broker)).toBe(0);
    }
  });
});
