import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { connectionFailure } from "./connection-failure.js";

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe("connectionFailure", () => {
  it("tells a refused connection from a broken one, through causes and aggregates", () => {
    expect(connectionFailure(new TypeError("fetch failed", { cause: withCode("ECONNREFUSED") }))).toBe("refused");
    expect(
      connectionFailure(new TypeError("fetch failed", { cause: new AggregateError([withCode("ECONNREFUSED"), withCode("ECONNREFUSED")]) })),
    ).toBe("refused");
    expect(connectionFailure(new TypeError("fetch failed", { cause: withCode("ECONNRESET") }))).toBe("reset");
    expect(connectionFailure(new TypeError("fetch failed", { cause: withCode("UND_ERR_SOCKET") }))).toBe("reset");
    expect(connectionFailure(new TypeError("fetch failed", { cause: withCode("ENOTFOUND") }))).toBeUndefined();
    expect(connectionFailure(new TypeError("fetch failed"))).toBeUndefined();
    expect(connectionFailure("nope")).toBeUndefined();
  });

  it("recognises what Node's fetch throws for a port nobody listens on, and for a peer that hangs up", async () => {
    // Reads the request, then hangs up without an answer. (A socket closed before the request is written is
    // retried by undici itself, on a new connection.)
    const server = createServer((socket) => socket.once("data", () => socket.destroy()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const hangUp = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(connectionFailure(hangUp)).toBe("reset");
    const refused = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(connectionFailure(refused)).toBe("refused");
  });
});
