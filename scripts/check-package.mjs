#!/usr/bin/env node
// Packs the package in the current directory the way it will be published (pnpm applies
// publishConfig, so the "@minikafka/source" condition is gone) and lints the tarball with
// publint (--strict) and are-the-types-wrong (ESM-only profile), after checking that every entry of the
// manifest's `files` (and its `bin` targets) is in the tarball. Run after `pnpm build`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "minikafka-pack-"));
const run = (cmd, args) => execFileSync(cmd, args, { stdio: "inherit" });
try {
  execFileSync("pnpm", ["pack", "--pack-destination", dir], { stdio: ["ignore", "ignore", "inherit"] });
  const tarball = join(
    dir,
    readdirSync(dir).find((f) => f.endsWith(".tgz")),
  );
  if (checkFiles(tarball)) {
    run("pnpm", ["exec", "publint", "run", tarball, "--strict"]);
    run("pnpm", ["exec", "attw", tarball, "--profile", "esm-only"]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Fails unless each `files` entry (a file, or a directory with something in it) and each bin target is packed. */
function checkFiles(tarball) {
  const manifest = JSON.parse(readFileSync("package.json", "utf8"));
  const packed = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean)
    .map((entry) => entry.replace(/^package\//, ""));
  const bins = typeof manifest.bin === "string" ? [manifest.bin] : Object.values(manifest.bin ?? {});
  const missing = [];
  for (const entry of [...(manifest.files ?? []), ...bins]) {
    const path = entry.replace(/^\.\//, "").replace(/\/$/, "");
    if (/[*?[\]{}!]/.test(path)) continue; // a glob: npm's own matching decides
    if (!packed.some((file) => file === path || file.startsWith(`${path}/`))) missing.push(entry);
  }
  if (missing.length > 0) {
    console.error(`${manifest.name}: the tarball lacks ${missing.map((m) => JSON.stringify(m)).join(", ")}, which package.json promises`);
    process.exitCode = 1;
    return false;
  }
  console.log(`${manifest.name}: every files entry and bin target is in the tarball (${packed.length} files)`);
  return true;
}
