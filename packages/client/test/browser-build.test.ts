import { describe, expect, it } from "vitest";
import { bundleForBrowser } from "./helpers/browser-bundle.js";

describe("browser build", () => {
  it("bundles for the browser platform with no Node built-ins", async () => {
    const result = await bundleForBrowser(false);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/["']node:/);
    expect(code).not.toMatch(/\brequire\(/);
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs.some((path) => path.includes("ky/"))).toBe(true);
    expect(inputs.some((path) => path.includes("partitioner/src"))).toBe(true);
    expect(inputs.filter((path) => path.startsWith("node:") || path.includes("@types/node"))).toEqual([]);
    // The wire contract comes in as types only, plus the protocol's plain-data error table.
    expect(inputs.filter((path) => path.includes("typebox"))).toEqual([]);
    expect(inputs.filter((path) => path.includes("protocol/src")).map((path) => path.replace(/^.*protocol\//, ""))).toEqual(["src/errors.ts"]);
  });

  it("is no bigger than before the protocol package, apart from the error table it now imports", async () => {
    const result = await bundleForBrowser(true);
    const bytes = result.outputFiles[0]!.contents.byteLength;
    const [table] = Object.entries(Object.values(result.metafile!.outputs)[0]!.inputs).filter(([path]) => path.endsWith("protocol/src/errors.ts"));
    expect(table).toBeDefined();
    // Minified, so that comments do not count: 53 563 bytes before the client took its wire types and error
    // codes from @minikafka/protocol. The error table itself (~1.4 KB minified, ~0.4 KB gzipped) is the only
    // growth allowed. The injectable clock (createClient({ clock })) then added 486 bytes, admin.deleteGroups
    // 249, the bearer token (createClient({ token }), checked and sent on every request) 183: 54 481. The
    // idempotent producer (producer id, epoch and sequences, resending lost answers, fencing, the per-partition
    // retry after a producer error) added 1 898 bytes: 56 379; a consumer's own sessionTimeoutMs sent on
    // join (the broker applies it within its bounds) 153: 56 532 now, so any further growth is a decision,
    // not an accident.
    expect(bytes - table![1].bytesInOutput).toBeLessThanOrEqual(56_532);
  });
});
