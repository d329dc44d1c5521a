import type { ConsoleAssets } from "./assets.js";
import { readConsoleAssets } from "./read-assets.js";

export type { ConsoleAsset, ConsoleAssets } from "./assets.js";

let loading: Promise<ConsoleAssets> | undefined;

/**
 * The console's prebuilt files (`index.html`, one JS and one CSS bundle with content-hashed names), read
 * once from the package's `dist/assets/` and kept in memory. `@minikafka/broker` serves them at `/console/`.
 *
 * ```ts
 * const { index, files } = await loadConsoleAssets();
 * files.get("index.html") === index; // true
 * index.cacheControl; // "no-cache"
 * ```
 * @throws Error when the package's built files are missing (a broken install); the next call tries again.
 */
export function loadConsoleAssets(): Promise<ConsoleAssets> {
  loading ??= readConsoleAssets(new URL("./assets/", import.meta.url)).catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}
