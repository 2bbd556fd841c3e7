/**
 * One producer's events of one call, kept in local (unshared) memory and appended to an
 * {@link EventRing} at once when the call ends: pushing per event made every event contend for
 * the ring's HEAD word with the other threads.
 */
import { EVENT_WORDS, type EventRing } from './event-ring.ts';

/** A growable local buffer of ring events, in the ring's event format. */
export class EventBatch {
  #events = new Int32Array(256 * EVENT_WORDS);
  #count = 0;

  /** Adds an event: `kind`, the digest at `src[at..at+4)`, `value` and the `batch` id. */
  add(kind: number, src: Int32Array | Uint32Array, at: number, value: number, batch: number): void {
    const ev = this.room(1);
    const o = this.#count * EVENT_WORDS;
    ev[o] = kind;
    ev[o + 1] = src[at];
    ev[o + 2] = src[at + 1];
    ev[o + 3] = src[at + 2];
    ev[o + 4] = src[at + 3];
    ev[o + 5] = value;
    ev[o + 6] = batch;
    this.#count++;
  }

  /**
   * The buffer, with room for `count` more events, for a producer that writes them in place (a
   * loop over keys, without a call per event): in {@link add}'s format, each {@link EVENT_WORDS}
   * words from {@link end} on; then it calls {@link setEnd} with the word after its last.
   */
  room(count: number): Int32Array {
    const need = (this.#count + count) * EVENT_WORDS;
    if (need > this.#events.length) {
      let length = this.#events.length * 2;
      while (length < need) length *= 2;
      const grown = new Int32Array(length);
      grown.set(this.#events);
      this.#events = grown;
    }
    return this.#events;
  }

  /** The word where the next event goes. */
  get end(): number {
    return this.#count * EVENT_WORDS;
  }

  /** Ends the events written in place ({@link room}) at word `end`, a whole number of events past {@link end}. */
  setEnd(end: number): void {
    this.#count = end / EVENT_WORDS;
  }

  /** Appends the events added since the last flush to `ring`, in order, and empties the buffer. */
  flushTo(ring: EventRing): void {
    if (this.#count === 0) return;
    const count = this.#count;
    this.#count = 0;
    ring.pushAll(this.#events, count);
  }
}
