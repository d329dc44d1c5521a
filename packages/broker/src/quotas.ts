// Per-principal quotas: produce and fetch byte rates (Kafka's client quotas: a request is let through while
// the principal's budget is positive, its bytes are then charged, and the principal waits out any debt) and
// the number of long polls and SSE streams a principal may hold open at once (bounded by default). Time
// comes from the broker's clock.
import type { Clock } from "@minikafka/group-coordinator";
import type { Context } from "hono";
import type { Access } from "./access.js";
import { BrokerError } from "./errors.js";

/** Limits of one principal (`quotas` and `quotas.principals[name]`); a limit left out is unlimited. */
export interface QuotaLimits {
  /** Bytes per second a principal may produce (request bodies; the seed's messages), with one second of burst. */
  produceBytesPerSecond?: number | undefined;
  /** Bytes per second of records a principal may fetch (answers of fetches and member fetches), with one second of burst. */
  fetchBytesPerSecond?: number | undefined;
  /**
   * Long polls (fetches and member fetches with `waitMs` > 0, Durable Streams `live=long-poll` reads) a
   * principal may have waiting at once (default {@link DEFAULT_MAX_LONG_POLLS}).
   */
  maxLongPolls?: number | undefined;
  /**
   * SSE streams (topic `?live=sse` reads and Durable Streams `live=sse` reads) a principal may have open at
   * once (default {@link DEFAULT_MAX_SSE_STREAMS}).
   */
  maxSseStreams?: number | undefined;
}

/** Long polls a principal may have waiting at once unless `quotas` says otherwise. */
export const DEFAULT_MAX_LONG_POLLS = 1000;
/**
 * SSE streams a principal may have open at once unless `quotas` says otherwise: room for a few thousand
 * readers behind one principal (anonymous ones without `auth`) and their reconnects, which overlap the
 * answers they replace.
 */
export const DEFAULT_MAX_SSE_STREAMS = 10_000;

/**
 * `BrokerAppOptions.quotas`: the limits of every principal, each on its own budget (so one principal over
 * its quota leaves the others unaffected), with per-principal overrides. Without `auth` every caller is the
 * one anonymous principal.
 */
export interface QuotaOptions extends QuotaLimits {
  /** Limits of named principals, replacing the defaults above field by field. */
  principals?: Readonly<Record<string, QuotaLimits>> | undefined;
}

/** What a rate applies to. */
export type QuotaKind = "produce" | "fetch";

interface Bucket {
  /** Bytes that may still be sent now; negative: a debt, waited out before the next request. */
  level: number;
  /** Clock time of the last refill. */
  last: number;
}

interface PrincipalQuota {
  readonly limits: QuotaLimits;
  readonly produce: Bucket;
  readonly fetch: Bucket;
  /** Held slots, by kind. */
  readonly held: Record<HoldKind, number>;
}

/** What a principal holds open while the broker waits for data. */
type HoldKind = "longPoll" | "sse";

const KEYS: ReadonlySet<string> = new Set(["produceBytesPerSecond", "fetchBytesPerSecond", "maxLongPolls", "maxSseStreams"]);

function validLimits(limits: QuotaLimits, at: string): QuotaLimits {
  if (typeof limits !== "object" || limits === null) throw new BrokerError("INVALID_REQUEST", `${at} must be an object`);
  for (const [key, value] of Object.entries(limits)) {
    if (!KEYS.has(key)) throw new BrokerError("INVALID_REQUEST", `${at}.${key} is not a quota`);
    if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) <= 0)) {
      throw new BrokerError("INVALID_REQUEST", `${at}.${key} must be a positive integer, got ${String(value)}`);
    }
  }
  return limits;
}

/**
 * The quotas of one broker. Internal: routes call {@link Quotas.admit}, {@link Quotas.charge},
 * {@link Quotas.holdLongPoll} and {@link Quotas.holdSseStream}.
 */
export class Quotas {
  readonly #defaults: QuotaLimits;
  readonly #overrides: ReadonlyMap<string, QuotaLimits>;
  readonly #access: Access;
  readonly #clock: Clock;
  readonly #state = new Map<string, PrincipalQuota>();
  /** Slots held now by all principals together, by kind. */
  readonly #open: Record<HoldKind, number> = { longPoll: 0, sse: 0 };
  /** Whether any byte rate is configured (admit and charge are no-ops otherwise). */
  readonly enabled: boolean;

