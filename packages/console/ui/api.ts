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
    const text = await response.text();
    if (!response.ok) {
      let envelope: ErrorEnvelope | undefined;
      try {
        envelope = JSON.parse(text) as ErrorEnvelope;
      } catch {
        // not JSON: reported with the status below
      }
      throw new ApiError(envelope?.error.code ?? "UNKNOWN_SERVER_ERROR", envelope?.error.message ?? `HTTP ${response.status}`, response.status);
    }
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
