import { readdir, readFile } from "node:fs/promises";
import { toConsoleAssets, type ConsoleAssets } from "./assets.js";

/**
 * Reads every file of a directory written by `pnpm build` (scripts/build-assets.ts).
 * @throws Error naming the directory when it is missing or has no index.html.
 */
export async function readConsoleAssets(dir: URL): Promise<ConsoleAssets> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new Error(`the console's files are missing from ${dir.pathname} (was @minikafka/console built?)`, { cause: error });
  }
  const files = new Map<string, Uint8Array>();
  for (const name of names) files.set(name, new Uint8Array(await readFile(new URL(name, dir))));
  return toConsoleAssets(files);
}
