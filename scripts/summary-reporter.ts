import type { Reporter, SerializedError, TestModule } from "vitest/node";

/**
 * Prints `N passed, N failed[, N skipped]` as the very last line of a run, which is the line CI reads.
 * A test file that fails to load (syntax error, failing import, error in a hook) has no passing tests
 * to show for itself, so it counts as one failure; so does every unhandled error.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      let moduleFailed = 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") moduleFailed++;
        else skipped++;
      }
      // A module-level failure (load error, beforeAll throwing) with no failed test in it still fails.
      if (moduleFailed === 0 && (mod.state() === "failed" || mod.errors().length > 0)) moduleFailed = 1;
      failed += moduleFailed;
    }
    failed += unhandledErrors.length;
    const tail = skipped > 0 ? `, ${skipped} skipped` : "";
    // Written after vitest's own summary so that it is the last line CI sees.
    process.stdout.write(`\n${passed} passed, ${failed} failed${tail}\n`);
  }
}
