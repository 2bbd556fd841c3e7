/**
 * A multi-producer, single-consumer ring of L1 events in the meta buffer (Vyukov's bounded
 * queue): producers claim a position with one compare-exchange on the head and publish the
 * record by storing its sequence word last; the consumer reads a record only once its sequence
 * says it was published, then hands it back to the producers one lap later. A full ring drops the
 * event and counts the drop; the eviction worker reconciles with `liveKeys()` for what it missed.
 */
import type { DigestBatch } from './api.ts';
import * as layout from './layout.ts';

// Module-local copies: imported bindings are live (a getter per read under tsx).
const { RING_RECORD_WORDS } = layout;
const { RING_HEAD, RING_TAIL, RING_DROPPED, RING_DRAINING } = layout.Header;
const { SEQ, KIND, DIGEST, BATCH } = layout.RingRecord;

/** Producer and consumer ends of the ring over the meta buffer's words. */
export class EventRing {
  readonly #w: Int32Array;
  readonly #base: number;
  readonly #mask: number;

  /**
   * @param words - the whole meta buffer as Int32 words
   * @param byteOffset - where the ring's records start
   * @param capacity - records, a power of two
   */
  constructor(words: Int32Array, byteOffset: number, capacity: number) {
    this.#w = words;
    this.#base = byteOffset >>> 2;
    this.#mask = capacity - 1;
  }

  /** Prepares a fresh ring: every record free for the producer of its position in the first lap. */
  init(): void {
    for (let i = 0; i <= this.#mask; i++) this.#w[this.#base + i * RING_RECORD_WORDS + SEQ] = i;
  }

  /**
   * Appends `kind` with the digest at `src[at..at+4)`, emitted by batch operation `batch`; false
   * (and counted) when the ring is full.
   */
  push(kind: number, src: Int32Array, at: number, batch: number): boolean {
    const w = this.#w;
    let pos = Atomics.load(w, RING_HEAD);
    for (;;) {
      const rec = this.#base + (pos & this.#mask) * RING_RECORD_WORDS;
      const diff = (Atomics.load(w, rec + SEQ) - pos) | 0;
      if (diff === 0) {
        const claimed = Atomics.compareExchange(w, RING_HEAD, pos, (pos + 1) | 0);
        if (claimed === pos) {
          w[rec + KIND] = kind;
          w[rec + DIGEST] = src[at];
          w[rec + DIGEST + 1] = src[at + 1];
          w[rec + DIGEST + 2] = src[at + 2];
          w[rec + DIGEST + 3] = src[at + 3];
          w[rec + BATCH] = batch;
          Atomics.store(w, rec + SEQ, (pos + 1) | 0);
          return true;
        }
        pos = claimed;
      } else if (diff < 0) {
        // The record still holds an event from the previous lap: the consumer is a lap behind.
        Atomics.add(w, RING_DROPPED, 1);
        return false;
      } else {
        pos = Atomics.load(w, RING_HEAD);
      }
    }
  }

  /**
   * Hands up to `max` published events to `onEvent` in order, each key as a fresh 4-word
   * {@link DigestBatch} with the id of the batch operation that emitted it. One consumer at a
   * time: while another thread drains, returns 0 at once.
   */
  drain(onEvent: (kind: number, key: DigestBatch, batch: number) => void, max: number): number {
    const w = this.#w;
    if (Atomics.compareExchange(w, RING_DRAINING, 0, 1) !== 0) return 0;
    let count = 0;
    try {
      let pos = Atomics.load(w, RING_TAIL);
      while (count < max) {
        const rec = this.#base + (pos & this.#mask) * RING_RECORD_WORDS;
        if (Atomics.load(w, rec + SEQ) !== ((pos + 1) | 0)) break;
        const kind = w[rec + KIND];
        const batch = w[rec + BATCH];
        const key = new Uint32Array(4);
        for (let k = 0; k < 4; k++) key[k] = w[rec + DIGEST + k];
        Atomics.store(w, rec + SEQ, (pos + this.#mask + 1) | 0);
        pos = (pos + 1) | 0;
        Atomics.store(w, RING_TAIL, pos);
        count++;
        onEvent(kind, key, batch);
      }
    } finally {
      Atomics.store(w, RING_DRAINING, 0);
    }
    return count;
  }

  /** Events published and not yet drained (approximate while producers run). */
  pending(): number {
    return (Atomics.load(this.#w, RING_HEAD) - Atomics.load(this.#w, RING_TAIL)) | 0;
  }

  /** Events dropped because the ring was full. */
  dropped(): number {
    return Atomics.load(this.#w, RING_DROPPED);
  }
}
