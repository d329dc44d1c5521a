import * as fs from "node:fs";
import { join, resolve } from "node:path";
import { LogStoreError } from "./errors.js";
import { errnoCode } from "./fs-utils.js";

// Directories locked by this process, shared by every copy of this package loaded in it.
const REGISTRY_KEY = Symbol.for("minikafka.log-store.locked-dirs");
const registry: Set<string> = ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] ??= new Set<string>()) as Set<string>;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === "EPERM";
  }
}

/**
 * Exclusive ownership of a directory: a `.lock` file holding the owner's pid. A lock left by a process
 * that no longer runs is taken over; a live owner (another process, or another store in this one) makes
 * {@link DirectoryLock.acquire} fail with `DATA_DIR_LOCKED`.
 */
export class DirectoryLock {
  private released = false;

  private constructor(
    private readonly key: string,
    private readonly path: string,
  ) {}

  /** Takes the lock on `dir` (which must exist). */
  static acquire(dir: string): DirectoryLock {
    const key = resolve(dir);
    const path = join(key, ".lock");
    if (registry.has(key)) throw new LogStoreError("DATA_DIR_LOCKED", `data directory ${key} is already open in this process`);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = fs.openSync(path, "wx");
        try {
          fs.writeSync(fd, `${process.pid}\n`);
        } finally {
          fs.closeSync(fd);
        }
        registry.add(key);
        return new DirectoryLock(key, path);
      } catch (error) {
        if (errnoCode(error) !== "EEXIST") {
          throw new LogStoreError("KAFKA_STORAGE_ERROR", `cannot create lock file ${path}: ${(error as Error).message}`, { cause: error });
        }
      }
      let owner = Number.NaN;
      try {
        owner = Number.parseInt(fs.readFileSync(path, "utf8"), 10);
      } catch {
        // Vanished or unreadable between our attempts: try again.
      }
      // Our own pid without a registry entry is a lock left by an earlier process that had our pid
      // (common in containers, where the broker is often pid 1 every time).
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new LogStoreError("DATA_DIR_LOCKED", `data directory ${key} is locked by running process ${owner} (${path})`);
      }
      fs.rmSync(path, { force: true });
    }
    throw new LogStoreError("DATA_DIR_LOCKED", `could not take the lock ${path}: another process keeps taking it`);
  }

  /** Removes the lock file. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    registry.delete(this.key);
    fs.rmSync(this.path, { force: true });
  }
}
