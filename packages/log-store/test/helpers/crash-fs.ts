// A simulated disk for log-store tests: an in-memory FileSystem that knows, for every file and directory,
// what is only in the "page cache" and what an fsync has made durable. It can lose power at any numbered
// operation, and it can run out of space.
//
// Model (what a journaling Linux file system guarantees, and no more):
// - A file's data is durable up to its last completed fsync/fdatasync (the content as of the call).
//   Unsynced data vanishes at a power loss, except that data appended since the last fsync may survive as a
//   prefix cut at a 512-byte boundary of the file (the disk wrote some sectors of the page cache, in order).
// - A directory's entries (create, rename, unlink, mkdir) are durable once the directory itself is fsynced.
//   At a power loss each directory comes back either with its durable entries or with its current ones.
// - The operation the power fails *at* does not complete; if it is a write, a 512-byte-aligned prefix of it
//   may reach the page cache first (a torn write). Every later operation fails with EIO, and async
//   operations still in flight at that moment never report success.
// - With `capacity` set, writes beyond it are short, then fail with ENOSPC (as on Linux).
import { Buffer } from "node:buffer";
import { basename, dirname, resolve } from "node:path";
import type { FileSystem, OpenFlags } from "../../src/file-system.js";

interface FileNode {
  kind: "file";
  data: Buffer;
  size: number;
  durable: Buffer;
  /** Whether the data since the last fsync only extends the durable content (no overwrite or truncation below it). */
  extendsDurable: boolean;
}

interface DirNode {
  kind: "dir";
  entries: Map<string, Node>;
  durable: Map<string, Node>;
}

type Node = FileNode | DirNode;

/** What an fsync captured of a node when it was called, numbered in call order. */
interface Captured {
  seq: number;
  state: Buffer | Map<string, Node>;
}

