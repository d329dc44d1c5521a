// The data-directory lock against real processes: concurrent openers, kill -9 without reaping, pid reuse.
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exited, onLines, spawnTs } from "../../../test-support/spawn-ts.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { DirectoryLock, LOCK_DIR, currentBootId, processState, whyStale, type LockOwner } from "./directory-lock.js";
import { isLogStoreError } from "./errors.js";

const childFile = fileURLToPath(new URL("../test/helpers/lock-child.ts", import.meta.url));
const NO_SUCH_PID = 2147483646; // above any pid_max

/** A child process with a queue of its stdout lines. */
interface Contender {
  process: ChildProcessWithoutNullStreams;
  next(): Promise<string>;
  send(line: string): void;
}

function contender(): Contender {
  const child = spawnTs(childFile, []);
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += String(chunk)));
  onLines(child, (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter(line);
    else lines.push(line);
  });
  child.once("exit", () => {
    for (const waiter of waiting.splice(0)) waiter(`exited ${stderr}`);
  });
  return {
    process: child,
    next: () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise((resolve) => waiting.push(resolve))),
    send: (line) => child.stdin.write(`${line}\n`),
  };
}

function writeLockFile(dir: string, generation: number, owner: Partial<LockOwner>): void {
  mkdirSync(join(dir, LOCK_DIR), { recursive: true });
  const full = { pid: NO_SUCH_PID, bootId: currentBootId(), hostname: "elsewhere", acquiredAt: "2020-01-01T00:00:00.000Z", nonce: "n", ...owner };
  writeFileSync(join(dir, LOCK_DIR, String(generation).padStart(20, "0")), JSON.stringify(full));
}

/** Spins (no sleep: the state changes in the kernel, with no event to await) until `done()` or 10 s pass. */
function spinUntil(done: () => boolean): void {
  const deadline = Date.now() + 10_000;
  while (!done()) if (Date.now() > deadline) throw new Error("condition not reached within 10 s");
}

describe("DirectoryLock under concurrent openers", () => {
  const N = 4;
  let contenders: Contender[] = [];

  beforeAll(() => {
    contenders = Array.from({ length: N }, contender);
  });

  afterAll(async () => {
    for (const c of contenders) c.process.kill("SIGKILL");
    await Promise.all(contenders.map((c) => exited(c.process)));
  });

  const setups: Array<[string, (dir: string) => DirectoryLock | undefined]> = [
    ["no lock", () => undefined],
    ["a stale old-format lock file", (dir) => (writeFileSync(join(dir, ".lock"), `${NO_SUCH_PID}\n`), undefined)],
    ["a stale lock of a process that is gone", (dir) => (writeLockFile(dir, 7, {}), undefined)],
    ["an unreadable lock file", (dir) => (mkdirSync(join(dir, LOCK_DIR)), writeFileSync(join(dir, LOCK_DIR, "00000000000000000003"), ""), undefined)],
    ["a fresh lock of a live process", (dir) => DirectoryLock.acquire(dir)],
  ];

  for (const [name, setup] of setups) {
    it(`gives exactly one owner with ${name}, every time (${N} processes at the same instant, 25 trials)`, async () => {
      for (let trial = 0; trial < 25; trial++) {
        const dir = tempDir();
        const parentLock = setup(dir);
        const at = Date.now() + 40;
        for (const c of contenders) c.send(`go ${dir} ${at}`);
        const results = await Promise.all(contenders.map((c) => c.next()));
        const winners = results.filter((r) => r === "won").length;
        const losers = results.filter((r) => r.startsWith("lost DATA_DIR_LOCKED "));
        expect(winners + (parentLock ? 1 : 0), `trial ${trial}: ${results.join(" | ")}`).toBe(1);
        expect(losers, `trial ${trial}: ${results.join(" | ")}`).toHaveLength(N - winners);
        // The owner is named in every refusal.
        for (const loser of losers) expect(loser).toMatch(/locked by running process \d+ on /);
        for (const c of contenders) c.send("release");
        expect(await Promise.all(contenders.map((c) => c.next()))).toEqual(Array(N).fill("released"));
        parentLock?.release();
        expect(readdirSync(dir)).not.toContain(LOCK_DIR);
      }
    }, 60_000);
  }
});

