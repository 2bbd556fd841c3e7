/**
 * Progress of a long benchmark on stderr: a bar redrawn in place on a terminal, plain lines (about
 * one per 10%) otherwise, so logs stay readable.
 */
export class Progress {
  readonly #label: string;
  readonly #total: number;
  readonly #stream: NodeJS.WriteStream;
  readonly #started = performance.now();
  #lastDecile = -1;

  /** @param total - steps to the end */
  constructor(label: string, total: number, stream: NodeJS.WriteStream = process.stderr) {
    this.#label = label;
    this.#total = Math.max(1, total);
    this.#stream = stream;
  }

  /** Reports `done` steps finished, with a short note (e.g. the last step's figures). */
  update(done: number, note = ''): void {
    const fraction = Math.min(1, done / this.#total);
    const elapsed = (performance.now() - this.#started) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.#total - done) : 0;
    const figures = `${done}/${this.#total} ${elapsed.toFixed(0)} s elapsed, ~${eta.toFixed(0)} s left${note ? `, ${note}` : ''}`;
    if (this.#stream.isTTY === true) {
      const width = 30;
      const filled = Math.round(fraction * width);
      this.#stream.write(`\r${this.#label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${figures}\x1b[K`);
      if (done >= this.#total) this.#stream.write('\n');
      return;
    }
    const decile = Math.floor(fraction * 10);
    if (decile === this.#lastDecile && done < this.#total) return;
    this.#lastDecile = decile;
    this.#stream.write(`${this.#label}: ${figures}\n`);
  }
}
