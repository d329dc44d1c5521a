// Every call the console makes to the broker. All of them go through `brokerFetch`, the one place where
// the bearer token is added (a broker with `auth` answers 401 without one: the console then asks for it).
import { createClient, type Admin } from "@minikafka/client";
import type { ErrorEnvelope, FetchResult, GroupDescription, GroupList, TopicDescription, TopicList } from "@minikafka/protocol";

/** A failed call: the broker's error envelope, or a network failure (`code: "NETWORK_EXCEPTION"`, status 0). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The broker's error answer as an {@link ApiError} (its envelope, or the bare status when it has none). */
async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text();
  let envelope: ErrorEnvelope | undefined;
  try {
    envelope = JSON.parse(text) as ErrorEnvelope;
  } catch {
    // not JSON: reported with the status below
  }
  return new ApiError(envelope?.error.code ?? "UNKNOWN_SERVER_ERROR", envelope?.error.message ?? `HTTP ${response.status}`, response.status);
}

/** A record of a fetch answer (`encoding=base64`). */
export type WireRecord = FetchResult["records"][number];

/** What a live read yields: records, or after each read the offset it continues from. */
export type LiveEvent = { records: WireRecord[] } | { nextOffset: number; upToDate: boolean };

/** The events of a Server-Sent Events body (`event:` and `data:` fields; comments and ids ignored). */
async function* sseEvents(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<{ type: string; data: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener("abort", onAbort, { once: true });
  let pending = "";
  let type = "message";
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read().catch((error: unknown) => {
        if (signal.aborted) return { value: undefined, done: true as const };
        throw error;
      });
      if (done) return;
      pending += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = pending.search(/\r\n|\r|\n/)) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + (pending.startsWith("\r\n", newline) ? 2 : 1));
        if (line === "") {
          if (data.length > 0) yield { type, data: data.join("\n") };
          type = "message";
          data = [];
        } else if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
}

/** Options of {@link createApi}. */
export interface ApiOptions {
  /** The broker's base URL (the console lives at `<base>/console/`). */
  baseUrl: string;
  /** Headers added to every request (`authorization`, once a token is known). */
  headers?: () => Record<string, string>;
  /**
   * The broker answered 401 to a request sent with `authorization` (null: none): true when a new token is
   * known now, and the request is sent once more with the new headers.
   */
  onUnauthorized?: (sent: string | null) => boolean;
}

/** The broker's HTTP API as the console uses it. */
export type Api = ReturnType<typeof createApi>;

