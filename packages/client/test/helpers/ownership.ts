/**
 * Watches handlers for the one thing a consumer group must never do: hand the same partition to two
 * members at once. `run()` wraps one handler call; overlapping calls for the same (group, topic,
 * partition) from different consumers are recorded as violations.
 */
export class OwnershipTracker {
  readonly violations: string[] = [];
  readonly #current = new Map<string, string>();

  async run<T>(group: string, consumer: string, topic: string, partition: number, handle: () => Promise<T>): Promise<T> {
    const key = `${group}/${topic}/${partition}`;
    const other = this.#current.get(key);
    if (other !== undefined && other !== consumer) this.violations.push(`${key}: ${consumer} started while ${other} was processing`);
    this.#current.set(key, consumer);
    try {
      return await handle();
    } finally {
      if (this.#current.get(key) === consumer) this.#current.delete(key);
    }
  }
}
