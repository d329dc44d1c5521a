// Exclusive ownership of a data directory by one process, without native code.
//
// <dir>/.lock/ holds lock files named by a generation number (20 digits). The newest names the owner:
// {pid, bootId, startTime, hostname, acquiredAt, nonce}. A lock file is written in full under a temporary
// name and then hard-linked to its generation name, so it appears complete or not at all, and link()
// fails when the name exists, so each generation is won by exactly one process. To take over from an owner
// that is gone, an opener links the next generation; afterwards it checks that no newer generation exists
// and that the one it judged is still there, unchanged (a random nonce makes every lock file unique), and
// backs off otherwise. An owner removes its own file on release; a winner removes older generations.
//
// "Gone" (Linux): another boot (boot id), no such pid, a zombie, a process with a SIGKILL pending (killed
// but not yet reaped), or a pid now used by a process that started at another time than the owner (pid
// reuse). Elsewhere: another boot (by boot time) or kill(pid, 0) failing with ESRCH.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { hostname, uptime } from "node:os";
import { join, resolve } from "node:path";
import { LogStoreError } from "./errors.js";
import { errnoCode } from "./fs-utils.js";

// Directories locked by this process, shared by every copy of this package loaded in it.
const REGISTRY_KEY = Symbol.for("minikafka.log-store.locked-dirs");
const registry: Set<string> = ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] ??= new Set<string>()) as Set<string>;

/** Name of the lock directory inside a locked directory. */
export const LOCK_DIR = ".lock";
const GENERATION = /^\d{20}$/;
const TMP_PREFIX = "~tmp~";
const ATTEMPTS = 50;
/** How long a takeover waits for a killed owner (SIGKILL pending) to finish exiting. */
const DYING_WAIT_MS = 2000;
const SIGKILL_BIT = 1n << 8n;

/** Who holds a lock: enough for another process on the same machine to tell whether it still runs. */
export interface LockOwner {
  pid: number;
  /** Linux: `/proc/sys/kernel/random/boot_id`. Elsewhere: `boot-time:<seconds since the epoch>`. */
  bootId: string;
  /** Linux: the process's start time (field 22 of `/proc/<pid>/stat`, clock ticks after boot). */
  startTime?: string | undefined;
  hostname: string;
  /** ISO time of acquisition (for messages). */
  acquiredAt: string;
  /** Random: makes every lock file distinct, so a takeover can tell "the same file" from "a new one". */
  nonce: string;
}

/** What /proc (or kill(pid, 0)) says about a pid. */
export interface ProcessState {
  state: "running" | "zombie" | "dying" | "gone";
  /** Linux only. */
  startTime?: string | undefined;
}

const hasProcfs = (() => {
  try {
    return fs.existsSync("/proc/self/stat");
  } catch {
    return false;
  }
})();

let cachedBootId: string | undefined;

/** This machine's boot identity (see {@link LockOwner.bootId}). */
export function currentBootId(): string {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      cachedBootId = "";
    }
    // macOS and others: the boot time, from uptime (whole seconds; compared with a tolerance).
    if (cachedBootId === "") cachedBootId = `boot-time:${Math.round(Date.now() / 1000 - uptime())}`;
  }
  return cachedBootId;
}

function sameBoot(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.startsWith("boot-time:") && b.startsWith("boot-time:")) return Math.abs(Number(a.slice(10)) - Number(b.slice(10))) <= 2;
  return false;
}

/** The state of process `pid` as far as this machine can tell. */
export function processState(pid: number): ProcessState {
  if (!hasProcfs) {
    try {
      process.kill(pid, 0);
      return { state: "running" };
    } catch (error) {
      return { state: errnoCode(error) === "EPERM" ? "running" : "gone" };
    }
  }
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return { state: "gone" };
  }
  // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const startTime = fields[19];
  if (fields[0] === "Z" || fields[0] === "X" || fields[0] === "x") return { state: "zombie", startTime };
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    for (const key of ["ShdPnd:", "SigPnd:"]) {
      const at = status.indexOf(key);
      if (at >= 0 && (BigInt(`0x${status.slice(at + key.length, status.indexOf("\n", at)).trim()}`) & SIGKILL_BIT) !== 0n) {
        return { state: "dying", startTime };
      }
    }
  } catch {
    return { state: "gone" };
  }
  return { state: "running", startTime };
}

