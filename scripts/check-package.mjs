#!/usr/bin/env node
// Packs the package in the current directory the way it will be published (pnpm applies
// publishConfig, so the "@minikafka/source" condition is gone) and lints the tarball with
// publint (--strict) and are-the-types-wrong (ESM-only profile). Run after `pnpm build`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
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
  run("pnpm", ["exec", "publint", "run", tarball, "--strict"]);
  run("pnpm", ["exec", "attw", tarball, "--profile", "esm-only"]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
