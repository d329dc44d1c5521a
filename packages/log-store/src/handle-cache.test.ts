import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { isLogStoreError } from "./errors.js";
import { nodeFileSystem, type FileSystem } from "./file-system.js";
import { HandleCache, defaultMaxOpenFiles, openFileLimit, type FileHandle } from "./handle-cache.js";

/** The real file system, counting the descriptors it holds, failing opens with `code` past `maxOpen`. */
function countingFs(maxOpen = Infinity, code = "EMFILE"): FileSystem & { held: Set<number>; peak: number } {
  const held = new Set<number>();
  const fs = {
    ...nodeFileSystem,
    held,
    peak: 0,
    openSync(path: string, flags: Parameters<FileSystem["openSync"]>[1]) {
      if (held.size >= maxOpen) throw Object.assign(new Error(`${code}: too many open files, open '${path}'`), { code });
      const fd = nodeFileSystem.openSync(path, flags);
      held.add(fd);
      fs.peak = Math.max(fs.peak, held.size);
      return fd;
    },
    closeSync(fd: number) {
      if (!held.delete(fd)) throw new Error(`closing fd ${fd} that is not open`);
      nodeFileSystem.closeSync(fd);
    },
    readFileSync(path: string) {
      if (held.size >= maxOpen) throw Object.assign(new Error(`${code}: too many open files, open '${path}'`), { code });
      return nodeFileSystem.readFileSync(path);
    },
  };
  return fs;
}

function files(n: number): string[] {
  const dir = tempDir();
  return Array.from({ length: n }, (_, i) => {
    const path = join(dir, `f${i}`);
    writeFileSync(path, `file ${i}`);
    return path;
  });
}

const read = (cache: HandleCache, handle: FileHandle) =>
  handle.useAsync(async (fd) => {
    const buf = Buffer.alloc(16);
    const n = await cache.base.read(fd, buf, 0, 16, 0);
    return buf.subarray(0, n).toString();
  });

