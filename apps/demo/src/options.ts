import { parseArgs } from "node:util";

/** Where the demo broker listens and keeps its data. */
export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
}

/**
 * Reads `--port/--host/--data-dir` (which win) and `PORT/HOST/DATA_DIR`, with defaults
 * `127.0.0.1:8000` and `./data`. Throws a readable error for a bad port or an unknown flag.
 */
export function parseServeOptions(argv: string[], env: NodeJS.ProcessEnv): ServeOptions {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: "string" }, host: { type: "string" }, "data-dir": { type: "string" } },
    strict: true,
  });
  const portText = values.port ?? env.PORT ?? "8000";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65_535) throw new Error(`port must be an integer from 0 to 65535, got ${JSON.stringify(portText)}`);
  return { host: values.host ?? env.HOST ?? "127.0.0.1", port, dataDir: values["data-dir"] ?? env.DATA_DIR ?? "./data" };
}