let cachedSelf: Omit<LockOwner, "acquiredAt" | "nonce"> | undefined;

function self(): LockOwner {
  cachedSelf ??= { pid: process.pid, bootId: currentBootId(), startTime: processState(process.pid).startTime, hostname: hostname() };
  return { ...cachedSelf, acquiredAt: new Date().toISOString(), nonce: randomBytes(8).toString("hex") };
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const o = JSON.parse(raw) as Partial<LockOwner>;
    if (typeof o === "object" && o !== null && Number.isSafeInteger(o.pid) && o.pid! > 0 && typeof o.bootId === "string") return o as LockOwner;
  } catch {
    // Not a lock file this version wrote (or damaged by a power cut): nobody can be holding it.
  }
  return undefined;
}

/** `undefined` when `owner` still holds its lock, else why not (for tests and messages). */
export function whyStale(owner: LockOwner | undefined): string | undefined {
  if (owner === undefined) return "unreadable lock file";
  if (!sameBoot(owner.bootId, currentBootId())) return `written before this machine's last boot (${owner.bootId})`;
  // The registry (checked first) says this process holds no lock here: a lock naming our pid is a leftover
  // of this process or of an earlier one that had our pid (containers: often pid 1 every time).
  if (owner.pid === process.pid) return "left by this process, or by an earlier one with the same pid";
  let info = processState(owner.pid);
  // Killed, still finishing (an fsync, say): the kernel lets it write nothing more. Give it a moment.
  for (let waited = 0; info.state === "dying" && waited < DYING_WAIT_MS; waited += 5) {
    sleepSync(5);
    info = processState(owner.pid);
  }
  if (info.state === "gone") return `process ${owner.pid} is not running`;
  if (info.state === "zombie") return `process ${owner.pid} has exited (not yet reaped)`;
  if (info.state === "dying") return `process ${owner.pid} was killed`;
  if (owner.startTime !== undefined && info.startTime !== undefined && owner.startTime !== info.startTime) {
    return `pid ${owner.pid} now belongs to another process (started at tick ${info.startTime}, owner at ${owner.startTime})`;
  }
  return undefined;
}

function locked(key: string, owner: LockOwner, file: string): LogStoreError {
  return new LogStoreError(
    "DATA_DIR_LOCKED",
    `data directory ${key} is locked by running process ${owner.pid} on ${owner.hostname} since ${owner.acquiredAt} (${file}); stop it first, or open another directory`,
  );
}

function storageError(error: unknown, what: string): LogStoreError {
  return new LogStoreError("KAFKA_STORAGE_ERROR", `${what}: ${(error as Error).message}`, { cause: error });
}

const generationName = (n: number): string => String(n).padStart(20, "0");

