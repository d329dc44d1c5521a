// The broker of the client benchmark, in a process of its own so that it does not share an event loop with
// the clients it serves. Started by client.bench.ts:
//   broker-child.ts <dataDir> <fsync>   prints "listening <url>"; then answers each "cpu" line on stdin
//                                       with "cpu <µs>" (its user + system CPU time so far)
import { createInterface } from "node:readline";
import { startBroker } from "@minikafka/broker";

const [dataDir, fsync] = process.argv.slice(2) as [string, "always" | "interval" | "never"];
const broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir, fsync, logger: { error() {} }, shutdownTimeoutMs: 500 });
process.stdout.write(`listening ${broker.url}\n`);
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line === "cpu") {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`cpu ${user + system}\n`);
  }
});
// The benchmark closes stdin when it is done (or dies): close the broker cleanly.
lines.on("close", () => void broker.close().then(() => process.exit(0)));
