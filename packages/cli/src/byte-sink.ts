/**
 * A growable output buffer: a batch of formatted records is built here and written with one `write()`.
 * `take()` hands the bytes over and starts a fresh buffer (the stream may still hold the old one).
 */
export class ByteSink {
  #buffer: Buffer;
  #length = 0;

  constructor(initialBytes = 64 * 1024) {
    this.#buffer = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.#length;
  }

  #reserve(bytes: number): void {
    const needed = this.#length + bytes;
    if (needed <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }

  bytes(data: Uint8Array): void {
    this.#reserve(data.length);
    this.#buffer.set(data, this.#length);
    this.#length += data.length;
  }

  byte(value: number): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = value;
  }

  /** A string as UTF-8. */
  text(value: string): void {
    this.#reserve(value.length * 3);
    this.#length += this.#buffer.write(value, this.#length, "utf8");
  }

  /** A number in decimal. */
  number(value: number): void {
    const text = String(value);
    this.#reserve(text.length);
    this.#length += this.#buffer.write(text, this.#length, "latin1");
  }

  int32BE(value: number): void {
    this.#reserve(4);
    this.#buffer.writeInt32BE(value, this.#length);
    this.#length += 4;
  }

  /** The bytes so far; the sink starts over empty, in a new buffer. */
  take(): Buffer {
    const out = this.#buffer.subarray(0, this.#length);
    this.#buffer = Buffer.allocUnsafe(this.#buffer.length);
    this.#length = 0;
    return out;
  }
}
