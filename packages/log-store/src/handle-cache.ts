import { readFileSync } from "node:fs";
import { LogStoreError } from "./errors.js";
import type { FileSystem, OpenFlags } from "./file-system.js";
import { errnoCode } from "./fs-utils.js";

/** Upper bound of the default {@link HandleCache} limit (a broker with 10,000 partitions then holds about 1,050 fds). */
export const DEFAULT_MAX_OPEN_FILES = 1000;
/** Smallest limit a cache accepts: a segment's log and index, twice over, plus a read. */
export const MIN_MAX_OPEN_FILES = 4;

/** `EMFILE` (this process is out of descriptors) or `ENFILE` (the whole system is). */
export const isFdExhaustion = (error: unknown): boolean => {
  const code = errnoCode(error);
  return code === "EMFILE" || code === "ENFILE";
};

/** The `TOO_MANY_OPEN_FILES` error for an open that found no descriptor. */
export function tooManyOpenFiles(path: string, cause: unknown): LogStoreError {
  return new LogStoreError(
    "TOO_MANY_OPEN_FILES",
    `cannot open ${path}: the process is out of file descriptors (${errnoCode(cause) ?? "EMFILE"}); nothing was changed, retry later or raise the descriptor limit (ulimit -n) or lower maxOpenFiles`,
    { cause },
  );
}

/**
 * The process's soft `RLIMIT_NOFILE` (from `/proc/self/limits`), or `undefined` where that cannot be read
 * (not Linux). Node raises the soft limit to the hard one at start-up, so this is what the process may use.
 */
export function openFileLimit(read: () => string = () => readFileSync("/proc/self/limits", "utf8")): number | undefined {
  try {
    const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(read());
    if (!match) return undefined;
    return match[1] === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(match[1]);
  } catch {
    return undefined;
  }
}

/**
 * The default limit of a cache: {@link DEFAULT_MAX_OPEN_FILES}, or half of the process's descriptor limit
 * when that is lower (the other half stays for sockets, temp files and directory fsyncs), at least
 * {@link MIN_MAX_OPEN_FILES}.
 */
export function defaultMaxOpenFiles(processLimit: number | undefined = openFileLimit()): number {
  if (processLimit === undefined) return DEFAULT_MAX_OPEN_FILES;
  return Math.max(MIN_MAX_OPEN_FILES, Math.min(DEFAULT_MAX_OPEN_FILES, Math.floor(processLimit / 2)));
}

interface SlotWaiter {
  resolve: () => void;
}

/**
 * A bounded, least-recently-used pool of open file descriptors, shared by every segment and index of a
 * store: at most `limit` descriptors are open at once. A file is registered once as a {@link FileHandle}
 * and opened on demand; when the pool is full, the descriptor used longest ago that nobody is using right
 * now is closed (it is reopened on its next use). An idle partition therefore holds no descriptor once
 * the pool needs it for something else.
 *
 * Descriptors in use are never closed: an fsync in flight, a read in progress, an append. Asynchronous
 * users ({@link FileHandle.useAsync}) wait for a free slot when every descriptor is in use; synchronous
 * ones ({@link FileHandle.use}, the append path, which must not yield) may go past the limit by the few
 * descriptors one synchronous call holds at once (a segment's log and index).
 *
 * **fsync after a reopen.** A segment written through one descriptor may be evicted and synced later
 * through a new one. That is sound on Linux, where fsync/fdatasync act on the inode and flush every dirty
 * page of the file, whichever descriptor wrote it, and where a writeback error not yet seen by anyone is
 * reported to the next fsync of the file even through a descriptor opened after the error (errseq_t,
 * Linux ≥ 4.16). Other systems may tie durability to the writing descriptor: there, use a limit larger
 * than the number of files written between two fsync rounds (or `fsync: "always"`, whose round follows
 * each append at once, while the handle is still the most recently used).
 */
export class HandleCache {
  /** Maximum descriptors open at once (see the class doc for the synchronous exception). */
  readonly limit: number;
  /** Open descriptors not in use, least recently used first (a `Set` keeps insertion order). */
  private readonly idle = new Set<FileHandle>();
  private readonly waiters: SlotWaiter[] = [];
  private openCount = 0;
  /** Counters since creation: descriptors opened, and closed to make room. */
  readonly stats = { opens: 0, evictions: 0 };
  /**
   * The cache's file system for everything else the store opens (temp files, directory fsyncs, reads of
   * whole files, removals): an `EMFILE`/`ENFILE` there first closes every idle descriptor and retries once.
   */
  readonly fs: FileSystem;

