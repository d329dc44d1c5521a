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
    // Two test files at a time on this 2-core machine (vitest's default here is one, cores - 1): most files
    // wait on fsyncs, child processes and lease expiries rather than the CPU (1,419 tests: 339 s with one
    // worker, 195 s with two, both green).
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ["default", "./scripts/summary-reporter.ts"],
  },
});
