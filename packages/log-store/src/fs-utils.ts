import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { Buffer } from "node:buffer";
import type { FileSystem } from "./file-system.js";

/** Writes all of `buf` at `position`, looping over short writes. */
export function writeFully(fs: FileSystem, fd: number, buf: Uint8Array, position: number | null): void {
  let done = 0;
  while (done < buf.length) {
    done += fs.writeSync(fd, buf, done, buf.length - done, position === null ? null : position + done);
  }
}

/**
 * Writes all of `buf` at `position` with {@link FileSystem.write} (the thread pool, so the event loop keeps
 * running while the kernel copies and throttles), or `writeSync` when the file system has no `write`.
 */
export async function writeFullyAsync(fs: FileSystem, fd: number, buf: Uint8Array, position: number): Promise<void> {
  if (fs.write === undefined) return writeFully(fs, fd, buf, position);
  let done = 0;
  while (done < buf.length) done += await fs.write(fd, buf, done, buf.length - done, position + done);
}

/** fsyncs a directory so that entries created, renamed or removed in it are durable. */
export async function fsyncDir(fs: FileSystem, path: string): Promise<void> {
  const fd = fs.openSync(path, "r");
  try {
    await fs.fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Synchronous {@link fsyncDir}. */
export function fsyncDirSync(fs: FileSystem, path: string): void {
  const fd = fs.openSync(path, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const tempPath = (path: string): string => join(dirname(path), `~tmp~${randomBytes(6).toString("hex")}`);

/**
 * Replaces `path` atomically: write a temp file beside it, fsync it, rename over `path`, fsync the
 * directory. A crash leaves either the old or the new content, never a mix. With `sync: false` the
 * fsyncs are skipped (the rename is still atomic, but not necessarily durable).
 */
export async function writeFileAtomic(fs: FileSystem, path: string, data: string | Uint8Array, sync = true): Promise<void> {
  const tmp = tempPath(path);
  const fd = fs.openSync(tmp, "w");
  try {
    writeFully(fs, fd, typeof data === "string" ? Buffer.from(data) : data, 0);
    if (sync) await fs.fsync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.removeSync(tmp);
    throw error;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, path);
  if (sync) await fsyncDir(fs, dirname(path));
}

/** Synchronous {@link writeFileAtomic} (used where the append path must not yield). */
export function writeFileAtomicSync(fs: FileSystem, path: string, data: Uint8Array, sync = true): void {
  const tmp = tempPath(path);
  const fd = fs.openSync(tmp, "w");
  try {
    writeFully(fs, fd, data, 0);
    if (sync) fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.removeSync(tmp);
    throw error;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, path);
  if (sync) fsyncDirSync(fs, dirname(path));
}

/** Whether a directory entry is a leftover temp file of {@link writeFileAtomic}. */
export const isTempFile = (name: string): boolean => name.startsWith("~tmp~");

/** Error code of a Node.js system error, if any. */
export function errnoCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : undefined;
}
