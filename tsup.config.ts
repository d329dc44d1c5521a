import { defineConfig } from "tsup";

// Shared by every package: `tsup --config ../../tsup.config.ts` runs with the package as cwd.
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  target: "node20",
  // Neutral: leaf packages must not assume Node; Node built-ins stay external where a package uses them.
  platform: "neutral",
  external: [/^node:/],
  // stripInternal: members tagged @internal (used across files inside a package) stay out of the public types.
  dts: { compilerOptions: { ignoreDeprecations: "6.0", customConditions: [], stripInternal: true } },
  sourcemap: true,
  clean: true,
  treeshake: true,
  splitting: false,
});
