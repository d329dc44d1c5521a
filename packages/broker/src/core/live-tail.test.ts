// LiveTails pacing: a shared tail whose round took long (many readers) pauses as long as the round took
// (bounded) before its next read, so the next round carries what was appended meanwhile; a quick round is
// not paced. A fake log, an injected clock and an injected pause: nothing waits on real time.
import { expect, it } from "vitest";
import { LiveTails, type LiveReader, type LiveTailSource, type TailRound } from "./live-tail.js";

/** A log of single-byte records; `append` wakes the tail's wait. */
function fakeLog() {
  const records: number[] = [];
  const waiters: Array<() => void> = [];
  const reads: number[] = []; // where each read started
  const source: LiveTailSource<null> = {
    async read(from, cap = Infinity) {
      reads.push(from);
      const upTo = Math.min(records.length, cap);
      const bytes = Uint8Array.from(records.slice(from, upTo));
      const round: TailRound<null> = { next: Math.max(from, upTo), empty: bytes.length === 0, final: false, bytes: () => bytes };
      return round;
    },
    wait(from, _timeoutMs, signal) {
      if (records.length > from) return Promise.resolve(true);
      return new Promise((resolve) => {
        waiters.push(() => resolve(true));
        signal.addEventListener("abort", () => resolve(false), { once: true });
      });
    },
  };
  return {
    source,
    reads,
    append(...values: number[]) {
      records.push(...values);
      for (const w of waiters.splice(0)) w();
    },
  };
}

function reader(): LiveReader<null> & { got: number[] } {
  const got: number[] = [];
  return {
    profile: null,
    ended: false,
    got,
    send(bytes) {
      got.push(...bytes);
      return true;
    },
    end() {},
    onEnded: undefined,
  };
}

/** A clock that moves `step` ms at every reading, and pauses that are recorded and released by hand. */
function pacedTails(step: number) {
  let t = 0;
  const pauses: Array<{ ms: number; release: () => void }> = [];
  const shutdown = new AbortController();
  const tails = new LiveTails<null>({
    shutdown: shutdown.signal,
    keepAliveMs: 60_000,
    now: () => (t += step),
    pause: (ms) => new Promise<void>((release) => pauses.push({ ms, release })),
  });
  return { tails, pauses, stop: () => shutdown.abort() };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

it("pauses after a round that took long, as long as it took (at most 25 ms), then sends what came meanwhile in one round", async () => {
  const log = fakeLog();
  const { tails, pauses, stop } = pacedTails(40); // every round "takes" 40 ms
  const readers = [reader(), reader(), reader()];
  for (const r of readers) void tails.serve("s", log.source, r, 0);
  log.append(1);
  await settle();
  await settle();
  expect(readers.map((r) => r.got)).toEqual([[1], [1], [1]]);
  expect(pauses.map((p) => p.ms)).toEqual([25]); // min(40, 25)
  const readsBefore = log.reads.length;
  log.append(2);
  log.append(3);
  await settle();
  expect(log.reads.length).toBe(readsBefore); // paused: no read yet
  pauses[0]!.release();
  await settle();
  await settle();
  expect(readers.map((r) => r.got)).toEqual([
    [1, 2, 3],
    [1, 2, 3],
    [1, 2, 3],
  ]);
  expect(log.reads.length).toBe(readsBefore + 1); // one round for both appends
  stop();
  for (const p of pauses) p.release();
});

it("does not pause after a quick round (under 2 ms)", async () => {
  const log = fakeLog();
  const { tails, pauses, stop } = pacedTails(0.5);
  const r = reader();
  void tails.serve("s", log.source, r, 0);
  for (let i = 1; i <= 5; i++) {
    log.append(i);
    await settle();
    await settle();
  }
  expect(r.got).toEqual([1, 2, 3, 4, 5]);
  expect(pauses).toEqual([]);
  stop();
});

it("ends the tail's readers and reports the error when a round cannot be encoded, instead of rejecting unhandled", async () => {
  const errors: unknown[] = [];
  const shutdown = new AbortController();
  const tails = new LiveTails<null>({ shutdown: shutdown.signal, keepAliveMs: 60_000, onError: (e) => errors.push(e) });
  let appended = false;
  const source: LiveTailSource<null> = {
    read: async (from) => ({
      next: appended ? from + 1 : from,
      empty: !appended,
      final: false,
      bytes: () => {
        if (appended) throw new Error("cannot encode");
        return new Uint8Array(0);
      },
    }),
    wait: () => new Promise((resolve) => setImmediate(() => resolve(appended))),
  };
  const r = reader();
  let ended = false;
  r.end = () => void (ended = true);
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  try {
    void tails.serve("s", source, r, 0);
    await settle();
    appended = true;
    for (let i = 0; i < 5 && !ended; i++) await settle();
    expect(ended).toBe(true);
    expect(errors.map((e) => (e as Error).message)).toEqual(["cannot encode"]);
    expect(tails.tails).toBe(0);
    await settle();
    expect(unhandled).toEqual([]);
  } finally {
    process.off("unhandledRejection", onUnhandled);
    shutdown.abort();
  }
});

it("hands a round to many readers 200 at a time, letting other work run between slices; every reader gets it once", async () => {
  const log = fakeLog();
  const { tails, stop } = pacedTails(0);
  const order: Array<number | "other"> = [];
  const readers = Array.from({ length: 450 }, (_, i) => {
    const r = reader();
    const send = r.send.bind(r);
    r.send = (bytes) => {
      if (i === 0) setImmediate(() => order.push("other")); // queued as the round starts
      order.push(i);
      return send(bytes);
    };
    return r;
  });
  for (const r of readers) void tails.serve("k", log.source, r, 0);
  await settle();
  expect(tails.readers).toBe(450);
  log.append(7, 8);
  for (let i = 0; i < 10 && !readers.every((r) => r.got.length === 2); i++) await settle();
  expect(readers.every((r) => r.got.join() === "7,8")).toBe(true);
  // The other task ran after the first slice, before the last reader.
  const other = order.indexOf("other");
  expect(other).toBe(200);
  expect(order.filter((x) => x !== "other")).toEqual(Array.from({ length: 450 }, (_, i) => i));
  stop();
});
