// Small hooks shared by the pages: the hash route, loading data, polling.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

/** The hash route as decoded segments: `#/topics/orders/0` → `["topics", "orders", "0"]`. */
export function useRoute(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return hash
    .replace(/^#\/?/, "")
    .split("/")
    .filter((s) => s !== "")
    .map(decodeURIComponent);
}

/** A link target for route segments. */
export const href = (...segments: Array<string | number>) => `#/${segments.map((s) => encodeURIComponent(String(s))).join("/")}`;

/** The state of something loaded from the broker. */
export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  reload: () => Promise<void>;
}

/**
 * Loads `load()` when `deps` change, and again every `everyMs` if given (the next load starts when the
 * previous one has ended, so a slow broker is never asked twice at once).
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const loadRef = useRef(load);
  loadRef.current = load;
  const alive = useRef(true);
  const reload = useCallback(async () => {
    try {
      const value = await loadRef.current();
      if (!alive.current) return;
      setData(value);
      setError(undefined);
    } catch (e) {
      if (alive.current) setError(e as Error);
    }
  }, []);
  useEffect(() => {
    alive.current = true;
    setData(undefined);
    setError(undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      await reload();
      if (alive.current && everyMs !== undefined) timer = setTimeout(run, everyMs);
    };
    void run();
    return () => {
      alive.current = false;
      clearTimeout(timer);
    };
  }, deps);
  return { data, error, reload };
}
