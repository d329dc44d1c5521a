import { BrokerError, type BrokerErrorCode } from "../errors.js";

/** What a Durable Streams refusal tells the client besides its code (answered as `Stream-*` / `Producer-*` headers). */
export interface StreamErrorState {
  /** The stream's tail offset token (with `STREAM_CLOSED`: its final offset). */
  nextOffset?: string | undefined;
  /** The stream is closed. */
  closed?: boolean | undefined;
  /** `INVALID_PRODUCER_EPOCH`: the producer's current epoch on this stream. */
  producerEpoch?: number | undefined;
  /** `OUT_OF_ORDER_SEQUENCE_NUMBER`: the sequence expected next, and the one received. */
  expectedSeq?: number | undefined;
  receivedSeq?: number | undefined;
}

/**
 * A {@link BrokerError} raised by the Durable Streams service, carrying the stream state the protocol
 * answers with on a refusal (closed + final offset, the producer's epoch, the expected sequence). It is a
 * `BrokerError` (same marker, same code table); the streams transport reads {@link StreamError.state}.
 */
export class StreamError extends BrokerError {
  /** Protocol state to report with the refusal. */
  readonly state: StreamErrorState;

  constructor(code: BrokerErrorCode, message: string, state: StreamErrorState = {}) {
    super(code, message);
    this.state = state;
  }
}
