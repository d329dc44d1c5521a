import type { GroupMember } from "./group-member.js";
import type { PartitionState } from "./partition-state.js";
import type { PartitionTable } from "./partition-table.js";
import type { TopicPartitionOffset } from "./types.js";

/**
 * Commits a consumer's positions: in the background after each batch, one commit in flight at a time
 * (a request made meanwhile makes it commit once more when done), on demand, and for partitions being
 * revoked. Internal.
 */
export class CommitScheduler {
  readonly #table: PartitionTable;
  readonly #member: () => GroupMember | undefined;
  /** The background commit of processed positions, while one runs. */
  #committing: Promise<void> | undefined;
  #again = false;

  /**
   * @param table - the partitions whose positions are committed
   * @param member - the current membership (commits carry its id and epoch), if any
   */
  constructor(table: PartitionTable, member: () => GroupMember | undefined) {
    this.#table = table;
    this.#member = member;
  }

  /** Starts committing the positions, or, if a commit is running, makes it commit once more when done. */
  soon(): void {
    if (this.#committing !== undefined) {
      this.#again = true;
      return;
    }
    this.#committing = (async () => {
      do {
        this.#again = false;
        await this.positions();
      } while (this.#again && this.#member() !== undefined);
      this.#committing = undefined;
    })();
  }

  /** Resolves once no background commit is running. */
  async settled(): Promise<void> {
    await this.#committing;
  }

  /** Commits every position that moved since the last commit. Never rejects. */
  async positions(): Promise<void> {
    const offsets: TopicPartitionOffset[] = [];
    for (const s of this.#table.values()) {
      if (s.position !== undefined && s.position !== s.committed) offsets.push({ topic: s.topic, partition: s.partition, offset: s.position });
    }
    if (offsets.length === 0) return;
    try {
      await this.offsets(offsets);
    } catch {
      // At-least-once: if the membership is gone, the next owner starts from the last successful commit.
    }
  }

  /**
   * Commits `offsets` (those of partitions the member owns) and records them as committed.
   * @throws ClientError from the broker.
   */
  async offsets(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const member = this.#member();
    if (member === undefined) return;
    this.#table.markCommitted(await member.commit(offsets));
  }

  /** Commits the moved positions of partitions being revoked, before they are released. Never rejects. */
  async revoked(states: readonly PartitionState[]): Promise<void> {
    const offsets: TopicPartitionOffset[] = [];
    for (const s of states)
      if (s.position !== undefined && s.position !== s.committed) offsets.push({ topic: s.topic, partition: s.partition, offset: s.position });
    if (offsets.length === 0) return;
    try {
      await this.#member()?.commit(offsets);
    } catch {
      // At-least-once: the next owner starts from the last commit and sees these records again.
    }
  }
}
