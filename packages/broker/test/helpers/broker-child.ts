// A broker in its own process, for the crash test: `broker-child.ts <dataDir> [handleSignals]`.
// Prints "listening <port>" once it serves, and "closed" after a graceful shutdown.
import { startBroker } from "../../src/index.js";

const [dataDir, signals] = process.argv.slice(2) as [string, string | undefined];
const broker = await startBroker({ dataDir, port: 0, fsync: "always", segmentBytes: 64 * 1024, handleSignals: signals === "signals" });
process.stdout.write(`listening ${broker.port}\n`);
process.once("beforeExit", () => process.stdout.write("closed\n"));