  /**
   * @param base - the file system descriptors are opened on
   * @param limit - maximum open descriptors (default {@link defaultMaxOpenFiles})
   */
  constructor(
    readonly base: FileSystem,
    limit: number = defaultMaxOpenFiles(),
    /** Clock for {@link HandleCache.closeIdle} (ms). */
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isSafeInteger(limit) || limit < MIN_MAX_OPEN_FILES)
      throw new LogStoreError("INVALID_REQUEST", `maxOpenFiles must be an integer ≥ ${MIN_MAX_OPEN_FILES}, got ${String(limit)}`);
    this.limit = limit;
    this.fs = evictingFileSystem(base, () => this.evictAllIdle());
  }

  /** Descriptors open right now. */
  get open(): number {
    return this.openCount;
  }

  /**
   * Registers a file. With `createFlags` it is opened at once with them (e.g. `"wx+"`: so that creating it
   * fails here, not on first use); every later open uses `flags`.
   * @throws LogStoreError `TOO_MANY_OPEN_FILES` when `createFlags` is given and no descriptor can be had
   */
  file(path: string, flags: OpenFlags, createFlags?: OpenFlags): FileHandle {
    const handle = new FileHandle(this, path, flags);
    if (createFlags !== undefined) {
      handle.openWith(createFlags, true);
      this.makeIdle(handle);
    }
    return handle;
  }

  /**
   * Closes the descriptors nobody has used for `idleMs` or more (returns how many): a partition that goes
   * quiet gives its descriptors back even while the pool has room. The store calls it every minute.
   */
  closeIdle(idleMs: number): number {
    const cutoff = this.now() - idleMs;
    let n = 0;
    // Least recently released first: stop at the first one used since the cutoff.
    for (const handle of [...this.idle]) {
      if (handle.releasedAt > cutoff) break;
      handle.closeFd();
      n++;
    }
    return n;
  }

  /** Closes every idle descriptor (returns how many); handles reopen on their next use. */
  evictAllIdle(): number {
    let n = 0;
    for (const handle of [...this.idle]) {
      this.evict(handle);
      n++;
    }
    return n;
  }

  /** @internal Opens a descriptor for `handle`, making room first. `sync`: may exceed the limit if all are in use. */
  openFd(path: string, flags: OpenFlags, sync: boolean): number | undefined {
    while (this.openCount >= this.limit) {
      const lru = this.idle.values().next();
      if (lru.done) {
        if (sync) break;
        return undefined; // the caller waits for a slot
      }
      this.evict(lru.value);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = this.base.openSync(path, flags);
        this.openCount++;
        this.stats.opens++;
        return fd;
      } catch (error) {
        if (!isFdExhaustion(error)) throw error;
        // Something else holds the process's descriptors (sockets, another library): give back ours.
        if (attempt === 0 && this.evictAllIdle() > 0) continue;
        if (!sync && this.openCount > 0) return undefined; // one in use will come back
        throw tooManyOpenFiles(path, error);
      }
    }
  }

  /** @internal Waits until a descriptor is given back (an asynchronous open found every one in use). */
  waitForSlot(): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ resolve }));
  }

  /** @internal `handle` is open and nobody uses it: it may be evicted. */
  makeIdle(handle: FileHandle): void {
    handle.releasedAt = this.now();
    this.idle.add(handle);
    // Back under the limit after synchronous users went past it.
    while (this.openCount > this.limit && this.idle.size > 0) this.evict(this.idle.values().next().value!);
    this.waiters.shift()?.resolve();
  }

  /** @internal `handle` is in use (or closed): it must not be evicted. */
  makeBusy(handle: FileHandle): void {
    this.idle.delete(handle);
  }

  /** @internal A descriptor was closed. */
  closed(handle: FileHandle): void {
    this.idle.delete(handle);
    this.openCount--;
    this.waiters.shift()?.resolve();
  }

  private evict(handle: FileHandle): void {
    this.stats.evictions++;
    handle.closeFd();
  }
}

/**
 * One file of a {@link HandleCache}: a path whose descriptor the cache opens on demand and may close
 * while nobody uses it. Use the descriptor only inside {@link FileHandle.use} / {@link FileHandle.useAsync}.
 */
export class FileHandle {
  private fd = -1;
  private users = 0;
  private closing = false;
  /** @internal When the descriptor was last given back (the cache's clock). */
  releasedAt = 0;

  constructor(
    private readonly cache: HandleCache,
    /** The file's path. */
    readonly path: string,
    private readonly flags: OpenFlags,
  ) {}

  /** Whether a descriptor is open now. */
  get isOpen(): boolean {
    return this.fd >= 0;
  }

