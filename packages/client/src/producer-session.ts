// The idempotent producer's session (Kafka's TransactionManager, idempotence only): a producer id from the
// broker, the current epoch, and the next sequence of every partition written. Internal.
import { ClientError } from "./errors.js";
import type { Requester } from "./http.js";

/** Kafka's producer epoch is an int16: at this value a new id is asked for instead of a higher epoch. */
const MAX_EPOCH = 32_767;
/** Sequences are Kafka's int32, counted per record, wrapping to 0 after this value. */
const MAX_SEQUENCE = 2 ** 31 - 1;

/** The producer fields of one produce request. */
export interface ProducerFields {
  producerId: number;
  producerEpoch: number;
  sequences: Array<{ partition: number; sequence: number }>;
}

/**
 * Producer id, epoch and per-partition sequences. Sequences are handed out when a request is built; the
 * producer keeps at most one request per topic in flight, so per partition at most one batch is
 * unacknowledged (the broker recognises retries of the last 5) and a retry is always the batch it
 * remembers last.
 *
 * Any request that ends without an answer for every partition ({@link ProducerSession.abandon}) moves the
 * session to a new epoch: sequences restart at 0 everywhere, and in each partition the new epoch writes,
 * a late copy of the abandoned request (still on its way) is fenced, never stored after newer batches.
 */
export class ProducerSession {
  readonly #http: Requester;
  #producerId: number | undefined;
  #epoch = 0;
  #init: Promise<void> | undefined;
  /** `topic partition` → next sequence, in the current epoch. */
  #sequences = new Map<string, number>();
  #fenced: ClientError | undefined;

  constructor(http: Requester) {
    this.#http = http;
  }

  /** The error that stopped the producer, once fenced. */
  get fenced(): ClientError | undefined {
    return this.#fenced;
  }

  /**
   * Resolves once the session has a producer id (asked for on first use; asking again after a failure).
   * @throws ClientError from `POST /v1/producers` (`NOT_FOUND` from a broker without idempotent producers).
   */
  ready(): Promise<void> {
    if (this.#producerId !== undefined) return Promise.resolve();
    this.#init ??= this.#http.request<{ producerId: number; producerEpoch: number }>("POST", "v1/producers", { retry: "idempotent" }).then(
      ({ producerId, producerEpoch }) => {
        this.#producerId = producerId;
        this.#epoch = producerEpoch;
        this.#sequences.clear();
        this.#init = undefined;
      },
      (error: unknown) => {
        this.#init = undefined;
        throw error;
      },
    );
    return this.#init;
  }

  /**
   * The producer fields for a request to `topic` carrying `counts` records per partition (partition → count),
   * advancing those partitions' sequences. Call after {@link ready}, synchronously before sending.
   */
  take(topic: string, counts: ReadonlyMap<number, number>): ProducerFields {
    const sequences: ProducerFields["sequences"] = [];
    for (const [partition, count] of counts) {
      const key = `${topic} ${partition}`; // unambiguous: the partition is the last field
      const sequence = this.#sequences.get(key) ?? 0;
      sequences.push({ partition, sequence });
      const after = sequence + count;
      this.#sequences.set(key, after > MAX_SEQUENCE ? after - MAX_SEQUENCE - 1 : after);
    }
    return { producerId: this.#producerId!, producerEpoch: this.#epoch, sequences };
  }

  /**
   * A request sent with `fields` ended without answers for all its partitions (timed out, connection lost
   * after every retry, refused): its sequences may or may not be used up. Unless the session has moved on
   * already, start a new epoch (a new producer id once the epoch is exhausted).
   */
  abandon(fields: ProducerFields): void {
    if (fields.producerId !== this.#producerId || fields.producerEpoch !== this.#epoch) return;
    this.#sequences.clear();
    if (this.#epoch < MAX_EPOCH) this.#epoch++;
    else this.#producerId = undefined;
  }

  /**
   * A request sent to `topic` with `fields` was refused before anything was stored (413: too many records,
   * a body or a record too large): its sequences are unused, and the next request to those partitions takes
   * them again, in the same epoch. Relies on the one request per topic in flight (nothing has taken
   * sequences of `topic` since); a no-op when the session has moved to another epoch meanwhile.
   */
  unuse(topic: string, fields: ProducerFields): void {
    if (fields.producerId !== this.#producerId || fields.producerEpoch !== this.#epoch) return;
    for (const { partition, sequence } of fields.sequences) this.#sequences.set(`${topic} ${partition}`, sequence);
  }

  /**
   * A request sent with `fields` was fenced (`INVALID_PRODUCER_EPOCH`). Returns true when that means this
   * producer is fenced for good (the request used the current epoch: someone else writes with a newer one),
   * false for a late request of an epoch the session itself left.
   */
  fence(fields: ProducerFields, error: ClientError): boolean {
    if (fields.producerId !== this.#producerId || fields.producerEpoch !== this.#epoch) return false;
    this.#fenced ??= new ClientError("INVALID_PRODUCER_EPOCH", `the producer is fenced: ${error.message}`, { status: error.status, cause: error });
    return true;
  }
}
