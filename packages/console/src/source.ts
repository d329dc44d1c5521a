// The entry seen under the "@minikafka/source" export condition (tests and `pnpm start` from a clone):
// the same API as index.ts, but the files are built in memory from ui/ on first use, so that nothing
// needs `pnpm build` first and the console served is always the one in the sources. Not published.
import type { ConsoleAssets } from "./assets.js";
import { buildConsoleFiles } from "./build-assets.js";
import { toConsoleAssets } from "./assets.js";

export type { ConsoleAsset, ConsoleAssets } from "./assets.js";

let loading: Promise<ConsoleAssets> | undefined;

/**
 * The console's files, built from the sources on first call (esbuild, about a second) and kept in memory.
 * Same contract as the published `loadConsoleAssets()`.
 * @throws Error when the build fails.
 */
export function loadConsoleAssets(): Promise<ConsoleAssets> {
  loading ??= buildConsoleFiles()
    .then(toConsoleAssets)
    .catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
  return loading;
}