  /**
   * Runs `fn` with the file's descriptor (opening it if needed), which stays open until `fn` returns.
   * @throws LogStoreError `TOO_MANY_OPEN_FILES` when no descriptor can be had, `STORE_CLOSED` after {@link close}
   */
  use<T>(fn: (fd: number) => T): T {
    const fd = this.pinSync();
    try {
      return fn(fd);
    } finally {
      this.unpin();
    }
  }

  /**
   * Runs `fn` with the file's descriptor, which stays open until the promise `fn` returns settles. When
   * every descriptor of the cache is in use, waits for one.
   * @throws LogStoreError `TOO_MANY_OPEN_FILES` when the process has no descriptor left, `STORE_CLOSED`
   */
  async useAsync<T>(fn: (fd: number) => Promise<T>): Promise<T> {
    const fd = await this.pin();
    try {
      return await fn(fd);
    } finally {
      this.unpin();
    }
  }

  /** Keeps the descriptor open (opening it, waiting for a slot if needed) until the matching {@link unpin}. */
  async pin(): Promise<number> {
    for (;;) {
      this.assertNotClosed();
      if (this.fd >= 0 || this.openWith(this.flags, false)) return this.take();
      await this.cache.waitForSlot();
    }
  }

  /** Synchronous {@link pin}: never waits (may exceed the cache's limit while every descriptor is in use). */
  pinSync(): number {
    this.assertNotClosed();
    if (this.fd < 0) this.openWith(this.flags, true);
    return this.take();
  }

  /** Ends a {@link pin}. */
  unpin(): void {
    if (--this.users > 0) return;
    if (this.closing) this.closeFd();
    else if (this.fd >= 0) this.cache.makeIdle(this);
  }

  /**
   * Closes the descriptor now, or when the last user is done (a read in progress finishes first); the
   * handle cannot be used afterwards. No fsync: the owner syncs before closing.
   */
  close(): void {
    this.closing = true;
    if (this.users === 0) this.closeFd();
  }

  /** @internal Opens with `flags`; `false` when an asynchronous open must wait for a slot. */
  openWith(flags: OpenFlags, sync: boolean): boolean {
    const fd = this.cache.openFd(this.path, flags, sync);
    if (fd === undefined) return false;
    this.fd = fd;
    return true;
  }

  /** @internal Closes the descriptor (eviction or close). */
  closeFd(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    this.cache.closed(this);
    this.cache.base.closeSync(fd);
  }

  private take(): number {
    this.users++;
    this.cache.makeBusy(this);
    return this.fd;
  }

  private assertNotClosed(): void {
    if (this.closing) throw new LogStoreError("STORE_CLOSED", `${this.path} is closed`);
  }
}

/** `base`, where an open that meets `EMFILE`/`ENFILE` calls `evict` and, if it freed any, tries once more. */
function evictingFileSystem(base: FileSystem, evict: () => number): FileSystem {
  const retry =
    <A extends unknown[], R>(op: (...args: A) => R) =>
    (...args: A): R => {
      try {
        return op(...args);
      } catch (error) {
        if (!isFdExhaustion(error) || evict() === 0) throw error;
        return op(...args);
      }
    };
  const retryAsync =
    <A extends unknown[], R>(op: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await op(...args);
      } catch (error) {
        if (!isFdExhaustion(error) || evict() === 0) throw error;
        return op(...args);
      }
    };
  return {
    openSync: retry((path, flags) => base.openSync(path, flags)),
    closeSync: (fd) => base.closeSync(fd),
    writeSync: (fd, buf, offset, length, position) => base.writeSync(fd, buf, offset, length, position),
    ...(base.write !== undefined ? { write: base.write.bind(base) } : {}),
    read: (fd, buf, offset, length, position) => base.read(fd, buf, offset, length, position),
    ...(base.readSync !== undefined ? { readSync: base.readSync.bind(base) } : {}),
    fileSize: (fd) => base.fileSize(fd),
    ftruncateSync: (fd, length) => base.ftruncateSync(fd, length),
    fsyncSync: (fd) => base.fsyncSync(fd),
    fsync: (fd) => base.fsync(fd),
    fdatasyncSync: (fd) => base.fdatasyncSync(fd),
    fdatasync: (fd) => base.fdatasync(fd),
    readFileSync: retry((path) => base.readFileSync(path)),
    readdirSync: retry((path) => base.readdirSync(path)),
    isDirectory: (path) => base.isDirectory(path),
    existsSync: (path) => base.existsSync(path),
    mkdirSync: (path, options) => base.mkdirSync(path, options),
    renameSync: (from, to) => base.renameSync(from, to),
    removeSync: retry((path) => base.removeSync(path)),
    remove: retryAsync((path) => base.remove(path)),
  };
}
