// The core must be usable by any transport: nothing it loads (directly or through the broker's own
// modules) may import Hono, the Node HTTP server, or typebox's validators.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const FORBIDDEN = /^(?:hono(?:\/.*)?|@hono\/.*|typebox(?:\/.*)?|node:http|node:https)$/;

/** Every import specifier of a TypeScript module (static imports and re-exports, type-only ones included). */
function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/g)) out.push(m[1]!);
  for (const m of source.matchAll(/(?:^|\n)\s*import\s*["']([^"']+)["']/g)) out.push(m[1]!);
  for (const m of source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) out.push(m[1]!);
  return out;
}

/** The modules `entry` loads, following relative imports through the broker's sources: file → its bare imports. */
function closure(entries: readonly string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    const bare: string[] = [];
    seen.set(file, bare);
    for (const specifier of importsOf(readFileSync(file, "utf8"))) {
      if (specifier.startsWith(".")) queue.push(resolve(dirname(file), specifier.replace(/\.js$/, ".ts")));
      else bare.push(specifier);
    }
  }
  return seen;
}

describe("broker core", () => {
  const sources = readdirSync(here)
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
    .map((name) => join(here, name));

  it("imports no transport, directly or through the modules it uses", () => {
    expect(sources.length).toBeGreaterThan(5);
    const offenders: string[] = [];
    for (const [file, bare] of closure(sources)) {
      for (const specifier of bare) if (FORBIDDEN.test(specifier)) offenders.push(`${file.slice(here.length - 4)} imports ${specifier}`);
    }
    expect(offenders).toEqual([]);
  });

  it("the check sees a Hono import (it can fail)", () => {
    expect(importsOf(`import { Hono } from "hono";\nimport type { Context } from "hono";\nexport { x } from "@hono/node-server";`)).toEqual([
      "hono",
      "hono",
      "@hono/node-server",
    ]);
    const routes = closure([join(here, "..", "routes", "records.ts")]);
    expect([...routes.values()].flat()).toContain("hono");
  });
});
