/** The partitions of one topic, ascending. */
export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

/**
 * A set of partitions on the wire: one entry per topic, sorted by topic, partitions ascending. Used for
 * assignments handed to members and for the `ownedPartitions` members report. Arrays returned by the
 * coordinator are frozen (they are shared between responses); copy before mutating.
 */
export type Assignment = ReadonlyArray<TopicPartitions>;

/** One member as an assignor sees it. */
export interface AssignorMember {
  /** The member's id (the key of the assignor's result). */
  readonly memberId: string;
  /** The static instance id, if the member joined with one. */
  readonly instanceId: string | undefined;
  /** The topics the member subscribes to, sorted, without duplicates (some may not exist). */
  readonly topics: readonly string[];
  /**
   * The member's partitions in the previous target assignment (empty for a new member). A sticky assignor
   * keeps these where it can, so that a change moves as few partitions as possible.
   */
  readonly currentAssignment: Assignment;
}

/** What an assignor is given: the members and the partition count of every subscribed topic that exists. */
export interface AssignorInput {
  /** The group's members, in join order. */
  readonly members: ReadonlyArray<AssignorMember>;
  /** Partition count of each subscribed topic that exists (partitions are `0 .. count - 1`). */
  readonly partitionCounts: ReadonlyMap<string, number>;
}

/**
 * Computes a group's target assignment: a plain, pure function, so users can supply their own. The result
 * maps member ids to assignments; a member may be left out (it gets nothing) and partitions may be left
 * unassigned. Every partition must go to at most one member, only to a member subscribed to its topic,
 * and must exist; the coordinator checks this and fails the call with `UNKNOWN_SERVER_ERROR` otherwise.
 * The coordinator calls it once per group epoch, so it should be fast (the built-in ones are
 * O(P log M) for P partitions and M members).
 */
export type Assignor = (input: AssignorInput) => ReadonlyMap<string, Assignment>;