function generations(lockDir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(lockDir);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return [];
    throw error;
  }
  return names
    .filter((n) => GENERATION.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

function readOrUndefined(path: string): string | undefined {
  try {
    return fs.readFileSync(path, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * A `.lock` *file* holding a bare pid, as versions before the lock directory wrote it: refused while that
 * pid runs and the file is from this boot, else removed.
 */
function removeLegacyLock(key: string, lockDir: string): void {
  const stat = fs.lstatSync(lockDir, { throwIfNoEntry: false });
  if (stat === undefined || stat.isDirectory()) return;
  let raw: string | undefined;
  try {
    raw = readOrUndefined(lockDir);
  } catch (error) {
    // A concurrent opener removed the old file and made the lock directory in its place meanwhile.
    if (errnoCode(error) === "EISDIR") return;
    throw error;
  }
  const pid = Number.parseInt(raw ?? "", 10);
  const bootedAt = Date.now() - uptime() * 1000;
  if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && stat.mtimeMs > bootedAt && processState(pid).state === "running") {
    throw new LogStoreError("DATA_DIR_LOCKED", `data directory ${key} is locked by running process ${pid} (old-format lock file ${lockDir})`);
  }
  try {
    fs.unlinkSync(lockDir);
  } catch (error) {
    // Another opener removed it first (and may have made the lock directory in its place).
    if (fs.lstatSync(lockDir, { throwIfNoEntry: false })?.isFile()) throw error;
  }
}

/**
 * Exclusive ownership of a directory by one process (see the comment at the top of this file for the
 * protocol). A lock whose owner is gone — exited, killed (even before it is reaped), from an earlier boot,
 * or whose pid now belongs to another process — is taken over; a live owner (another process, or another
 * store in this one) makes {@link DirectoryLock.acquire} fail with `DATA_DIR_LOCKED`. Concurrent openers
 * get exactly one owner. Each process is judged in the opener's pid namespace: one data directory shared
 * by two containers (or two hosts, over a network filesystem) at once is not detected.
 */
export class DirectoryLock {
  private released = false;

  private constructor(
    private readonly key: string,
    /** The lock file this process won. */
    readonly path: string,
  ) {}

  /**
   * Takes the lock on `dir` (which must exist).
   * @throws LogStoreError `DATA_DIR_LOCKED` naming the live owner, `KAFKA_STORAGE_ERROR` when the lock
   *   files cannot be written.
   */
  static acquire(dir: string): DirectoryLock {
    const key = resolve(dir);
    if (registry.has(key)) throw new LogStoreError("DATA_DIR_LOCKED", `data directory ${key} is already open in this process`);
    const lockDir = join(key, LOCK_DIR);
    const content = JSON.stringify(self());
    const tmp = join(lockDir, `${TMP_PREFIX}${process.pid}-${randomBytes(6).toString("hex")}`);
    try {
      removeLegacyLock(key, lockDir);
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        // Every step may meet a concurrent release removing the (empty) lock directory: start over then.
        try {
          fs.mkdirSync(lockDir, { recursive: true });
          if (!fs.existsSync(tmp)) fs.writeFileSync(tmp, content, { flag: "wx" });
        } catch (error) {
          if (errnoCode(error) === "ENOENT" || errnoCode(error) === "EEXIST") continue;
          throw error;
        }
        const top = generations(lockDir).at(-1) ?? 0;
        let judged: string | undefined;
        if (top > 0) {
          judged = readOrUndefined(join(lockDir, generationName(top)));
          if (judged === undefined) continue; // released meanwhile
          const owner = parseOwner(judged);
          if (whyStale(owner) === undefined) throw locked(key, owner!, join(lockDir, generationName(top)));
        }
        const mine = join(lockDir, generationName(top + 1));
        try {
          fs.linkSync(tmp, mine);
        } catch (error) {
          if (errnoCode(error) === "EEXIST" || errnoCode(error) === "ENOENT") continue; // someone else won it
          throw error;
        }
        // Won generation top + 1, if our view was current: nothing newer, and the judged file unchanged.
        const current = generations(lockDir);
        if (current.at(-1) !== top + 1 || (top > 0 && readOrUndefined(join(lockDir, generationName(top))) !== judged)) {
          fs.rmSync(mine, { force: true });
          continue;
        }
        for (const n of current) if (n < top + 1) fs.rmSync(join(lockDir, generationName(n)), { force: true });
        removeStrayTemps(lockDir, tmp);
        registry.add(key);
        return new DirectoryLock(key, mine);
      }
    } catch (error) {
      if (error instanceof LogStoreError) throw error;
      throw storageError(error, `cannot take the lock in ${lockDir}`);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    throw new LogStoreError("DATA_DIR_LOCKED", `could not take the lock in ${lockDir}: other processes keep taking it`);
  }

  /** Removes the lock file (and the lock directory when nothing else is in it). Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    registry.delete(this.key);
    try {
      fs.rmSync(this.path, { force: true });
      fs.rmdirSync(join(this.key, LOCK_DIR));
    } catch {
      // Not empty (another opener is at work), or gone: either way nothing of ours is left.
    }
  }
}

/** Removes temp files of openers that are not running any more (a crash between write and link). */
function removeStrayTemps(lockDir: string, mine: string): void {
  for (const name of fs.readdirSync(lockDir)) {
    if (!name.startsWith(TMP_PREFIX) || join(lockDir, name) === mine) continue;
    const pid = Number.parseInt(name.slice(TMP_PREFIX.length), 10);
    if (!Number.isSafeInteger(pid) || processState(pid).state !== "running") fs.rmSync(join(lockDir, name), { force: true });
  }
}
