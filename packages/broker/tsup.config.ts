import { defineConfig, type Options } from "tsup";
import shared from "../../tsup.config.js";

const base = { ...(shared as Options), platform: "node" } satisfies Options;

// The library entry (with types) imports its dependencies. The bin (`src/bin.ts` starts with a shebang,
// which esbuild keeps and tsup then marks executable) is one self-contained file: hono, typebox and the
// pure-logic workspace packages bundled in, so `minikafka-broker` loads one module instead of hundreds
// (faster start, less memory). @minikafka/log-store and @minikafka/console stay imports: they find files
// next to themselves (the optional native CRC, the console's built assets).
export default defineConfig([
  {
    ...base,
    entry: ["src/index.ts"],
    dts: { entry: "src/index.ts", compilerOptions: { ignoreDeprecations: "6.0", customConditions: [], stripInternal: true } },
  },
  {
    ...base,
    entry: ["src/bin.ts"],
    clean: false,
    dts: false,
    noExternal: ["hono", "@hono/node-server", "typebox", "@minikafka/group-coordinator", "@minikafka/partitioner", "@minikafka/protocol"],
  },
]);
