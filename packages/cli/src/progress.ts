import type { Writable } from "node:stream";
import { count } from "./output.js";

/**
 * A progress line on a terminal, redrawn in place a few times a second: records sent (of the total when
 * known) and the rate since the start. `stop()` replaces it with a final summary line.
 */
export class Progress {
  readonly #stream: Writable;
  readonly #total: number | undefined;
  readonly #started = performance.now();
  readonly #timer: ReturnType<typeof setInterval>;
  #sent = 0;

  constructor(stream: Writable, total: number | undefined, intervalMs = 250) {
    this.#stream = stream;
    this.#total = total;
    this.#timer = setInterval(() => this.#draw(), intervalMs);
    this.#timer.unref();
  }

  /** Records acknowledged so far. */
  set sent(n: number) {
    this.#sent = n;
  }

  #rate(): number {
    const seconds = (performance.now() - this.#started) / 1000;
    return seconds > 0 ? this.#sent / seconds : 0;
  }

  #draw(): void {
    const total = this.#total === undefined ? "" : `/${count(this.#total)}`;
    this.#stream.write(`\r\x1b[Ksent ${count(this.#sent)}${total} records  ${count(this.#rate())} records/s`);
  }

  /** Stops redrawing and prints `summary` in place of the progress line. */
  stop(summary: string): void {
    clearInterval(this.#timer);
    const seconds = (performance.now() - this.#started) / 1000;
    this.#stream.write(`\r\x1b[K${summary} in ${seconds.toFixed(1)} s (${count(this.#rate())} records/s)\n`);
  }
}
