// The broker of the CLI benchmark, in a process of its own. Started by cli.bench.ts:
//   broker-child.ts <dataDir> <fsync>   prints "listening <url>"; closes the broker when stdin ends
import { startBroker } from "@minikafka/broker";

const [dataDir, fsync] = process.argv.slice(2) as [string, "always" | "interval" | "never"];
const broker = await startBroker({ host: "127.0.0.1", port: 0, dataDir, fsync, logger: { error() {} }, shutdownTimeoutMs: 500 });
process.stdout.write(`listening ${broker.url}\n`);
process.stdin.resume();
process.stdin.on("end", () => void broker.close().then(() => process.exit(0)));
