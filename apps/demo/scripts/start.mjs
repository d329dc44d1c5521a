// `pnpm start`: the broker as built JavaScript under plain `node`, with no TypeScript loader in the process.
// From a clone nothing is built yet, so the first start (and any start after a source file changed) bundles
// src/start.ts, the workspace packages' sources and their npm dependencies into dist/start.mjs with esbuild
// (a second or so); every other start just imports that file. `import.meta.url` in a workspace module
// keeps naming its source file, so what reads files
// next to itself (the console's UI sources, the broker's package.json, log-store's optional native CRC)
// finds them where they are.
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const app = fileURLToPath(new URL("..", import.meta.url));
const root = join(app, "../..");
const output = join(app, "dist/start.mjs");

/** The newest modification time under `dir` (sources, manifests), skipping dependencies and outputs. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist" || entry.name === "test" || entry.name === "bench") continue;
    const path = join(dir, entry.name);
    const time = entry.isDirectory() ? newest(path) : statSync(path).mtimeMs;
    if (time > latest) latest = time;
  }
  return latest;
}

function builtAt() {
  try {
    return statSync(output).mtimeMs;
  } catch {
    return -1;
  }
}

const sources = [join(app, "src"), join(app, "package.json"), ...readdirSync(join(root, "packages")).map((name) => join(root, "packages", name))];
const changed = Math.max(...sources.map((path) => (statSync(path).isDirectory() ? newest(path) : statSync(path).mtimeMs)));

if (builtAt() < changed) {
  const workspace = pathToFileURL(join(root, "packages")).href;
  const { build } = await import("esbuild"); // only when building: a plain start loads nothing but the bundle
  const result = await build({
    entryPoints: [join(app, "src/start.ts")],
    outfile: output,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Workspace packages from their sources, npm packages bundled too (one file to load, not hundreds);
    // only esbuild, which the console's source entry uses to build the UI on first request, stays out, and
    // etcd's client (gRPC loads files and built-ins at run time), which only cluster mode imports.
    conditions: ["@minikafka/source"],
    external: ["esbuild", "etcd3"],
    plugins: [
      {
        name: "import-meta-url-of-sources",
        setup(b) {
          b.onLoad({ filter: /\.ts$/ }, async (args) => {
            if (!pathToFileURL(args.path).href.startsWith(workspace) && !args.path.startsWith(app)) return undefined;
            const contents = await readFile(args.path, "utf8");
            const url = JSON.stringify(pathToFileURL(args.path).href);
            return { contents: contents.replaceAll("import.meta.url", url), loader: "ts", resolveDir: dirname(args.path) };
          });
        },
      },
    ],
    sourcemap: true,
    write: false,
    logLevel: "warning",
  });
  // Written aside and renamed into place: a start running at the same moment sees the old file or the new.
  mkdirSync(dirname(output), { recursive: true });
  for (const file of result.outputFiles) {
    const aside = `${file.path}.${process.pid}.tmp`;
    writeFileSync(aside, file.contents);
    renameSync(aside, file.path);
  }
}

await import(pathToFileURL(output).href);