interface OpenFile {
  node: Node;
  path: string;
  position: number;
  append: boolean;
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sysError(code: string, message: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: ${message}`) as NodeJS.ErrnoException;
  error.code = code;
  return error;
}

const SECTOR = 512;
/** What every operation fails with once the power is off (one instance: thousands are thrown per run). */
const OFF = sysError("EIO", "simulated power loss: the machine is off");

/** The simulated file system. All paths are made absolute with `path.resolve`. */
export class CrashFs implements FileSystem {
  private root: DirNode = { kind: "dir", entries: new Map(), durable: new Map() };
  private readonly fds = new Map<number, OpenFile>();
  private nextFd = 1000;
  private dead = false;
  /** Numbered operations so far (everything that changes state, and every fsync). */
  ops = 0;
  /** Lose power at this operation number (1-based), if set. */
  crashAt: number | undefined;
  /** Bytes of file data the disk can hold; `undefined`: unlimited. */
  capacity: number | undefined;
  /** The most recent operations, for failure messages. */
  readonly trace: string[] = [];
  /** Numbers the states fsyncs capture, and the newest one committed per node (see commit). */
  private captures = 0;
  private readonly committed = new WeakMap<Node, number>();

  constructor(private readonly rand: () => number = random(1)) {}

  /** Whether the power has failed. */
  get poweredOff(): boolean {
    return this.dead;
  }

  /** Bytes of file data currently stored (reachable from the root or still open). */
  get used(): number {
    const seen = new Set<Node>();
    let total = 0;
    const visit = (node: Node): void => {
      if (seen.has(node)) return;
      seen.add(node);
      if (node.kind === "file") total += node.size;
      else for (const child of node.entries.values()) visit(child);
    };
    visit(this.root);
    for (const open of this.fds.values()) visit(open.node);
    return total;
  }

  /** Makes everything durable now (for setting up a starting state). */
  syncAll(): void {
    const visit = (node: Node): void => {
      if (node.kind === "file") {
        node.durable = Buffer.from(node.data.subarray(0, node.size));
        node.extendsDurable = true;
      } else {
        node.durable = new Map(node.entries);
        for (const child of node.entries.values()) visit(child);
      }
    };
    visit(this.root);
  }

  /**
   * The disk as it comes back after the power failed (now, or at `crashAt`): a new, powered file system
   * holding only what survived, chosen with `rand`.
   */
  afterPowerLoss(rand: () => number = this.rand): CrashFs {
    const next = new CrashFs(rand);
    const copies = new Map<Node, Node>();
    const copy = (node: Node): Node => {
      const known = copies.get(node);
      if (known) return known;
      if (node.kind === "file") {
        let length = node.durable.length;
        let content = node.durable;
        if (node.extendsDurable && node.size > length) {
          // Some sectors of the unsynced tail may have reached the disk, in order.
          const cuts = [length];
          for (let s = Math.floor(length / SECTOR) + 1; s * SECTOR < node.size; s++) cuts.push(s * SECTOR);
          cuts.push(node.size);
          length = cuts[Math.floor(rand() * cuts.length)]!;
          content = node.data.subarray(0, length);
        }
        const file: FileNode = { kind: "file", data: Buffer.from(content), size: length, durable: Buffer.from(content), extendsDurable: true };
        copies.set(node, file);
        return file;
      }
      const dir: DirNode = { kind: "dir", entries: new Map(), durable: new Map() };
      copies.set(node, dir);
      const entries = rand() < 0.5 ? node.durable : node.entries;
      for (const [name, child] of entries) dir.entries.set(name, copy(child));
      dir.durable = new Map(dir.entries);
      return dir;
    };
    next.root = copy(this.root) as DirNode;
    return next;
  }

  // ---- FileSystem ----

  openSync(path: string, flags: OpenFlags): number {
    const abs = resolve(path);
    this.checkAlive();
    const existing = this.lookup(abs);
    if (flags === "wx" || flags === "wx+") {
      if (existing) throw sysError("EEXIST", `file already exists, open '${abs}'`);
    }
    let node = existing;
    if (!node) {
      if (flags === "r" || flags === "r+") throw sysError("ENOENT", `no such file or directory, open '${abs}'`);
      this.op(`create ${abs}`);
      const parent = this.parentDir(abs);
      node = { kind: "file", data: Buffer.alloc(0), size: 0, durable: Buffer.alloc(0), extendsDurable: true };
      parent.entries.set(basename(abs), node);
    } else if (flags === "w") {
      if (node.kind !== "file") throw sysError("EISDIR", `illegal operation on a directory, open '${abs}'`);
      this.op(`truncate-open ${abs}`);
      this.setSize(node, 0);
    }
    if (node.kind === "dir" && flags !== "r") throw sysError("EISDIR", `illegal operation on a directory, open '${abs}'`);
    const fd = this.nextFd++;
    this.fds.set(fd, { node, path: abs, position: 0, append: flags === "a" });
    return fd;
  }

  closeSync(fd: number): void {
    // Never fails, not even with the power off: closing only releases the descriptor.
    if (!this.fds.delete(fd)) throw sysError("EBADF", `bad file descriptor ${fd}`);
  }

  /** {@link writeSync} on a later turn of the event loop (the bytes are read then, as the kernel would). */
  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.later(() => this.writeSync(fd, buf, offset, length, position));
  }

  writeSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number | null): number {
    const open = this.open(fd);
    const node = this.fileOf(open);
    const at = open.append ? node.size : (position ?? open.position);
    let n = length;
    if (this.capacity !== undefined) {
      const growth = Math.max(0, at + length - node.size);
      const free = Math.max(0, this.capacity - this.used);
      if (growth > free) {
        n = Math.max(0, free - Math.max(0, at - node.size));
        if (n === 0) {
          this.trace.push(`ENOSPC write ${open.path} @${at} +${length}`);
          throw sysError("ENOSPC", `no space left on device, write`);
        }
      }
    }
    if (this.ops + 1 === this.crashAt) {
      // The power fails during this write: a sector-aligned prefix of it may reach the page cache.
      const end = at + n;
      const cuts = [at];
      for (let s = Math.floor(at / SECTOR) + 1; s * SECTOR < end; s++) cuts.push(s * SECTOR);
      const cut = cuts[Math.floor(this.rand() * cuts.length)]!;
      if (cut > at) this.put(node, buf.subarray(offset, offset + (cut - at)), at);
    }
    this.op(`write ${open.path} @${at} +${n}`);
    this.put(node, buf.subarray(offset, offset + n), at);
    if (position === null) open.position = at + n;
    return n;
  }

  read(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.later(() => this.readSync(fd, buf, offset, length, position));
  }

  readSync(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
    const node = this.fileOf(this.open(fd));
    const n = Math.max(0, Math.min(length, node.size - position));
    node.data.copy(buf, offset, position, position + n);
    return n;
  }

  fileSize(fd: number): number {
    return this.fileOf(this.open(fd)).size;
  }

  ftruncateSync(fd: number, length: number): void {
    const open = this.open(fd);
    const node = this.fileOf(open);
    this.op(`ftruncate ${open.path} ${length}`);
    this.setSize(node, length);
  }

  fsyncSync(fd: number): void {
    const open = this.open(fd);
    this.op(`fsync ${open.path}`);
    this.commit(open.node, this.capture(open.node));
  }

  fsync(fd: number): Promise<void> {
    let open: OpenFile;
    try {
      open = this.open(fd);
      this.op(`fsync ${open.path}`);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const captured = this.capture(open.node);
    return this.later(() => this.commit(open.node, captured));
  }

  fdatasyncSync(fd: number): void {
    this.fsyncSync(fd);
  }

  fdatasync(fd: number): Promise<void> {
    return this.fsync(fd);
  }

  readFileSync(path: string): Buffer {
    this.checkAlive();
    const node = this.lookup(resolve(path));
    if (!node) throw sysError("ENOENT", `no such file or directory, open '${path}'`);
    if (node.kind !== "file") throw sysError("EISDIR", `illegal operation on a directory, read '${path}'`);
    return Buffer.from(node.data.subarray(0, node.size));
  }

  readdirSync(path: string): string[] {
    this.checkAlive();
    const node = this.lookup(resolve(path));
    if (!node) throw sysError("ENOENT", `no such file or directory, scandir '${path}'`);
    if (node.kind !== "dir") throw sysError("ENOTDIR", `not a directory, scandir '${path}'`);
    return [...node.entries.keys()].sort();
  }

  isDirectory(path: string): boolean {
    this.checkAlive();
    return this.lookup(resolve(path))?.kind === "dir";
  }

  existsSync(path: string): boolean {
    this.checkAlive();
    return this.lookup(resolve(path)) !== undefined;
  }

  mkdirSync(path: string, options?: { recursive?: boolean }): void {
    const abs = resolve(path);
    this.checkAlive();
    const existing = this.lookup(abs);
    if (existing) {
      if (options?.recursive && existing.kind === "dir") return;
      throw sysError("EEXIST", `file already exists, mkdir '${abs}'`);
    }
    if (options?.recursive && abs !== dirname(abs) && !this.lookup(dirname(abs))) this.mkdirSync(dirname(abs), options);
    const parent = this.parentDir(abs);
    this.op(`mkdir ${abs}`);
    parent.entries.set(basename(abs), { kind: "dir", entries: new Map(), durable: new Map() });
  }

  renameSync(from: string, to: string): void {
    const src = resolve(from);
    const dst = resolve(to);
    this.checkAlive();
    const node = this.lookup(src);
    if (!node) throw sysError("ENOENT", `no such file or directory, rename '${src}' -> '${dst}'`);
    const target = this.lookup(dst);
    if (target?.kind === "dir" && (node.kind !== "dir" || target.entries.size > 0))
      throw sysError("ENOTEMPTY", `directory not empty, rename '${src}' -> '${dst}'`);
    const toParent = this.parentDir(dst);
    this.op(`rename ${src} -> ${dst}`);
    this.parentDir(src).entries.delete(basename(src));
    toParent.entries.set(basename(dst), node);
  }

  removeSync(path: string): void {
    const abs = resolve(path);
    this.checkAlive();
    if (!this.lookup(abs)) return;
    this.op(`remove ${abs}`);
    this.parentDir(abs).entries.delete(basename(abs));
  }

  remove(path: string): Promise<void> {
    try {
      this.removeSync(path);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.later(() => undefined);
  }

  // ---- internals ----

  private checkAlive(): void {
    if (this.dead) throw OFF;
  }

  /** Counts one operation; the power fails if it is the chosen one. */
  private op(what: string): void {
    this.checkAlive();
    this.ops++;
    this.trace.push(what);
    if (this.trace.length > 40) this.trace.shift();
    if (this.ops === this.crashAt) {
      this.dead = true;
      this.trace.push("-- power lost --");
      throw sysError("EIO", `simulated power loss at operation ${this.ops} (${what})`);
    }
  }

  /** Resolves on a later turn of the event loop, unless the power fails first. */
  private later<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolvePromise, reject) => {
      setImmediate(() => {
        if (this.dead) return reject(OFF);
        try {
          resolvePromise(run());
        } catch (error) {
          reject(error as Error);
        }
      });
    });
  }

  private capture(node: Node): Captured {
    return { seq: ++this.captures, state: node.kind === "file" ? Buffer.from(node.data.subarray(0, node.size)) : new Map(node.entries) };
  }

  /**
   * Makes a captured state durable. Durability only moves forward: an fsync that was called before another
   * one but completes after it (an async directory fsync overtaken by a synchronous one) does not take
   * back what the later call made durable.
   */
  private commit(node: Node, { seq, state: captured }: Captured): void {
    if ((this.committed.get(node) ?? 0) > seq) return;
    this.committed.set(node, seq);
    if (node.kind === "file") {
      node.durable = captured as Buffer;
      // Writes made after the captured point extend it only if nothing below it changed since.
      node.extendsDurable = node.size >= node.durable.length && node.data.subarray(0, node.durable.length).equals(node.durable);
    } else node.durable = captured as Map<string, Node>;
  }

  private open(fd: number): OpenFile {
    this.checkAlive();
    const open = this.fds.get(fd);
    if (!open) throw sysError("EBADF", `bad file descriptor ${fd}`);
    return open;
  }

  private fileOf(open: OpenFile): FileNode {
    if (open.node.kind !== "file") throw sysError("EISDIR", `illegal operation on a directory '${open.path}'`);
    return open.node;
  }

  private lookup(abs: string): Node | undefined {
    if (abs === "/") return this.root;
    let node: Node = this.root;
    for (const part of abs.split("/").filter(Boolean)) {
      if (node.kind !== "dir") return undefined;
      const child = node.entries.get(part);
      if (!child) return undefined;
      node = child;
    }
    return node;
  }

  private parentDir(abs: string): DirNode {
    const parent = this.lookup(dirname(abs));
    if (!parent) throw sysError("ENOENT", `no such file or directory '${dirname(abs)}'`);
    if (parent.kind !== "dir") throw sysError("ENOTDIR", `not a directory '${dirname(abs)}'`);
    return parent;
  }

  private put(node: FileNode, bytes: Uint8Array, at: number): void {
    const end = at + bytes.length;
    if (at < node.durable.length) node.extendsDurable = false;
    if (end > node.data.length) {
      const grown = Buffer.alloc(Math.max(end, node.data.length * 2, 4096));
      node.data.copy(grown, 0, 0, node.size);
      node.data = grown;
    }
    if (at > node.size) node.data.fill(0, node.size, at);
    node.data.set(bytes, at);
    if (end > node.size) node.size = end;
  }

  private setSize(node: FileNode, length: number): void {
    if (length < node.durable.length) node.extendsDurable = false;
    if (length > node.size) this.put(node, new Uint8Array(length - node.size), node.size);
    else node.size = length;
  }
}