describe("HandleCache", () => {
  it("keeps at most `limit` descriptors open, closing the least recently used", async () => {
    const fs = countingFs();
    const cache = new HandleCache(fs, 4);
    const paths = files(10);
    const handles = paths.map((p) => cache.file(p, "r"));
    expect(cache.open).toBe(0); // registered, not opened
    for (let i = 0; i < 10; i++) expect(await read(cache, handles[i]!)).toBe(`file ${i}`);
    expect(fs.peak).toBe(4);
    expect(cache.open).toBe(4);
    expect(handles.map((h) => h.isOpen)).toEqual([false, false, false, false, false, false, true, true, true, true]);
    // Using 6 makes 7 the least recently used: opening 0 closes 7.
    handles[6]!.use(() => undefined);
    await read(cache, handles[0]!);
    expect(handles.map((h) => h.isOpen)).toEqual([true, false, false, false, false, false, true, false, true, true]);
    expect(cache.stats).toEqual({ opens: 11, evictions: 7 });
  });

  it("never closes a descriptor in use; an asynchronous user waits for one to come back", async () => {
    const fs = countingFs();
    const cache = new HandleCache(fs, 4);
    const handles = files(5).map((p) => cache.file(p, "r"));
    const fds = await Promise.all(handles.slice(0, 4).map((h) => h.pin()));
    let got: string | undefined;
    const waiting = read(cache, handles[4]!).then((text) => (got = text));
    await new Promise((resolve) => setImmediate(resolve));
    expect(got).toBeUndefined();
    expect(handles.slice(0, 4).every((h) => h.isOpen)).toBe(true);
    expect(new Set(fds).size).toBe(4);
    handles[2]!.unpin(); // idle now: the waiter evicts it
    await waiting;
    expect(got).toBe("file 4");
    expect(handles[2]!.isOpen).toBe(false);
    expect(fs.peak).toBe(4);
    for (const i of [0, 1, 3]) handles[i]!.unpin();
  });

  it("lets a synchronous user past the limit when every descriptor is in use", async () => {
    const fs = countingFs();
    const cache = new HandleCache(fs, 4);
    const handles = files(5).map((p) => cache.file(p, "r"));
    for (const h of handles.slice(0, 4)) await h.pin();
    expect(handles[4]!.use((fd) => fd >= 0)).toBe(true);
    expect(fs.peak).toBe(5);
    expect(cache.open).toBe(4); // closed again at once: it was the only idle one
    handles[4]!.pinSync();
    expect(cache.open).toBe(5);
    // Back under the limit as soon as a descriptor is free.
    handles[0]!.unpin();
    expect(cache.open).toBe(4);
    expect(handles[0]!.isOpen).toBe(false);
    for (const h of handles.slice(1)) h.unpin();
    expect(cache.open).toBe(4);
  });

  it("closes a handle in use when its last user is done, and refuses it afterwards", async () => {
    const fs = countingFs();
    const cache = new HandleCache(fs, 4);
    const [path] = files(1);
    const handle = cache.file(path!, "r");
    await handle.pin();
    handle.close();
    expect(handle.isOpen).toBe(true); // a read is still in progress
    expect(await read(cache, handle).catch((e: unknown) => e)).toMatchObject({ code: "STORE_CLOSED" });
    handle.unpin();
    expect(handle.isOpen).toBe(false);
    expect(fs.held.size).toBe(0);
    expect(() => handle.use(() => undefined)).toThrow(expect.objectContaining({ code: "STORE_CLOSED" }));
  });

  it("creates with one set of flags and reopens with another", () => {
    const cache = new HandleCache(countingFs(), 4);
    const path = join(tempDir(), "new");
    const handle = cache.file(path, "r+", "wx+");
    expect(handle.isOpen).toBe(true);
    expect(() => cache.file(path, "r+", "wx+")).toThrow(expect.objectContaining({ code: "EEXIST" }));
    handle.use((fd) => cache.base.writeSync(fd, Buffer.from("abc"), 0, 3, 0));
    cache.evictAllIdle();
    handle.use((fd) => cache.base.writeSync(fd, Buffer.from("X"), 0, 1, 1)); // r+: not truncated
    expect(cache.base.readFileSync(path).toString()).toBe("aXc");
  });

  it("answers EMFILE by closing idle descriptors and retrying, else with TOO_MANY_OPEN_FILES", async () => {
    const fs = countingFs(3); // the process has room for 3, the cache thinks 10
    const cache = new HandleCache(fs, 10);
    const handles = files(5).map((p) => cache.file(p, "r"));
    for (let i = 0; i < 5; i++) expect(await read(cache, handles[i]!)).toBe(`file ${i}`);
    expect(fs.peak).toBe(3);
    expect(cache.open).toBe(2); // the 4th open met EMFILE: the 3 idle ones were closed
    await read(cache, handles[0]!);
    expect(cache.open).toBe(3);
    // Everything else of the store goes through cache.fs, which also gives idle descriptors back first.
    expect(cache.fs.readFileSync(handles[0]!.path).toString()).toBe("file 0");
    expect(cache.open).toBe(0);
    for (const h of handles.slice(0, 3)) h.pinSync();
    let error: unknown;
    try {
      handles[3]!.pinSync();
    } catch (e) {
      error = e;
    }
    expect(isLogStoreError(error)).toBe(true);
    expect(error).toMatchObject({ code: "TOO_MANY_OPEN_FILES", retriable: true });
    expect((error as Error).message).toContain(handles[3]!.path);
    // An asynchronous user waits for one in use to come back instead.
    const waiting = read(cache, handles[4]!);
    handles[1]!.unpin();
    expect(await waiting).toBe("file 4");
    handles[0]!.unpin();
    handles[2]!.unpin();
  });

  it("closes descriptors unused for a while, even with room in the pool", async () => {
    let now = 1_000;
    const fs = countingFs();
    const cache = new HandleCache(fs, 100, () => now);
    const handles = files(3).map((p) => cache.file(p, "r"));
    await read(cache, handles[0]!);
    now += 400;
    await read(cache, handles[1]!);
    await handles[2]!.pin(); // in use: never closed
    now += 700;
    expect(cache.closeIdle(1_000)).toBe(1); // only handles[0] has been idle for 1 s
    expect(handles.map((h) => h.isOpen)).toEqual([false, true, true]);
    now += 10_000;
    expect(cache.closeIdle(1_000)).toBe(1);
    expect(handles.map((h) => h.isOpen)).toEqual([false, false, true]);
    handles[2]!.unpin();
    expect(cache.closeIdle(1_000)).toBe(0); // just released
    expect(await read(cache, handles[0]!)).toBe("file 0"); // reopened on use
  });

  it("refuses a limit below the minimum", () => {
    expect(() => new HandleCache(nodeFileSystem, 3)).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
    expect(() => new HandleCache(nodeFileSystem, 1.5)).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
  });
});

describe("defaultMaxOpenFiles", () => {
  it("is 1000, or half the process's descriptor limit when that is lower", () => {
    expect(defaultMaxOpenFiles(1_048_576)).toBe(1000);
    expect(defaultMaxOpenFiles(1024)).toBe(512);
    expect(defaultMaxOpenFiles(5)).toBe(4);
    expect(defaultMaxOpenFiles(undefined)).toBe(1000);
  });

  it("reads the soft limit from /proc/self/limits", () => {
    const limits = [
      "Limit                     Soft Limit           Hard Limit           Units     ",
      "Max processes             63704                63704                processes ",
      "Max open files            1024                 524288               files     ",
      "",
    ].join("\n");
    expect(openFileLimit(() => limits)).toBe(1024);
    expect(openFileLimit(() => limits.replace("1024 ", "unlimited "))).toBe(Number.MAX_SAFE_INTEGER);
    expect(openFileLimit(() => "nothing here")).toBeUndefined();
    expect(
      openFileLimit(() => {
        throw new Error("ENOENT");
      }),
    ).toBeUndefined();
    if (process.platform === "linux") expect(openFileLimit()).toBeGreaterThan(0);
  });
});