  /** @throws BrokerError `INVALID_REQUEST` naming the option for a bad limit. */
  constructor(options: QuotaOptions | undefined, access: Access, clock: Clock) {
    this.#access = access;
    this.#clock = clock;
    const { principals = {}, ...defaults } = validQuotas(options);
    this.#defaults = validLimits(defaults, "quotas");
    this.#overrides = new Map(
      Object.entries(principals).map(([name, limits]) => [name, { ...this.#defaults, ...validLimits(limits, `quotas.principals.${name}`) }]),
    );
    this.enabled = [this.#defaults, ...this.#overrides.values()].some(
      (l) => l.produceBytesPerSecond !== undefined || l.fetchBytesPerSecond !== undefined,
    );
  }

  #quota(c: Context): PrincipalQuota {
    const name = this.#access.principal(c)?.name ?? "";
    let quota = this.#state.get(name);
    if (quota === undefined) {
      const limits = this.#overrides.get(name) ?? this.#defaults;
      const now = this.#clock.now();
      quota = {
        limits,
        produce: { level: limits.produceBytesPerSecond ?? 0, last: now },
        fetch: { level: limits.fetchBytesPerSecond ?? 0, last: now },
        held: { longPoll: 0, sse: 0 },
      };
      this.#state.set(name, quota);
    }
    return quota;
  }

  #bucket(c: Context, kind: QuotaKind): { bucket: Bucket; rate: number } | undefined {
    const quota = this.#quota(c);
    const rate = kind === "produce" ? quota.limits.produceBytesPerSecond : quota.limits.fetchBytesPerSecond;
    if (rate === undefined) return undefined;
    const bucket = quota[kind];
    const now = this.#clock.now();
    // Refill: `rate` bytes a second, up to one second's worth (the burst).
    bucket.level = Math.min(rate, bucket.level + ((now - bucket.last) * rate) / 1000);
    bucket.last = now;
    return { bucket, rate };
  }

  /**
   * Lets a produce or fetch through while the principal's budget is positive.
   * @throws BrokerError `THROTTLING_QUOTA_EXCEEDED` (429, with `Retry-After`: the seconds until it is) otherwise.
   */
  admit(c: Context, kind: QuotaKind): void {
    if (!this.enabled) return;
    const found = this.#bucket(c, kind);
    if (found === undefined || found.bucket.level > 0) return;
    const seconds = Math.max(1, Math.ceil(-found.bucket.level / found.rate));
    c.header("retry-after", String(seconds));
    throw new BrokerError("THROTTLING_QUOTA_EXCEEDED", `over the ${kind} quota of ${found.rate} bytes per second: retry in ${seconds} s`);
  }

  /** Charges `bytes` the request moved to the principal's budget (which may go negative: the next request waits). */
  charge(c: Context, kind: QuotaKind, bytes: number): void {
    if (!this.enabled) return;
    const found = this.#bucket(c, kind);
    if (found !== undefined) found.bucket.level -= bytes;
  }

  /**
   * Counts a long poll of the principal until the returned function is called (idempotent).
   * @throws BrokerError `THROTTLING_QUOTA_EXCEEDED` (429, `Retry-After: 1`) when it already has `maxLongPolls` waiting.
   */
  holdLongPoll(c: Context): () => void {
    return this.#hold(c, "longPoll");
  }

  /**
   * Counts an SSE stream of the principal until the returned function is called (idempotent): call it when
   * the stream ends, however it ends.
   * @throws BrokerError `THROTTLING_QUOTA_EXCEEDED` (429, `Retry-After: 1`) when it already has `maxSseStreams` open.
   */
  holdSseStream(c: Context): () => void {
    return this.#hold(c, "sse");
  }

  /** Slots held now by the request's principal (tests, metrics). */
  held(c: Context): Readonly<Record<HoldKind, number>> {
    return { ...this.#quota(c).held };
  }

  /** Long polls waiting and SSE streams open now, all principals together (`/metrics`). */
  totals(): Readonly<Record<HoldKind, number>> {
    return { ...this.#open };
  }

  #hold(c: Context, kind: HoldKind): () => void {
    const quota = this.#quota(c);
    const max = kind === "longPoll" ? (quota.limits.maxLongPolls ?? DEFAULT_MAX_LONG_POLLS) : (quota.limits.maxSseStreams ?? DEFAULT_MAX_SSE_STREAMS);
    if (quota.held[kind] >= max) {
      c.header("retry-after", "1");
      const what = kind === "longPoll" ? "long polls may wait" : "SSE streams may be open";
      throw new BrokerError(
        "THROTTLING_QUOTA_EXCEEDED",
        `at most ${max} ${what} at once per principal (quotas.${kind === "longPoll" ? "maxLongPolls" : "maxSseStreams"})`,
      );
    }
    quota.held[kind]++;
    this.#open[kind]++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      quota.held[kind]--;
      this.#open[kind]--;
    };
  }
}

function validQuotas(options: QuotaOptions | undefined): QuotaOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) throw new BrokerError("INVALID_REQUEST", "quotas must be an object");
  const { principals } = options;
  if (principals !== undefined && (typeof principals !== "object" || principals === null || Array.isArray(principals))) {
    throw new BrokerError("INVALID_REQUEST", "quotas.principals must map principal names to limits");
  }
  return options;
}
