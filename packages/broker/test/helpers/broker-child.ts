// A broker in its own process, for the crash test: `broker-child.ts <dataDir> [signals] [journal]` (handle
// SIGTERM/SIGINT; use the store-wide journal).
// Prints "listening <port>" once it serves, and "closed" after a graceful shutdown.
import { startBroker } from "../../src/index.js";

const [dataDir, ...flags] = process.argv.slice(2) as [string, ...string[]];
const broker = await startBroker({
  dataDir,
  port: 0,
  fsync: "always",
  segmentBytes: 64 * 1024,
  handleSignals: flags.includes("signals"),
  journal: flags.includes("journal"),
});
process.stdout.write(`listening ${broker.port}\n`);
process.once("beforeExit", () => process.stdout.write("closed\n"));
