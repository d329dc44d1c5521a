// Issue 14's many-partitions target: 10,000 partitions (2,500 topics × 4) created through the broker,
// written once each, then the broker restarted. Reports topic creation rate, the descriptors the broker
// process holds (/proc/<pid>/fd), its RSS, and the time from spawning it to a 200 from /readyz; then joins
// one consumer group member per 1000 topics (a subscription's limit) and checks all 10,000 partitions are
// assigned.
//
//   pnpm --filter @minikafka/broker bench:partitions          # TOPICS=2500 PARTITIONS=4 by default
//
// Linux only (reads /proc). Exit code 0 even when a target is missed.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fmt, json, post, startBenchBroker, startBuiltBroker, stop } from "./support.js";

const TOPICS = Number(process.env.TOPICS ?? 2500);
const PARTITIONS = Number(process.env.PARTITIONS ?? 4);
const CONCURRENCY = 32;

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

/** Runs `task(i)` for i in [0, n) with at most CONCURRENCY in flight. */
async function pool(n: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

const children: ChildProcess[] = [];
const dataDir = mkdtempSync(join(tmpdir(), "minikafka-partitions-"));
const rows: Array<[string, string, string]> = [];
try {
  const total = TOPICS * PARTITIONS;
  let broker = await startBenchBroker(children, dataDir);
  const topic = (i: number) => `t${String(i).padStart(5, "0")}`;

  let started = performance.now();
  await pool(TOPICS, async (i) => {
    const res = await post(`${broker.url}/v1/topics`, { name: topic(i), partitions: PARTITIONS });
    if (res.status !== 201) throw new Error(`create ${topic(i)}: ${res.status} ${await res.text()}`);
  });
  const createS = (performance.now() - started) / 1000;
  rows.push(["topic creation", `${fmt(TOPICS / createS)} topics/s (${fmt(total / createS)} partitions/s)`, ""]);

  started = performance.now();
  await pool(total, async (i) => {
    const t = Math.floor(i / PARTITIONS);
    const res = await post(`${broker.url}/v1/topics/${topic(t)}/records`, { records: [{ value: `v${i}`, partition: i % PARTITIONS }] });
    if (res.status !== 200) throw new Error(`produce ${topic(t)}: ${res.status} ${await res.text()}`);
  });
  const writeS = (performance.now() - started) / 1000;
  rows.push(["one record per partition", `${fmt(total / writeS)} produce requests/s`, ""]);
  const pid1 = broker.proc.pid!;
  rows.push(["fds after writing", fmt(fds(pid1)), "≤ 1,100"]);
  rows.push(["RSS after writing", `${fmt(rssMiB(pid1), 1)} MiB`, "< 250 MiB"]);
  await stop(broker.proc);

  // The restart is the production start: the built broker command under plain node, when it is built.
  const built = await startBuiltBroker(children, dataDir);
  const restarted = built ?? (await startBenchBroker(children, dataDir));
  broker = { ...restarted, openMs: NaN };
  const pid2 = broker.proc.pid!;
  rows.push([
    "restart: spawn → /readyz 200",
    `${fmt(broker.ms)} ms (${built ? "node dist/bin.js" : `a tsx process; run pnpm build for the built command`})`,
    "< 2,000 ms",
  ]);
  rows.push(["fds after restart", fmt(fds(pid2)), "≤ 1,100"]);
  rows.push(["RSS after restart", `${fmt(rssMiB(pid2), 1)} MiB`, "< 250 MiB"]);

  // Every record is still there (a sample), and one group member over every topic is assigned everything.
  for (let t = 0; t < TOPICS; t += Math.max(1, Math.floor(TOPICS / 50))) {
    const res = await json<{ records: Array<{ value: string }> }>(await fetch(`${broker.url}/v1/topics/${topic(t)}/partitions/1/records?offset=0`));
    if (res.records[0]?.value !== `v${t * PARTITIONS + 1}`) throw new Error(`${topic(t)}/1 lost its record: ${JSON.stringify(res.records)}`);
  }
  // A subscription names at most 1000 topics (the protocol's limit): one group per 1000 topics.
  started = performance.now();
  let assigned = 0;
  for (let from = 0; from < TOPICS; from += 1000) {
    const topics = Array.from({ length: Math.min(1000, TOPICS - from) }, (_, i) => topic(from + i));
    type Assignment = Array<{ topic: string; partitions: number[] }>;
    type Member = { memberId: string; memberEpoch: number; assignment: Assignment; pendingPartitions: Assignment };
    const group = `${broker.url}/v1/groups/bench-${from}/members`;
    let member = await json<Member>(await post(group, { topics }));
    // Pending: the member's target, held back for a while after a restart (the broker's restartHoldMs).
    const count = () => [...member.assignment, ...member.pendingPartitions].reduce((n, a) => n + a.partitions.length, 0);
    for (let round = 0; round < 20 && count() < topics.length * PARTITIONS; round++) {
      const { memberId } = member;
      member = {
        memberId,
        ...(await json<Omit<Member, "memberId">>(
          await post(`${group}/${memberId}/heartbeat`, { memberEpoch: member.memberEpoch, ownedPartitions: member.assignment }),
        )),
      };
    }
    assigned += count();
  }
  rows.push([
    "group members over all topics",
    `${fmt(assigned)} partitions assigned (or pending) in ${fmt(performance.now() - started)} ms`,
    `${fmt(total)}`,
  ]);
  rows.push(["fds / RSS with the group", `${fmt(fds(pid2))} / ${fmt(rssMiB(pid2), 1)} MiB`, ""]);
  await stop(broker.proc);
} finally {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
}

console.log(`\n${TOPICS} topics × ${PARTITIONS} partitions, fsync "always", ${CONCURRENCY} concurrent requests (Node ${process.version})`);
const width = [32, 52];
console.log(`${"case".padEnd(width[0]!)}  ${"figure".padEnd(width[1]!)}  target`);
console.log(`${"-".repeat(width[0]!)}  ${"-".repeat(width[1]!)}  ------`);
for (const [a, b, c] of rows) console.log(`${a.padEnd(width[0]!)}  ${b.padEnd(width[1]!)}  ${c}`);
