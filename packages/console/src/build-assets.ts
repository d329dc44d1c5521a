// Builds the console's files from ui/ with esbuild: one minified ES module (Preact, the UI and
// @minikafka/client bundled in), one CSS file, both content-hashed, and the index.html naming them.
// Used by `pnpm build` (scripts/build-assets.ts writes the files to dist/assets/) and by the source entry.
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { INDEX_FILE } from "./assets.js";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Builds every file of the console in memory: file name → bytes (`index.html`, `console-<hash>.js`,
 * `console-<hash>.css`).
 * @throws Error when esbuild reports an error.
 */
export async function buildConsoleFiles(): Promise<Map<string, Uint8Array>> {
  // Loaded on first use: a broker started from the sources pays for esbuild only once the console is opened.
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [here("../ui/main.tsx")],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    minify: true,
    write: false,
    outdir: here("../dist/assets"),
    entryNames: "console-[hash]",
    jsx: "automatic",
    jsxImportSource: "preact",
    // The client is bundled from its sources, not listed as a dependency: the broker depends on this
    // package, and the client's tests depend on the broker, so a dependency here would close a cycle.
    alias: { "@minikafka/client": here("../../client/src/index.ts") },
    conditions: ["@minikafka/source"],
    legalComments: "none",
    logLevel: "silent",
  });
  const files = new Map<string, Uint8Array>();
  let script: string | undefined;
  let style: string | undefined;
  for (const file of result.outputFiles) {
    const name = basename(file.path);
    files.set(name, file.contents);
    if (name.endsWith(".js")) script = name;
    if (name.endsWith(".css")) style = name;
  }
  if (script === undefined || style === undefined) throw new Error("the console build produced no script or no stylesheet");
  files.set(INDEX_FILE, new TextEncoder().encode(indexHtml(script, style)));
  return files;
}

// Relative URLs: the page works wherever the broker is mounted (behind a proxy with a path prefix too).
const indexHtml = (script: string, style: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>minikafka console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="./${style}">
<script type="module" src="./${script}"></script>
</head>
<body><div id="app"></div></body>
</html>
`;
