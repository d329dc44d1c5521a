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

/** Whether `port` on 127.0.0.1 can be listened on right now. */
async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => resolve(true));
  });
  if (ok) await new Promise((resolve) => server.close(resolve));
  return ok;
}

/** The first of `count` consecutive free ports (for a program that takes a base port and the ones after it). */
export async function freePortRun(count: number): Promise<number> {
  for (;;) {
    const base = await freePort();
    if (base + count > 65_536) continue;
    let free = true;
    for (let i = 1; i < count && free; i++) free = await isFree(base + i);
    if (free) return base;
  }
}
