// `pnpm build`, after tsup: writes the console's files to dist/assets/, where the published
// loadConsoleAssets() reads them.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { buildConsoleFiles } from "../src/build-assets.js";

const dir = new URL("../dist/assets/", import.meta.url);
await rm(dir, { recursive: true, force: true });
await mkdir(dir, { recursive: true });
const files = await buildConsoleFiles();
for (const [name, body] of files) {
  await writeFile(new URL(name, dir), body);
  console.log(`dist/assets/${name}  ${body.byteLength} B, ${gzipSync(body).byteLength} B gzipped`);
}
