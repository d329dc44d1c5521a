import * as fs from "node:fs";
import type { Buffer } from "node:buffer";

/** Flags log-store opens files with (`node:fs` meanings). */
export type OpenFlags = "r" | "r+" | "w" | "wx" | "wx+" | "a";

/**
 * Every file operation log-store performs, one method per syscall, so that tests can run the store on a
 * simulated disk (power loss, torn writes, a full disk). The real implementation is {@link nodeFileSystem};
 * nothing outside this package sees the seam. Synchronous methods throw `node:fs`-style errors (with
 * `code`, e.g. `ENOENT`, `ENOSPC`); asynchronous ones reject with them.
 */
export interface FileSystem {
  openSync(path: string, flags: OpenFlags): number;
  closeSync(fd: number): void;
  /** Writes up to `length` bytes of `buf` from `offset` at file `position` (`null`: at the current position / append). */
  writeSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number | null): number;
  /**
   * Positional write off the main thread; resolves with the number of bytes written. Optional: without it
   * {@link writeFullyAsync} falls back to `writeSync`.
   */
  write?(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Positional read; resolves with the number of bytes read (0 at the end of the file). */
  read(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  /**
   * Synchronous {@link FileSystem.read}, for bytes the process wrote moments ago (in the page cache, so no
   * disk wait; see `LogSegment.read`). Optional: without it every read goes through {@link FileSystem.read}.
   */
  readSync?(fd: number, buf: Buffer, offset: number, length: number, position: number): number;
  /** Size in bytes of the open file. */
  fileSize(fd: number): number;
  ftruncateSync(fd: number, length: number): void;
  /** fsync (files and directories alike: a directory's descriptor makes its entries durable). */
  fsyncSync(fd: number): void;
  fsync(fd: number): Promise<void>;
  fdatasyncSync(fd: number): void;
  fdatasync(fd: number): Promise<void>;
  readFileSync(path: string): Buffer;
  /** Entry names of a directory. */
  readdirSync(path: string): string[];
  /** Whether `path` exists and is a directory. */
  isDirectory(path: string): boolean;
  existsSync(path: string): boolean;
  mkdirSync(path: string, options?: { recursive?: boolean }): void;
  renameSync(from: string, to: string): void;
  /** Removes a file, or a directory with everything in it; a missing path is not an error. */
  removeSync(path: string): void;
  /** Asynchronous {@link FileSystem.removeSync}, for trees that may be large. */
  remove(path: string): Promise<void>;
}

const callback =
  (resolve: () => void, reject: (error: Error) => void) =>
  (error: NodeJS.ErrnoException | null): void =>
    error ? reject(error) : resolve();

/** The real file system (`node:fs`). */
export const nodeFileSystem: FileSystem = {
  openSync: (path, flags) => fs.openSync(path, flags),
  closeSync: (fd) => fs.closeSync(fd),
  writeSync: (fd, buf, offset, length, position) => fs.writeSync(fd, buf, offset, length, position),
  write: (fd, buf, offset, length, position) =>
    new Promise((resolve, reject) => fs.write(fd, buf, offset, length, position, (error, written) => (error ? reject(error) : resolve(written)))),
  read: (fd, buf, offset, length, position) =>
    new Promise((resolve, reject) => fs.read(fd, buf, offset, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)))),
  readSync: (fd, buf, offset, length, position) => fs.readSync(fd, buf, offset, length, position),
  fileSize: (fd) => fs.fstatSync(fd).size,
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  fsync: (fd) => new Promise((resolve, reject) => fs.fsync(fd, callback(resolve, reject))),
  fdatasyncSync: (fd) => fs.fdatasyncSync(fd),
  fdatasync: (fd) => new Promise((resolve, reject) => fs.fdatasync(fd, callback(resolve, reject))),
  readFileSync: (path) => fs.readFileSync(path),
  readdirSync: (path) => fs.readdirSync(path),
  isDirectory: (path) => fs.statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false,
  existsSync: (path) => fs.existsSync(path),
  mkdirSync: (path, options) => void fs.mkdirSync(path, options),
  renameSync: (from, to) => fs.renameSync(from, to),
  removeSync: (path) => fs.rmSync(path, { recursive: true, force: true }),
  remove: (path) => fs.promises.rm(path, { recursive: true, force: true }),
};
