// Which topic of each name a broker's local replicas belong to: the cluster's topic id (the etcd creation
// revision of the topic's key) per topic, kept in `<dataDir>/cluster-topics.json`. A broker that was away
// while a topic was deleted (and perhaps created again under the same name) finds out at its next start
// that its replica is of a topic that no longer exists, and drops it instead of serving its records.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

interface TopicIdsFile {
  cluster: string;
  topics: Record<string, string>;
}

/**
 * The topic ids of this broker's local replicas, durable when given a file. Internal to cluster mode: only
 * the cluster node's metadata task changes it (one change at a time).
 */
export class TopicIds {
  readonly #file: string | undefined;
  readonly #cluster: string;
  readonly #ids = new Map<string, string>();

  /**
   * @param file - where the ids are kept (`undefined`: in memory only)
   * @param cluster - the cluster's name: ids recorded for another cluster (a data directory moved between
   *   clusters) are not this cluster's, and are ignored
   */
  constructor(file: string | undefined, cluster: string) {
    this.#file = file;
    this.#cluster = cluster;
    if (file === undefined) return;
    let stored: TopicIdsFile;
    try {
      stored = JSON.parse(readFileSync(file, "utf8")) as TopicIdsFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw new Error(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
    if (stored?.cluster !== cluster || typeof stored.topics !== "object" || stored.topics === null) return;
    for (const [topic, id] of Object.entries(stored.topics)) if (typeof id === "string" && /^\d+$/.test(id)) this.#ids.set(topic, id);
  }

  /** The recorded id of the local replica of `topic`, if there is one. */
  get(topic: string): string | undefined {
    return this.#ids.get(topic);
  }

  /** Every topic with a recorded id. */
  topics(): string[] {
    return [...this.#ids.keys()];
  }

  /** Records (durably) that the local replica of `topic` is of the topic `id`. */
  set(topic: string, id: string): void {
    if (this.#ids.get(topic) === id) return;
    this.#ids.set(topic, id);
    this.#save();
  }

  /** Forgets (durably) the id of `topic`'s local replica, which is gone. */
  delete(topic: string): void {
    if (this.#ids.delete(topic)) this.#save();
  }

  /** Writes the file whole: a temp file, fsynced, renamed over it, the directory fsynced. */
  #save(): void {
    const file = this.#file;
    if (file === undefined) return;
    const body: TopicIdsFile = { cluster: this.#cluster, topics: Object.fromEntries([...this.#ids].sort(([a], [b]) => (a < b ? -1 : 1))) };
    const temp = `${file}.tmp`;
    writeFileSync(temp, JSON.stringify(body));
    const fd = openSync(temp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    const dir = openSync(dirname(file), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}
