import { build } from "esbuild";
import { fileURLToPath } from "node:url";

/** The client's entry point bundled from the sources for browsers, as a bundler would (one ES module, in memory). */
export function bundleForBrowser(minify: boolean) {
  return build({
    entryPoints: [fileURLToPath(new URL("../../src/index.ts", import.meta.url))],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    conditions: ["@minikafka/source"],
    write: false,
    metafile: true,
    logLevel: "silent",
    minify,
  });
}
