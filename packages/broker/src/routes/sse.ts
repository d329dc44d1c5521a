import type { Context } from "hono";

const encoder = new TextEncoder();

/**
 * A `text/event-stream` answer from already-framed SSE events. `first` is the generator's first step, taken
 * by the caller before answering (so errors before the first event are still ordinary error answers).
 * When the client goes away, the body is cancelled: `onCancel` runs (abort the generator's waits with it)
 * and the generator is finished, releasing whatever it holds.
 */
export function sseResponse(
  c: Context,
  first: IteratorResult<string>,
  events: AsyncGenerator<string>,
  headers: Record<string, string>,
  onCancel?: () => void,
): Response {
  let pending: IteratorResult<string> | undefined = first;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const step = pending ?? (await events.next());
        pending = undefined;
        if (step.done) controller.close();
        else controller.enqueue(encoder.encode(step.value));
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      onCancel?.();
      await events.return(undefined);
    },
  });
  // c.newResponse keeps what middleware set before (CORS headers of a listed origin).
  return c.newResponse(body, 200, { ...headers, "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
}

/**
 * `events`, calling `release` once it ends however it ends (done, failed, or returned early when the client
 * goes away). Start it at once (`next()`): a generator never started runs no `finally`.
 */
export async function* releasing<T>(events: AsyncGenerator<T>, release: () => void): AsyncGenerator<T> {
  try {
    yield* events;
  } finally {
    release();
  }
}
