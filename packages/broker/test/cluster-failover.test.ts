// Failover with real processes and a real etcd: three brokers, a topic with replication factor 3, idempotent
// producers with acks=all under load. kill -9 of a leader and SIGSTOP of a leader past its lease: a new
// leader serves soon after the lease TTL, no acknowledged record is lost or doubled, the old leader never
// acknowledges after it was replaced, truncates what was never committed, and once it is back every
// replica's log is byte-identical.
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { etcdForThisFile, hasEtcd } from "../../../test-support/etcd-suite.js";
import { exited, onLines, spawnTs } from "../../../test-support/spawn-ts.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { call, segmentBytes, type PartitionView } from "./helpers/cluster.js";
import { until } from "./helpers/wait.js";

// Real processes, real fsyncs and lease expiries: a loaded CI machine takes several times a quiet one's time.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 30_000 });

const CHILD = fileURLToPath(new URL("./helpers/cluster-broker-child.ts", import.meta.url));
const LEASE_TTL_MS = 2_000;
/** Kills of random brokers after the first (a leader's), in the history test (`pnpm chaos:cluster`: 30). */
const RANDOM_KILLS = Number(process.env.CLUSTER_CHAOS_KILLS ?? 1);

const etcd = etcdForThisFile();
let clusterSeq = 0;
const children = new Set<ReturnType<typeof spawnTs>>();

afterEach(async () => {
  for (const child of children) {
    child.kill("SIGCONT");
    child.kill("SIGKILL");
  }
  await Promise.all([...children].map((c) => exited(c)));
  children.clear();
});

interface BrokerProcess {
  nodeId: number;
  dataDir: string;
  url: string;
  child: ReturnType<typeof spawnTs>;
}

async function spawnBroker(name: string, nodeId: number, dataDir = tempDir()): Promise<BrokerProcess> {
  const child = spawnTs(CHILD, [dataDir, String(nodeId), etcd.endpoint, name]);
  children.add(child);
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
    if (process.env.CLUSTER_DEBUG) process.stderr.write(`[broker ${nodeId}] ${String(chunk)}`);
  });
  child.once("exit", (code, signal) => {
    if (process.env.CLUSTER_DEBUG) process.stderr.write(`[broker ${nodeId}] exited ${code} ${signal}\n`);
  });
  const port = await new Promise<number>((resolve, reject) => {
    onLines(child, (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`broker ${nodeId} exited (${code}): ${stderr}`)));
  });
  return { nodeId, dataDir, url: `http://127.0.0.1:${port}`, child };
}

async function kill(b: BrokerProcess): Promise<void> {
  b.child.kill("SIGKILL");
  await exited(b.child);
  children.delete(b.child);
}

/** A POST on a connection of its own (`agent: false`), answered as `{ status, body }`. */
function postFresh(url: string, body: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", agent: false, headers: { "content-type": "application/json" }, timeout: 30_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.end(JSON.stringify(body));
  });
}

interface Metadata {
  brokers: Array<{ nodeId: number; url: string }>;
  topics: Array<{ name: string; partitions: PartitionView[] }>;
}

/** Metadata from the first broker of `brokers` that answers. */
async function metadata(brokers: readonly BrokerProcess[]): Promise<Metadata | undefined> {
  for (const b of brokers) {
    try {
      const res = await call("GET", `${b.url}/v1/metadata`, undefined, AbortSignal.timeout(2_000));
      if (res.status === 200) return res.body as Metadata;
    } catch {
      // That one is down: ask the next.
    }
  }
  return undefined;
}

/**
 * An idempotent producer that routes each partition's records to its leader by the metadata and retries
 * (same sequence) on NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, timeouts and connection errors.
 */
class RoutingProducer {
  readonly acked = new Map<number, string[]>();
  /** When each partition last got an acknowledgement. */
  readonly lastAck = new Map<number, number>();
  readonly #seq = new Map<number, number>();
  #meta: Metadata | undefined;
  #stopped = false;
  constructor(
    readonly topic: string,
    readonly producerId: number,
    readonly brokers: () => readonly BrokerProcess[],
  ) {}

