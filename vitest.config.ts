import { defineConfig } from "vitest/config";

// Tests run against the TypeScript sources (no build needed): every package's `exports` has a
// "@minikafka/source" condition pointing at src/index.ts. Vitest resolves through the SSR pipeline,
// so the condition must be given there (plain `resolve.conditions` is not enough).
const conditions = ["@minikafka/source", "module", "node", "development|production"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["@minikafka/source"] } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "apps/*/src/**/*.test.ts", "apps/*/test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ["default", "./scripts/summary-reporter.ts"],
  },
});
