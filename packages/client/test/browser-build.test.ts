import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

describe("browser build", () => {
  it("bundles for the browser platform with no Node built-ins", async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL("../src/index.ts", import.meta.url))],
      bundle: true,
      platform: "browser",
      format: "esm",
      target: "es2022",
      conditions: ["@minikafka/source"],
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/["']node:/);
    expect(code).not.toMatch(/\brequire\(/);
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs.some((path) => path.includes("ky/"))).toBe(true);
    expect(inputs.some((path) => path.includes("partitioner/src"))).toBe(true);
    expect(inputs.filter((path) => path.startsWith("node:") || path.includes("@types/node"))).toEqual([]);
  });
});
