// A cluster broker in its own process, for the failover tests (kill -9, SIGSTOP):
// `cluster-broker-child.ts <dataDir> <nodeId> <etcd URL> <cluster name> [port]`.
// Prints "listening <port>" once it serves and has joined the cluster.
import { startBroker } from "../../src/index.js";

const [dataDir, nodeId, etcd, name, port] = process.argv.slice(2) as [string, string, string, string, string?];
const broker = await startBroker({
  dataDir,
  port: port === undefined ? 0 : Number(port),
  fsync: "always",
  streams: false,
  handleSignals: true,
  cluster: { nodeId: Number(nodeId), etcd: [etcd], name, leaseTtlSeconds: 2, replicaLagTimeMs: 1_500, ackTimeoutMs: 10_000 },
});
process.stdout.write(`listening ${broker.port}\n`);