/** Creates the console's API over one `fetch` wrapper. */
export function createApi(options: ApiOptions) {
  const base = options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`;
  const withHeaders = (request: Request): Request => {
    for (const [name, value] of Object.entries(options.headers?.() ?? {})) request.headers.set(name, value);
    return request;
  };
  const brokerFetch = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    const request = withHeaders(new Request(input, init));
    const again = options.onUnauthorized === undefined ? undefined : request.clone();
    const response = await fetch(request);
    if (response.status !== 401 || again === undefined || !options.onUnauthorized!(request.headers.get("authorization"))) return response;
    return fetch(withHeaders(again));
  };
  // The client carries the one multi-step operation (resetting a group's offsets: join, commit, leave).
  let admin: Admin | undefined;
  const getAdmin = () =>
    (admin ??= createClient({ brokers: base, fetch: brokerFetch, clientId: "minikafka-console", retry: { retries: 0 } }).admin());

  async function call<T>(
    method: string,
    path: string,
    init: { json?: unknown; query?: Record<string, string | number | undefined>; signal?: AbortSignal } = {},
  ): Promise<T> {
    const url = new URL(path, base);
    for (const [name, value] of Object.entries(init.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    let response: Response;
    try {
      response = await brokerFetch(url, {
        method,
        headers: init.json === undefined ? {} : { "content-type": "application/json" },
        body: init.json === undefined ? null : JSON.stringify(init.json),
        signal: init.signal ?? null,
      });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ApiError("NETWORK_EXCEPTION", `the broker did not answer: ${(error as Error).message}`, 0);
    }
    if (response.status === 204) return undefined as T;
    if (!response.ok) throw await errorOf(response);
    const text = await response.text();
    return (response.headers.get("content-type") ?? "").includes("json") ? (JSON.parse(text) as T) : (text as T);
  }

  const seg = encodeURIComponent;
  return {
    listTopics: (signal?: AbortSignal) => call<TopicList>("GET", "v1/topics", signal === undefined ? {} : { signal }),
    describeTopic: (topic: string) => call<TopicDescription>("GET", `v1/topics/${seg(topic)}`),
    createTopic: (name: string, partitions: number, retentionMs?: number) =>
      call<TopicDescription>("POST", "v1/topics", { json: { name, partitions, ...(retentionMs === undefined ? {} : { config: { retentionMs } }) } }),
    addPartitions: (topic: string, count: number) => call<TopicDescription>("POST", `v1/topics/${seg(topic)}/partitions`, { json: { count } }),
    deleteTopic: (topic: string) => call<void>("DELETE", `v1/topics/${seg(topic)}`),
    /** Records of one partition from `offset`, bytes as base64; with `waitMs`, a long poll. */
    fetchRecords: (topic: string, partition: number, offset: number, opts: { maxRecords?: number; waitMs?: number; signal?: AbortSignal } = {}) =>
      call<FetchResult>("GET", `v1/topics/${seg(topic)}/partitions/${partition}/records`, {
        query: { offset, maxRecords: opts.maxRecords, waitMs: opts.waitMs, encoding: "base64" },
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      }),
    /**
     * The partition from `offset` on, live (Server-Sent Events, read through `fetch` so that the token goes
     * along, which `EventSource` cannot send): yields each batch of records (bytes as base64) and, after
     * each read, the offset to resume from. The broker ends a connection after about a minute; this
     * reconnects from the last offset until `signal` aborts.
     */
    liveRecords: async function* (topic: string, partition: number, offset: number, signal: AbortSignal): AsyncGenerator<LiveEvent> {
      let from = offset;
      while (!signal.aborted) {
        const url = new URL(`v1/topics/${seg(topic)}/partitions/${partition}/records`, base);
        url.searchParams.set("offset", String(from));
        url.searchParams.set("live", "sse");
        url.searchParams.set("encoding", "base64");
        let response: Response;
        try {
          response = await brokerFetch(url, { signal });
        } catch (error) {
          if (signal.aborted) return;
          throw new ApiError("NETWORK_EXCEPTION", `the broker did not answer: ${(error as Error).message}`, 0);
        }
        if (!response.ok || response.body === null) throw await errorOf(response);
        for await (const event of sseEvents(response.body, signal)) {
          if (event.type === "data") yield { records: JSON.parse(event.data) as WireRecord[] };
          else if (event.type === "control") {
            const control = JSON.parse(event.data) as { streamNextOffset: string; upToDate?: boolean };
            from = Number(control.streamNextOffset);
            yield { nextOffset: from, upToDate: control.upToDate === true };
          }
        }
      }
    },
    listGroups: () => call<GroupList>("GET", "v1/groups"),
    describeGroup: (group: string) => call<GroupDescription>("GET", `v1/groups/${seg(group)}`),
    /** Sets an empty group's committed offsets in partitions of one topic. */
    setOffsets: async (groupId: string, topic: string, partitions: ReadonlyArray<{ partition: number; offset: number }>) => {
      try {
        await getAdmin().setOffsets({ groupId, topic, partitions });
      } catch (error) {
        const e = error as { code?: string; message: string; status?: number };
        throw new ApiError(e.code ?? "UNKNOWN_SERVER_ERROR", e.message, e.status ?? 0);
      }
    },
    metrics: () => call<string>("GET", "metrics"),
  };
}
