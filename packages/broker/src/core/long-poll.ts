import type { ReadStore } from "./storage.js";

/** A partition position to wait on. */
export interface WaitTarget {
  topic: string;
  partition: number;
  offset: number;
}

/**
 * Long-poll support: resolves `true` as soon as any target has a readable record at its offset, `false`
 * when `timeoutMs` passes or any of `signals` aborts (the client went away, the broker shuts down). Never
 * rejects: a failing wait (the topic was deleted meanwhile) also resolves `true`, so that the caller
 * reads again and reports what the read finds. No disk polling: the store wakes waiters on append.
 */
export async function waitForAny(
  store: Pick<ReadStore, "waitForData">,
  targets: readonly WaitTarget[],
  timeoutMs: number,
  signals: ReadonlyArray<AbortSignal | undefined>,
): Promise<boolean> {
  if (timeoutMs <= 0 || targets.length === 0 || signals.some((s) => s?.aborted)) return false;
  const controller = new AbortController();
  const abort = () => controller.abort();
  for (const s of signals) s?.addEventListener("abort", abort, { once: true });
  try {
    const waits = targets.map((t) =>
      store.waitForData(t.topic, t.partition, t.offset, { timeoutMs, signal: controller.signal }).then(
        (ready) => {
          if (ready) controller.abort();
          return ready;
        },
        () => {
          if (signals.some((s) => s?.aborted)) return false;
          controller.abort();
          return true;
        },
      ),
    );
    return (await Promise.all(waits)).some(Boolean);
  } finally {
    for (const s of signals) s?.removeEventListener("abort", abort);
    controller.abort();
  }
}
