// A free loopback port, for a server that must be told its port up front (etcd, a child process, a README
// sample that names one) rather than listening on port 0 itself.
import { createServer } from "node:net";

/** A port nothing listens on right now on 127.0.0.1 (another process could still take it first). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
