// A broker in its own process for the exhaustion test: `limited-broker-child.ts <dataDir> <maxTotalPartitions>`,
// run under a low descriptor limit (prlimit). Prints "listening <port>" once it serves.
import { startBroker } from "../../src/index.js";

const [dataDir, maxTotalPartitions] = process.argv.slice(2) as [string, string];
const broker = await startBroker({ dataDir, port: 0, fsync: "always", maxTotalPartitions: Number(maxTotalPartitions), handleSignals: true });
process.stdout.write(`listening ${broker.port}\n`);
