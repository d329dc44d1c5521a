import { defineConfig } from "tsup";
import shared from "../../tsup.config.js";

// The shared config, plus the bin: `src/bin.ts` starts with a shebang, which esbuild keeps and tsup then
// marks executable. Only the library entry gets types.
export default defineConfig({
  ...(shared as object),
  entry: ["src/index.ts", "src/bin.ts"],
  platform: "node",
  dts: { entry: "src/index.ts", compilerOptions: { ignoreDeprecations: "6.0", customConditions: [], stripInternal: true } },
});
