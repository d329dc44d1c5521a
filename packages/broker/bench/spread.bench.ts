// Issue 14's throughput target through the broker: produce requests of 1000 records (100-byte values) spread
// round-robin over 1, 10, 100 and 1000 partitions of one topic (record i → partition i % N), fsync
// "always", wrk with CONNECTIONS connections; each request becomes one batch per partition it touches and
// is answered once all are durable. The built broker command (`pnpm build` first), once with each
// partition fsyncing its own segment (the default) and once with `--journal true`, in one run: the ratio
// 1000 : 10 partitions is the target (≥ 0.5×).
//
//   pnpm --filter @minikafka/broker bench:spread     # PARTITIONS=1,10,100,1000 BENCH_SECONDS=5 CONNECTIONS=8
//
// Exit code 0 even when the target is missed (a report).
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { BUILT_BROKER, fmt, post, processCpuMs, startBuiltBroker, stop, wrk } from "./support.js";

const COUNTS = (process.env.PARTITIONS ?? "1,10,100,1000").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 8);
const RECORDS = 1000;
const TARGET = 0.5;

const value = "x".repeat(100);
const body = (partitions: number) => JSON.stringify({ records: Array.from({ length: RECORDS }, (_, i) => ({ value, partition: i % partitions })) });

const children: ChildProcess[] = [];
const root = mkdtempSync(join(tmpdir(), "minikafka-spread-"));
const variants = [
  { name: "per-partition fsync (default)", args: [] as string[] },
  { name: "--journal true", args: ["--journal", "true"] },
];
const results = new Map<string, { rps: number; p99ms: number; cpuUsPerRecord: number | undefined }>();
try {
  for (const [v, variant] of variants.entries()) {
    const broker = await startBuiltBroker(children, join(root, `v${v}`), variant.args);
    if (broker === undefined) throw new Error(`${BUILT_BROKER} is missing: run pnpm build first`);
    try {
      for (const n of COUNTS) {
        const res = await post(`${broker.url}/v1/topics`, { name: `spread-${n}`, partitions: n });
        if (res.status !== 201) throw new Error(`creating spread-${n} answered ${res.status}: ${await res.text()}`);
        const url = `${broker.url}/v1/topics/spread-${n}/records`;
        await wrk(root, url, CONNECTIONS, 1, body(n)); // warm-up
        // The broker's CPU (all its threads, user + system; Linux /proc) per record: steadier than the rate on a shared machine.
        const cpuBefore = processCpuMs(broker.proc.pid);
        const started = performance.now();
        const r = await wrk(root, url, CONNECTIONS, SECONDS, body(n));
        const seconds = (performance.now() - started) / 1000;
        const cpuAfter = processCpuMs(broker.proc.pid);
        const cpuUsPerRecord =
          cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1000) / (r.rps * seconds * RECORDS);
        results.set(`${v}/${n}`, { ...r, cpuUsPerRecord });
      }
    } finally {
      await stop(broker.proc);
    }
  }
} finally {
  for (const child of children) child.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
}

console.log(
  `\n${RECORDS}-record produce requests round-robin over N partitions through the broker (node dist/bin.js, fsync "always"), wrk -c ${CONNECTIONS}, ${SECONDS} s each (Node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")})`,
);
for (const [v, variant] of variants.entries()) {
  console.log(`\n${variant.name}`);
  console.log("partitions  records/s   p99 ms  broker CPU µs/record");
  for (const n of COUNTS) {
    const r = results.get(`${v}/${n}`)!;
    console.log(
      `${String(n).padStart(10)}  ${fmt(r.rps * RECORDS).padStart(9)}  ${r.p99ms.toFixed(1).padStart(7)}  ${(r.cpuUsPerRecord?.toFixed(2) ?? "-").padStart(20)}`,
    );
  }
  const ten = results.get(`${v}/10`);
  const thousand = results.get(`${v}/1000`);
  if (ten && thousand) {
    const ratio = thousand.rps / ten.rps;
    console.log(`1000 : 10 partitions = ${ratio.toFixed(2)}× (target ≥ ${TARGET}×) ${ratio >= TARGET ? "met" : "MISSED"}`);
  }
}
