import type { FetchFunction } from "../../src/index.js";

/**
 * A fetch that forwards to the global one, except between `cut()` and `restore()`, when every request
 * fails like a dead network.
 */
export function cuttableFetch(): { fetch: FetchFunction; cut(): void; restore(): void } {
  let cut = false;
  return {
    fetch: (input, init) => (cut ? Promise.reject(new TypeError("fetch failed: simulated network failure")) : fetch(input, init)),
    cut: () => {
      cut = true;
    },
    restore: () => {
      cut = false;
    },
  };
}

/** The method and path (with query) of a fetch call. */
export function requestLine(input: Request | string | URL, init?: RequestInit): { method: string; path: string } {
  const request = input instanceof Request ? input : new Request(input, init);
  const url = new URL(request.url);
  return { method: request.method, path: url.pathname + url.search };
}
