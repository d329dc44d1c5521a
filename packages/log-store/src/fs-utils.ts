import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { dirname, join } from "node:path";
import { Buffer } from "node:buffer";

/** Promisified positional read; resolves with the number of bytes read. */
export function readAt(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, offset, length, position, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead)));
  });
}

/** Promisified fdatasync. */
export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Writes all of `buf` at `position`, looping over short writes. */
export function writeFully(fd: number, buf: Uint8Array, position: number | null): void {
  let done = 0;
  while (done < buf.length) {
    done += fs.writeSync(fd, buf, done, buf.length - done, position === null ? null : position + done);
  }
}

/** fsyncs a directory so that entries created, renamed or removed in it are durable. */
export async function fsyncDir(path: string): Promise<void> {
  const handle = await fs.promises.open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Synchronous {@link fsyncDir}. */
export function fsyncDirSync(path: string): void {
  const fd = fs.openSync(path, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Replaces `path` atomically: write a temp file beside it, fsync it, rename over `path`, fsync the
 * directory. A crash leaves either the old or the new content, never a mix. With `sync: false` the
 * fsyncs are skipped (the rename is still atomic, but not necessarily durable).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, sync = true): Promise<void> {
  const tmp = join(dirname(path), `~tmp~${randomBytes(6).toString("hex")}`);
  const handle = await fs.promises.open(tmp, "w");
  try {
    await handle.writeFile(data);
    if (sync) await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.promises.rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  await fs.promises.rename(tmp, path);
  if (sync) await fsyncDir(dirname(path));
}

/** Synchronous {@link writeFileAtomic} (used where the append path must not yield). */
export function writeFileAtomicSync(path: string, data: Uint8Array, sync = true): void {
  const tmp = join(dirname(path), `~tmp~${randomBytes(6).toString("hex")}`);
  const fd = fs.openSync(tmp, "w");
  try {
    writeFully(fd, data, 0);
    if (sync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
  if (sync) fsyncDirSync(dirname(path));
}

/** Whether a directory entry is a leftover temp file of {@link writeFileAtomic}. */
export const isTempFile = (name: string): boolean => name.startsWith("~tmp~");

/** Error code of a Node.js system error, if any. */
export function errnoCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : undefined;
}
