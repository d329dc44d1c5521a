// The console's build as `pnpm build` runs it: files written to a directory and read back the way the
// published package reads them, and the first load's weight.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { buildConsoleFiles } from "../src/build-assets.js";
import { readConsoleAssets } from "../src/read-assets.js";

describe("console build", () => {
  it("writes a page naming one hashed script and one hashed stylesheet, read back with their headers", async () => {
    const files = await buildConsoleFiles();
    const dir = tempDir("minikafka-console-");
    for (const [name, body] of files) await writeFile(join(dir, name), body);
    const assets = await readConsoleAssets(pathToFileURL(`${dir}/`));
    const names = [...assets.files.keys()].sort();
    expect(names).toHaveLength(3);
    expect(names[0]).toMatch(/^console-[A-Z0-9]{8}\.css$/);
    expect(names[1]).toMatch(/^console-[A-Z0-9]{8}\.js$/);
    expect(names[2]).toBe("index.html");
    const page = new TextDecoder().decode(assets.index.body);
    expect(page).toContain(`<link rel="stylesheet" href="./${names[0]}">`);
    expect(page).toContain(`<script type="module" src="./${names[1]}"></script>`);
    // Nothing from a CDN: the only URLs in the page are its own files.
    expect(page.match(/(?:href|src)="[^"]*"/g)).toEqual(['href="data:,"', `href="./${names[0]}"`, `src="./${names[1]}"`]);
    expect(assets.files.get(names[1]!)!.contentType).toBe("text/javascript; charset=utf-8");
    // The bundle is self-contained: no bare imports left for a browser to fail on.
    const script = new TextDecoder().decode(assets.files.get(names[1]!)!.body);
    expect(script).not.toMatch(/\bimport\s*["'{*]|\bimport\(/);
  });

  it("keeps the first load (JS + CSS) under 150 KB gzipped", async () => {
    const files = await buildConsoleFiles();
    let gzipped = 0;
    for (const [name, body] of files) if (/\.(js|css)$/.test(name)) gzipped += gzipSync(body, { level: 9 }).byteLength;
    expect(gzipped).toBeGreaterThan(10_000); // Preact, the client and the pages are really in there
    expect(gzipped).toBeLessThan(150 * 1024);
  });

  it("says where the files were looked for when they are missing", async () => {
    const dir = pathToFileURL(`${tempDir("minikafka-console-")}/missing/`);
    await expect(readConsoleAssets(dir)).rejects.toThrow(`the console's files are missing from ${dir.pathname} (was @minikafka/console built?)`);
  });
});
