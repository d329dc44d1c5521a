// A broker in its own process, for the group restart test: `group-broker-child.ts '<StartBrokerOptions as JSON>'`.
// Prints "listening <port>" once it serves. With `handleSignals`, SIGTERM closes it gracefully.
import { startBroker, type StartBrokerOptions } from "../../src/index.js";

const options = JSON.parse(process.argv[2]!) as StartBrokerOptions;
const broker = await startBroker({ fsync: "always", logger: { error() {} }, shutdownTimeoutMs: 500, ...options });
process.stdout.write(`listening ${broker.port}\n`);