describe("DirectoryLock after kill -9", () => {
  async function holder(dir: string): Promise<Contender> {
    const c = contender();
    c.send(`hold ${dir}`);
    expect(await c.next()).toBe("locked");
    return c;
  }

  it("is taken over at once when the killed owner is a zombie nobody has reaped yet", async () => {
    const dir = tempDir();
    const c = await holder(dir);
    const pid = c.process.pid!;
    c.process.kill("SIGKILL");
    // Node reaps children on the event loop: as long as this test does not yield, the child stays a zombie.
    spinUntil(() => processState(pid).state === "zombie");
    const lock = DirectoryLock.acquire(dir);
    expect(c.process.exitCode === null && c.process.signalCode === null).toBe(true); // not reaped yet
    expect(processState(pid).state).toBe("zombie");
    lock.release();
    await exited(c.process);
  }, 30_000);

  it("is taken over immediately after the kill, whatever state the owner is in by then", async () => {
    for (let round = 0; round < 3; round++) {
      const dir = tempDir();
      const c = await holder(dir);
      c.process.kill("SIGKILL");
      const lock = DirectoryLock.acquire(dir); // no wait at all: running with SIGKILL pending, dying or a zombie
      expect(c.process.exitCode === null && c.process.signalCode === null).toBe(true);
      lock.release();
      await exited(c.process);
    }
  }, 30_000);

  it("refuses while the owner runs, naming it", async () => {
    const dir = tempDir();
    const c = await holder(dir);
    let caught: unknown;
    try {
      DirectoryLock.acquire(dir);
    } catch (error) {
      caught = error;
    }
    expect(isLogStoreError(caught) && caught.code).toBe("DATA_DIR_LOCKED");
    expect((caught as Error).message).toContain(`locked by running process ${c.process.pid} on `);
    c.process.kill("SIGKILL");
    await exited(c.process);
    DirectoryLock.acquire(dir).release();
  }, 30_000);
});

describe("DirectoryLock and pid reuse", () => {
  const live = [1, process.ppid].filter((pid) => processState(pid).state === "running");

  it.each(live)("takes over a lock naming live, unrelated pid %i from another boot", (pid) => {
    const dir = tempDir();
    writeLockFile(dir, 1, { pid, bootId: "00000000-0000-4000-8000-000000000000", startTime: processState(pid).startTime });
    const lock = DirectoryLock.acquire(dir);
    expect(lock.path).toBe(join(dir, LOCK_DIR, "00000000000000000002"));
    expect(readdirSync(join(dir, LOCK_DIR))).toEqual(["00000000000000000002"]);
    expect(JSON.parse(readFileSync(lock.path, "utf8"))).toMatchObject({ pid: process.pid, bootId: currentBootId() });
    lock.release();
  });

  it.each(live)("takes over a lock naming live pid %i of this boot that started at another time than the owner", (pid) => {
    const dir = tempDir();
    const owner = { pid, startTime: String(Number(processState(pid).startTime) + 1) };
    expect(whyStale({ ...owner, bootId: currentBootId(), hostname: "h", acquiredAt: "", nonce: "" })).toMatch(/now belongs to another process/);
    writeLockFile(dir, 1, owner);
    DirectoryLock.acquire(dir).release();
  });

  it.each(live)("refuses a lock that describes live pid %i exactly (same boot, same start time)", (pid) => {
    const dir = tempDir();
    writeLockFile(dir, 4, { pid, startTime: processState(pid).startTime, hostname: "host-a", acquiredAt: "2026-01-02T03:04:05.000Z" });
    let caught: unknown;
    try {
      DirectoryLock.acquire(dir);
    } catch (error) {
      caught = error;
    }
    expect(isLogStoreError(caught) && caught.code).toBe("DATA_DIR_LOCKED");
    expect((caught as Error).message).toBe(
      `data directory ${dir} is locked by running process ${pid} on host-a since 2026-01-02T03:04:05.000Z (${join(dir, LOCK_DIR, "00000000000000000004")}); stop it first, or open another directory`,
    );
  });

  it("tells a zombie, a missing pid and a live process apart", () => {
    expect(processState(NO_SUCH_PID).state).toBe("gone");
    expect(processState(process.pid)).toMatchObject({ state: "running", startTime: expect.stringMatching(/^\d+$/) });
  });
});
