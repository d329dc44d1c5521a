// `pnpm demo`: the tutorial's example against a running broker (default http://127.0.0.1:8000, or
// --broker URL / BROKER_URL), or against an in-process broker on a free port with --embedded.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startBroker } from "@minikafka/broker";
import { runSeedScenario } from "./seed-scenario.js";

const { values } = parseArgs({ options: { embedded: { type: "boolean" }, broker: { type: "string" } }, strict: true });

if (values.embedded) {
  const dataDir = mkdtempSync(join(tmpdir(), "minikafka-demo-"));
  const broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir });
  console.log(`(embedded broker on ${broker.url}, data in ${dataDir})\n`);
  try {
    await runSeedScenario(broker.url);
  } finally {
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
} else {
  const url = values.broker ?? process.env.BROKER_URL ?? "http://127.0.0.1:8000";
  try {
    await runSeedScenario(url.replace(/\/+$/, ""));
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code === "ECONNREFUSED") {
      console.error(`no broker at ${url}: start one with \`pnpm start\`, or run \`pnpm demo --embedded\``);
      process.exit(1);
    }
    throw error;
  }
}
