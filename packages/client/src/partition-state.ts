import { partitionKey } from "./partition-key.js";

/**
 * Where a partition of the consumer is in its life: `"initializing"` from its assignment until its
 * position is known, `"active"` while its records are handed out, `"revoking"` from its revocation until it
 * is committed and released (then it leaves the table).
 */
export type PartitionPhase = "initializing" | "active" | "revoking";

/**
 * One assigned partition of a consumer: its phase, its position (the next offset to hand out), the last
 * offset known committed, and a generation that every move of the position by other means than handling
 * (a seek, a clamp) bumps, so that records fetched before it are recognised as stale. Internal.
 */
export class PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** {@link partitionKey} of the partition. */
  readonly key: string;
  phase: PartitionPhase = "initializing";
  /** Next offset to hand out. */
  position: number | undefined = undefined;
  /** Last offset known committed for the group (what the broker's group fetch reads from). */
  committed: number | undefined = undefined;
  /** Bumped by {@link PartitionState.seek}: records fetched before are stale. */
  generation = 0;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
    this.key = partitionKey(topic, partition);
  }

  /** `"initializing"` → `"active"`, once the position is known; false while it is not (or not initializing). */
  activate(): boolean {
    if (this.phase !== "initializing" || this.position === undefined) return false;
    this.phase = "active";
    return true;
  }

  /** → `"revoking"`: from now on none of its records is handed out. */
  revoke(): void {
    this.phase = "revoking";
  }

  /** Moves the position to `offset` other than by handling records: what was fetched before is stale. */
  seek(offset: number): void {
    this.position = offset;
    this.generation++;
  }
}