  async #refresh(): Promise<void> {
    this.#meta = (await metadata(this.brokers())) ?? this.#meta;
  }

  async send(partition: number, value: string): Promise<void> {
    const sequence = this.#seq.get(partition) ?? 0;
    for (;;) {
      if (this.#meta === undefined) await this.#refresh();
      const p = this.#meta?.topics.find((t) => t.name === this.topic)?.partitions[partition];
      const url = this.#meta?.brokers.find((b) => b.nodeId === p?.leader)?.url;
      if (url !== undefined) {
        try {
          const res = await call(
            "POST",
            `${url}/v1/topics/${this.topic}/records`,
            { records: [{ partition, value }], producerId: this.producerId, producerEpoch: 0, sequences: [{ partition, sequence }] },
            AbortSignal.timeout(5_000),
          );
          if (res.status === 200) {
            this.#seq.set(partition, sequence + 1);
            const list = this.acked.get(partition) ?? [];
            list.push(value);
            this.acked.set(partition, list);
            this.lastAck.set(partition, Date.now());
            return;
          }
          if (!res.body?.error?.retriable) throw new Error(`partition ${partition}: ${res.status} ${JSON.stringify(res.body)}`);
        } catch (error) {
          if (error instanceof Error && error.message.startsWith("partition ")) throw error;
          // Timed out or disconnected: the leader may be gone.
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      await this.#refresh();
    }
  }

  /** Sends `prefix-0`, `prefix-1`, … to `partition` one after the other until stopped. */
  async run(partition: number, prefix: string): Promise<void> {
    for (let i = 0; !this.#stopped; i++) await this.send(partition, `${prefix}-${i}`);
  }

  stop(): void {
    this.#stopped = true;
  }
}

/**
 * Until every broker lists `topic` in its metadata: a broker serves a topic once it lists it, and a produce
 * to a leader that has not seen the topic yet would answer 404.
 */
async function listedEverywhere(brokers: readonly BrokerProcess[], topic: string): Promise<void> {
  for (const b of brokers) await until(async () => ((await metadata([b]))?.topics.find((t) => t.name === topic) ? true : undefined));
}

/** How many brokers of cluster `name` hold a live registration in etcd (through etcd's JSON gateway). */
async function registeredBrokers(name: string): Promise<number> {
  const prefix = `/minikafka/${name}/brokers/`;
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const b64 = (text: string) => Buffer.from(text).toString("base64");
  const res = await fetch(`${etcd.endpoint}/v3/kv/range`, {
    method: "POST",
    body: JSON.stringify({ key: b64(prefix), range_end: b64(end), count_only: true }),
  });
  return Number(((await res.json()) as { count?: string }).count ?? 0);
}

async function values(url: string, topic: string, partition: number): Promise<string[]> {
  const out: string[] = [];
  for (let offset = 0; ;) {
    const { body } = await call("GET", `${url}/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&maxRecords=10000`);
    const records = body.records as Array<{ value: string }>;
    if (records.length === 0) return out;
    out.push(...records.map((r) => r.value));
    offset = body.nextOffset as number;
  }
}

/** Waits until every partition has all its replicas in sync and the same log on disk everywhere, then checks the history. */
async function checkConverged(brokers: readonly BrokerProcess[], topic: string, partitions: number, producer: RoutingProducer): Promise<void> {
  const meta = await until(async () => {
    const m = await metadata(brokers);
    const t = m?.topics.find((x) => x.name === topic);
    return t !== undefined && t.partitions.every((p) => p.isr.length === 3) ? m : undefined;
  }, 30_000);
  for (let p = 0; p < partitions; p++) {
    const leader = meta!.brokers.find((b) => b.nodeId === meta!.topics.find((t) => t.name === topic)!.partitions[p]!.leader)!;
    const stored = await values(leader.url, topic, p);
    const acked = producer.acked.get(p) ?? [];
    // Nothing lost, nothing doubled, in order: the stored history is exactly what was acknowledged, plus
    // at most the one send still unanswered when the producer stopped.
    expect(stored.slice(0, acked.length)).toEqual(acked);
    expect(stored.length - acked.length).toBeLessThanOrEqual(1);
    expect(new Set(stored).size).toBe(stored.length);
    await until(() => {
      const bytes = brokers.map((b) => segmentBytes(b.dataDir, topic, p));
      return bytes.every((b) => b.equals(bytes[0]!)) ? true : undefined;
    }, 15_000);
  }
}

/**
 * Three brokers, topic `t` with one partition (RF 3, min ISR 2), an idempotent producer that has written
 * `before-0`…`before-9`.
 */
async function onePartitionWithHistory() {
  const name = `f${++clusterSeq}`;
  const brokers = [await spawnBroker(name, 1), await spawnBroker(name, 2), await spawnBroker(name, 3)];
  const created = await call("POST", `${brokers[0]!.url}/v1/topics`, { name: "t", partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 });
  const first = created.body.partitions[0] as PartitionView;
  await listedEverywhere(brokers, "t");
  const { producerId } = (await call("POST", `${brokers[0]!.url}/v1/producers`)).body as { producerId: number };
  const producer = new RoutingProducer("t", producerId, () => brokers);
  for (let i = 0; i < 10; i++) await producer.send(0, `before-${i}`);
  return { name, brokers, first, producer };
}

describe.skipIf(!hasEtcd)("cluster failover with real processes", () => {
  it(
    "kill -9 of a leader, then of random brokers, under acks=all load: a new leader soon after the lease TTL, nothing acknowledged lost, doubled or reordered, replicas byte-identical",
    async () => {
      const name = `f${++clusterSeq}`;
      let brokers = [await spawnBroker(name, 1), await spawnBroker(name, 2), await spawnBroker(name, 3)];
      const created = await call("POST", `${brokers[0]!.url}/v1/topics`, { name: "t", partitions: 6, replicationFactor: 3, minInsyncReplicas: 2 });
      expect(created.status).toBe(201);
      await listedEverywhere(brokers, "t");
      const { producerId } = (await call("POST", `${brokers[0]!.url}/v1/producers`)).body as { producerId: number };
      const producer = new RoutingProducer("t", producerId, () => brokers);
      const runs = Array.from({ length: 6 }, (_, p) => producer.run(p, `p${p}`));
      await until(() => (Array.from({ length: 6 }, (_, p) => producer.acked.get(p)?.length ?? 0).every((n) => n >= 20) ? true : undefined), 30_000);

      const victim = brokers.find((b) => b.nodeId === (created.body.partitions[0] as PartitionView).leader)!;
      const led = (created.body.partitions as PartitionView[]).filter((p) => p.leader === victim.nodeId).map((p) => p.partition);
      const killedAt = Date.now();
      await kill(victim);
      brokers = brokers.filter((b) => b !== victim);
      // Every partition the victim led is served again: a produce acknowledged by its new leader.
      await until(() => (led.every((p) => (producer.lastAck.get(p) ?? 0) > killedAt) ? true : undefined), 30_000);
      const failoverMs = Math.max(...led.map((p) => producer.lastAck.get(p)! - killedAt));
      console.log(`failover after kill -9: ${failoverMs} ms (lease TTL ${LEASE_TTL_MS} ms)`);
      // The target is the lease TTL + 2 s (about 2.7 s measured on a quiet machine); the bound leaves room for
      // a loaded CI machine. bench/cluster.bench.ts measures the distribution over many kills.
      expect(failoverMs).toBeLessThan(LEASE_TTL_MS + 4_000);

      const allInSync = () =>
        until(async () => {
          const t = (await metadata(brokers))?.topics.find((x) => x.name === "t");
          return t?.partitions.every((p) => p.isr.length === 3 && p.leader > 0) ? true : undefined;
        }, 30_000);
      brokers = [...brokers, await spawnBroker(name, victim.nodeId, victim.dataDir)];
      await allInSync();

      // Then kill -9s of any broker, leader of some partitions and follower of others, chosen by a seeded
      // random (CLUSTER_CHAOS_SEED repeats a run; `pnpm chaos:cluster` makes it 30 kills), each restarted.
      let seed = Number(process.env.CLUSTER_CHAOS_SEED ?? 7);
      const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
      const acked = () => Array.from({ length: 6 }, (_, p) => producer.acked.get(p)?.length ?? 0).reduce((a, b) => a + b, 0);
      for (let k = 0; k < RANDOM_KILLS; k++) {
        const before = acked();
        const next = brokers[Math.floor(random() * brokers.length)]!;
        await kill(next);
        brokers = brokers.filter((b) => b !== next);
        await until(() => (acked() >= before + 30 ? true : undefined), 30_000);
        brokers = [...brokers, await spawnBroker(name, next.nodeId, next.dataDir)];
        await allInSync();
      }
      producer.stop();
      await Promise.all(runs);
      // Nothing acknowledged lost, doubled or reordered; every replica byte-identical.
      await checkConverged(brokers, "t", 6, producer);
    },
    90_000 + RANDOM_KILLS * 30_000,
  );

  it("SIGSTOP of a leader past its lease, with an appended but uncommitted record: the others elect a new leader; after SIGCONT the old one acknowledges nothing, follows, and truncates the record", async () => {
    const { name, brokers, first, producer } = await onePartitionWithHistory();

    const leader = brokers.find((b) => b.nodeId === first.leader)!;
    const followers = brokers.filter((b) => b !== leader);
    // The followers stop fetching; the leader appends a record they never get, and waits for them.
    for (const f of followers) f.child.kill("SIGSTOP");
    // Once the leader holds no fetch of theirs (each answers within the fetch wait), nothing it appends reaches them.
    await until(async () => {
      const text = await (await fetch(`${leader.url}/metrics`)).text();
      return /^minikafka_http_requests_in_flight 1$/m.test(text) ? true : undefined;
    });
    const divergent = postFresh(`${leader.url}/v1/topics/t/records`, { records: [{ partition: 0, value: "divergent" }] });
    await until(async () => ((await call("GET", `${leader.url}/v1/topics/t`)).body.partitions[0].logEndOffset === 11 ? true : undefined));
    // Then the leader stops too, before its lag check drops the followers from the ISR: all three leases run out.
    leader.child.kill("SIGSTOP");
    await until(async () => ((await registeredBrokers(name)) === 0 ? true : undefined), 15_000);
    for (const f of followers) f.child.kill("SIGCONT");
    const moved = await until(async () => {
      const p = (await metadata(followers))?.topics.find((t) => t.name === "t")?.partitions[0];
      return p !== undefined && p.leader > 0 && p.leader !== first.leader ? p : undefined;
    }, 15_000);
    expect(moved.leaderEpoch).toBeGreaterThan(first.leaderEpoch);
    for (let i = 0; i < 5; i++) await producer.send(0, `new-${i}`);

    leader.child.kill("SIGCONT");
    const answer = await divergent;
    expect(answer.status).toBe(421);
    expect(answer.body.error.code).toBe("NOT_LEADER_OR_FOLLOWER");
    await checkConverged(brokers, "t", 1, producer);
    for (const b of brokers) expect(await values(b.url, "t", 0)).toEqual(producer.acked.get(0));
  });

  it("a broker restarted right after kill -9 waits for its old registration to expire, then rejoins", async () => {
    const name = `f${++clusterSeq}`;
    const dataDir = tempDir();
    const first = await spawnBroker(name, 1, dataDir);
    await kill(first);
    const started = Date.now();
    const again = await spawnBroker(name, 1, dataDir);
    expect(Date.now() - started).toBeLessThan(LEASE_TTL_MS + 4_000);
    const meta = await until(() => metadata([again]));
    expect(meta.brokers).toEqual([{ nodeId: 1, url: again.url }]);
  });
});
