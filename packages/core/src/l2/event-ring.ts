/**
 * The L2 events of one adapter, over the one event ring (shm/event-ring.ts) in a buffer of its
 * own: the adapter's host produces, the eviction worker consumes. An event's value is the key's
 * stored size.
 *
 * Events carry a batch id so the consumer can hand one adapter call's keys to its policy as one
 * batch (prefix order): the host pushes a call's events in key order over one digest batch, so a
 * new batch starts whenever the batch array, the kind, or the key order changes. The last batch id
 * lives in the buffer, not the producer: the ring outlives its host, and a restarted host's ids
 * go on from its predecessor's. Restarting at 1, a host's first batch could share the id of the
 * dead host's only batch still queued (a host crashing on its first store does just that): the
 * consumer would hand both calls' keys to the policy as one batch.
 */
import type { DigestBatch } from '../digest-batch.ts';
import { EventRing } from '../shm/event-ring.ts';
import type { L2EventKindCode, L2EventSink } from './events.ts';

/** One adapter's L2 event ring over a SharedArrayBuffer; construct on each side with the same buffer. */
export class L2EventRing implements L2EventSink {
  /** The shared buffer to pass to the other thread. */
  readonly buffer: SharedArrayBuffer;
  readonly #ring: EventRing;
  /** The buffer's words; the last one is the last batch id any producer of this ring used. */
  readonly #words: Int32Array;
  /** Producer side: the call whose events are being pushed, and its batch id. */
  #lastKeys: DigestBatch | undefined;
  #lastKind = 0;
  #lastIndex = -1;
  #batch = 0;

  /** Bytes a ring of `capacity` records needs (with its producer's claim record and the last batch id). */
  static byteLength(capacity: number): number {
    return (EventRing.CONTROL_WORDS + capacity * EventRing.RECORD_WORDS + EventRing.claimWords(1) + 1) * 4;
  }

  /** @param bufferOrCapacity - an existing ring's buffer, or the record capacity (a power of two) of a new ring */
  constructor(bufferOrCapacity: SharedArrayBuffer | number) {
    const fresh = typeof bufferOrCapacity === 'number';
    this.buffer = fresh ? new SharedArrayBuffer(L2EventRing.byteLength(bufferOrCapacity)) : bufferOrCapacity;
    const words = this.#words = new Int32Array(this.buffer);
    const capacity = (words.length - EventRing.CONTROL_WORDS - EventRing.claimWords(1) - 1) / EventRing.RECORD_WORDS;
    // One producer, the adapter's host: a host killed inside a push is forgotten before its successor pushes.
    const claims = EventRing.CONTROL_WORDS + capacity * EventRing.RECORD_WORDS;
    this.#ring = new EventRing(words, 0, EventRing.CONTROL_WORDS, capacity, { index: claims, count: 1, me: 0 });
    if (fresh) this.#ring.init();
  }

  /**
   * After the host that pushed died, before its successor pushes: the events it claimed and never
   * published are skipped by the consumer instead of stopping it for good.
   */
  forgetProducer(): void {
    this.#ring.forgetProducer(0);
  }

  /**
   * After the eviction worker that drained died, before its successor drains: a drain it died
   * inside ends (the host never drains, so the consumer drains under the same producer number).
   */
  forgetConsumer(): void {
    this.#ring.forgetConsumer(0);
  }

  /** Appends one event (producer side); drops and counts it when the ring is full. */
  push(kind: L2EventKindCode, keys: DigestBatch, index: number, bytes: number): void {
    if (keys !== this.#lastKeys || kind !== this.#lastKind || index <= this.#lastIndex) {
      // One producer at a time (a host and, after it is gone, its successor) moves the shared word.
      this.#batch = Atomics.add(this.#words, this.#words.length - 1, 1) + 1 | 0;
      this.#lastKeys = keys;
      this.#lastKind = kind;
    }
    this.#lastIndex = index;
    this.#ring.push(kind, keys, index * 4, Math.min(bytes, 0x7fffffff), this.#batch);
  }

  /**
   * Hands every queued event to `visit` (consumer side) as `(kind, digest words, bytes, batch id)`.
   * Returns the number of events drained.
   */
  drain(visit: (kind: L2EventKindCode, digest: Uint32Array, bytes: number, batch: number) => void): number {
    return this.#ring.drain(visit as (kind: number, key: Uint32Array, value: number, batch: number) => void);
  }

  /** Events dropped because the ring was full. */
  get dropped(): number {
    return this.#ring.dropped();
  }
}
