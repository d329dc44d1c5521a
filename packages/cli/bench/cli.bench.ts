// `minikafka produce` of a 1M-line file and `minikafka consume --max-messages 1000000`, beside the same
// work done by a small script on @minikafka/client (bench/client-script.ts), in the same run, against the
// same broker (its own process). From packages/cli:
//
//   pnpm bench                          # 1,000,000 lines of 100 bytes, 3 partitions, fsync "never", 2 rounds
//   pnpm bench --records=200000 --rounds=3 --fsync=always
//
// Both sides are separate Node processes, timed from spawn to exit (start-up included, as a user sees
// it), with stdout to /dev/null. Both are bundled from the sources with esbuild first. Rounds interleave
// CLI and script runs (the order alternates), each on a topic and group of its own; the best round of each
// is reported with the CLI / script ratio (the target is ≥ 0.8×).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { createClient } from "@minikafka/client";
import { exited, onLines, spawnTs } from "../../../test-support/spawn-ts.js";

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => /^--([^=]+)=(.*)$/.exec(a))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]),
);
const RECORDS = Number(args.records ?? 1_000_000);
const SIZE = Number(args.size ?? 100);
const PARTITIONS = Number(args.partitions ?? 3);
const ROUNDS = Number(args.rounds ?? 2);
const FSYNC = (args.fsync ?? "never") as "always" | "interval" | "never";

const dir = mkdtempSync(join(tmpdir(), "minikafka-cli-bench-"));
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

async function bundle(entry: string, outfile: string): Promise<string> {
  await build({
    entryPoints: [here(entry)],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@minikafka/source"],
    logLevel: "silent",
  });
  return outfile;
}

/** Runs `node file ...args` with stdout to /dev/null; resolves with the seconds from spawn to exit. */
function timed(file: string, argv: string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [file, ...argv], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => {
      if (code === 0) resolve((performance.now() - started) / 1000);
      else reject(new Error(`${file} ${argv.join(" ")} exited ${code}: ${stderr.trim()}`));
    });
  });
}

const broker = spawnTs(here("./broker-child.ts"), [join(dir, "data"), FSYNC]);
try {
  const url = await new Promise<string>((resolve, reject) => {
    onLines(broker, (line) => line.startsWith("listening ") && resolve(line.slice("listening ".length)));
    broker.once("exit", () => reject(new Error("the broker exited")));
  });
  const [cli, script] = await Promise.all([
    bundle("../src/bin.ts", join(dir, "bin.mjs")),
    bundle("./client-script.ts", join(dir, "client-script.mjs")),
  ]);
  const file = join(dir, "lines.txt");
  const pad = "x".repeat(SIZE);
  const lines: string[] = new Array(RECORDS);
  for (let i = 0; i < RECORDS; i++) lines[i] = (`record-${i}-` + pad).slice(0, SIZE);
  writeFileSync(file, lines.join("\n") + "\n");
  lines.length = 0;
  const admin = createClient({ brokers: url }).admin();

  console.log(`${RECORDS.toLocaleString("en-US")} lines of ${SIZE} B, ${PARTITIONS} partitions, fsync "${FSYNC}", ${ROUNDS} rounds (best reported)`);
  const best = { cliProduce: 0, scriptProduce: 0, cliConsume: 0, scriptConsume: 0 };
  const rate = (seconds: number) => RECORDS / seconds;
  for (let round = 0; round < ROUNDS; round++) {
    const sides = round % 2 === 0 ? (["cli", "script"] as const) : (["script", "cli"] as const);
    for (const side of sides) {
      const topic = `${side}-${round}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
      const seconds =
        side === "cli" ? await timed(cli, ["produce", topic, "--file", file, "--broker", url]) : await timed(script, ["produce", url, topic, file]);
      const [description] = await admin.describeTopics({ topics: [topic] });
      const stored = description!.partitions.reduce((sum, p) => sum + p.highWatermark, 0);
      if (stored !== RECORDS) throw new Error(`${side} produced ${stored} records, expected ${RECORDS}`);
      const key = side === "cli" ? "cliProduce" : "scriptProduce";
      best[key] = Math.max(best[key], rate(seconds));
      console.log(
        `round ${round + 1} ${side.padEnd(6)} produce ${Math.round(rate(seconds)).toLocaleString("en-US").padStart(9)} records/s (${seconds.toFixed(2)} s)`,
      );
    }
    for (const side of sides) {
      const topic = `${side}-${round}`;
      const seconds =
        side === "cli"
          ? await timed(cli, ["consume", topic, "--group", `g-${topic}`, "--from-beginning", "--max-messages", String(RECORDS), "--broker", url])
          : await timed(script, ["consume", url, topic, `g-${topic}`, String(RECORDS)]);
      const [offsets] = await admin.fetchOffsets({ groupId: `g-${topic}`, topics: [topic] });
      const committed = offsets!.partitions.reduce((sum, p) => sum + (p.offset ?? 0), 0);
      if (committed !== RECORDS) throw new Error(`${side} committed ${committed} records, expected ${RECORDS}`);
      const key = side === "cli" ? "cliConsume" : "scriptConsume";
      best[key] = Math.max(best[key], rate(seconds));
      console.log(
        `round ${round + 1} ${side.padEnd(6)} consume ${Math.round(rate(seconds)).toLocaleString("en-US").padStart(9)} records/s (${seconds.toFixed(2)} s)`,
      );
    }
  }
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(9);
  console.log("");
  console.log(
    `produce  cli ${fmt(best.cliProduce)} records/s  script ${fmt(best.scriptProduce)} records/s  ratio ${(best.cliProduce / best.scriptProduce).toFixed(2)}×`,
  );
  console.log(
    `consume  cli ${fmt(best.cliConsume)} records/s  script ${fmt(best.scriptConsume)} records/s  ratio ${(best.cliConsume / best.scriptConsume).toFixed(2)}×`,
  );
} finally {
  broker.stdin.end();
  await exited(broker);
  rmSync(dir, { recursive: true, force: true });
}
