/**
 * The L2 event ring of one adapter: its adapter worker is the only producer, the eviction worker
 * the only consumer, so head and tail each have one writer and no lock is needed. A full ring
 * drops the event and counts the drop (the consumer's policy then misses one key; see DESIGN §3).
 *
 * Events carry a batch id so the consumer can hand one adapter call's keys to its policy as one
 * batch (prefix order): the host pushes a call's events in key order over one digest batch, so a
 * new batch starts whenever the batch array, the kind, or the key order changes.
 *
 * Layout (Int32 words): [HEAD, TAIL, DROPPED, pad] then CAPACITY records of RECORD_WORDS words.
 * The producer writes a record's words, then publishes it with `Atomics.store(HEAD)`; the
 * consumer reads records below HEAD, then frees them with `Atomics.store(TAIL)`.
 */
import type { DigestBatch } from '../l1/api.ts';
import type { L2EventKindCode, L2EventSink } from './events.ts';

const HEAD = 0;
const TAIL = 1;
const DROPPED = 2;
const HEADER_WORDS = 4;
/** Words per record: kind, 4 digest words, bytes, batch id. */
const RECORD_WORDS = 7;

/** One adapter's L2 event ring over a SharedArrayBuffer; construct on each side with the same buffer. */
export class L2EventRing implements L2EventSink {
  /** The shared buffer to pass to the other thread. */
  readonly buffer: SharedArrayBuffer;
  readonly #words: Int32Array;
  readonly #capacity: number;
  /** Producer side: the call whose events are being pushed, and its batch id. */
  #lastKeys: DigestBatch | undefined;
  #lastKind = 0;
  #lastIndex = -1;
  #batch = 0;

  /** Bytes a ring of `capacity` records needs. */
  static byteLength(capacity: number): number {
    return (HEADER_WORDS + capacity * RECORD_WORDS) * 4;
  }

  /** @param bufferOrCapacity - an existing ring's buffer, or the record capacity of a new ring */
  constructor(bufferOrCapacity: SharedArrayBuffer | number) {
    this.buffer = typeof bufferOrCapacity === 'number' ? new SharedArrayBuffer(L2EventRing.byteLength(bufferOrCapacity)) : bufferOrCapacity;
    this.#words = new Int32Array(this.buffer);
    this.#capacity = (this.#words.length - HEADER_WORDS) / RECORD_WORDS;
  }

  /** Appends one event (producer side); drops and counts it when the ring is full. */
  push(kind: L2EventKindCode, keys: DigestBatch, index: number, bytes: number): void {
    const head = Atomics.load(this.#words, HEAD);
    if (head - Atomics.load(this.#words, TAIL) >= this.#capacity) {
      Atomics.add(this.#words, DROPPED, 1);
      return;
    }
    if (keys !== this.#lastKeys || kind !== this.#lastKind || index <= this.#lastIndex) {
      this.#batch = (this.#batch + 1) | 0;
      this.#lastKeys = keys;
      this.#lastKind = kind;
    }
    this.#lastIndex = index;
    const at = HEADER_WORDS + (head % this.#capacity) * RECORD_WORDS;
    this.#words[at] = kind;
    for (let w = 0; w < 4; w++) this.#words[at + 1 + w] = keys[index * 4 + w];
    this.#words[at + 5] = Math.min(bytes, 0x7fffffff);
    this.#words[at + 6] = this.#batch;
    Atomics.store(this.#words, HEAD, head + 1);
  }

  /**
   * Hands every queued event to `visit` (consumer side) as `(kind, digest words, bytes, batch id)`;
   * the digest array is reused between calls. Returns the number of events drained.
   */
  drain(visit: (kind: L2EventKindCode, digest: Uint32Array, bytes: number, batch: number) => void): number {
    const head = Atomics.load(this.#words, HEAD);
    let tail = Atomics.load(this.#words, TAIL);
    const digest = new Uint32Array(4);
    const count = head - tail;
    for (; tail < head; tail++) {
      const at = HEADER_WORDS + (tail % this.#capacity) * RECORD_WORDS;
      for (let w = 0; w < 4; w++) digest[w] = this.#words[at + 1 + w];
      visit(this.#words[at] as L2EventKindCode, digest, this.#words[at + 5], this.#words[at + 6]);
    }
    Atomics.store(this.#words, TAIL, tail);
    return count;
  }

  /** Events dropped because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.#words, DROPPED);
  }
}
