// `pnpm start`: a broker on 127.0.0.1:8000 with its data in ./data, until Ctrl-C.
import { resolve } from "node:path";
import { startBroker } from "@minikafka/broker";
import { parseServeOptions } from "./options.js";

let options;
try {
  options = parseServeOptions(process.argv.slice(2), process.env);
} catch (error) {
  console.error(`minikafka: ${(error as Error).message}`);
  console.error("usage: pnpm start [--port 8000] [--host 127.0.0.1] [--data-dir ./data]   (or PORT, HOST, DATA_DIR)");
  process.exit(2);
}
// `pnpm start` runs this from apps/demo; a relative data dir means relative to where the user typed it.
const dataDir = resolve(process.env.INIT_CWD ?? process.cwd(), options.dataDir);
const broker = await startBroker({ ...options, dataDir, handleSignals: true });
console.log(`minikafka broker listening on ${broker.url}`);
console.log(`data directory: ${dataDir}`);
console.log("press Ctrl-C to stop");
