// The deterministic batches of the idempotent kill -9 test: batch i holds 1 + i % 3 records, and its
// sequence is the number of records in the batches before it.

/** Batch `i`: its record values and its base sequence. */
export function batchAt(i: number): { values: string[]; sequence: number } {
  const count = 1 + (i % 3);
  const sequence = Math.floor(i / 3) * 6 + [0, 1, 3][i % 3]!;
  return { values: Array.from({ length: count }, (_, k) => `${i}/${k}/${"x".repeat((i * 37 + k) % 200)}`), sequence };
}
