/**
 * The one event ring of kvtier's shared memory: a bounded multi-producer, single-consumer queue
 * of small events (Vyukov's bounded queue), used by L1 (inside its meta buffer; every thread
 * produces) and by each adapter's L2 events (a buffer of its own; the adapter host produces).
 * Producers claim a position with one compare-exchange on HEAD and publish the record by storing
 * its sequence word last; the consumer reads a record only once its sequence says it was
 * published, then hands it back to the producers one lap later. A full ring drops the event and
 * counts the drop; consumers reconcile what they missed (L1: `liveKeys()`, L2: `lookup`).
 *
 * Footprint: {@link EventRing.CONTROL_WORDS} consecutive control words — HEAD (next position a
 * producer claims), TAIL (next position the consumer reads), DROPPED, DRAINING (non-zero while a
 * thread drains: one consumer at a time) — wherever the owner puts them, and `capacity` records of
 * {@link EventRing.RECORD_WORDS} words: SEQ, KIND, DIGEST (4 words), VALUE, BATCH.
 * Positions are wrapping Int32s; `capacity` is a power of two. A producer with several events
 * (an {@link EventBatch} of one call) claims them all with one compare-exchange ({@link EventRing.pushAll}).
 *
 * Producers that may die (L1's: any thread can be killed, then reclaimed) each get a claim record
 * ({@link RingProducers}): START and COUNT, the positions it may be claiming, stored before its
 * compare-exchange and cleared once it published them. A producer killed between claiming and
 * publishing leaves records that would stop the consumer for good; once its claim record is
 * cleared ({@link EventRing.forgetProducer}, by whoever reclaims the dead thread), the consumer
 * skips them, counted as dropped. It never skips a live producer's: one that claimed a position
 * stored a claim covering it first and clears it only after publishing it (see {@link EventRing.drain}).
 * Such a thread drains under its own mark in DRAINING (its producer number + 1): one killed inside a
 * drain would otherwise keep every later consumer out for good, so whoever reclaims it ends its
 * drain too ({@link EventRing.forgetConsumer}).
 */
import { WordLayout } from './region.ts';

const control = new WordLayout();
const HEAD = control.words();
const TAIL = control.words();
const DROPPED = control.words();
const DRAINING = control.words();

const record = new WordLayout();
/** Equals the position when the record is free for that position's producer, position + 1 once published. */
const SEQ = record.words();
const KIND = record.words();
const DIGEST = record.words(4);
const VALUE = record.words();
const BATCH = record.words();

const claim = new WordLayout();
/** The first position the producer may be claiming. */
const START = claim.words();
/** How many positions from START it may be claiming; 0 when it claims none. */
const COUNT = claim.words();

/**
 * Words between two producers' claim records: one cache line, so a producer writes no line another
 * thread writes.
 */
export const CLAIM_STRIDE = 16;

/** Where a ring's producers' claim records are, and which one is this thread's. */
export interface RingProducers {
  /** Index of the first claim record's first word; record `i` is at `index + i * CLAIM_STRIDE`. */
  readonly index: number;
  /** Claim records, one per producer that may push. */
  readonly count: number;
  /** This thread's record (its producer number, 0..count-1), or -1 when it only consumes. */
  readonly me: number;
}

/**
 * Test hooks: `afterClaim` runs in a producer between claiming positions and publishing them (the
 * window a kill must hit to leave a record unpublished), `afterTake` in a consumer between moving
 * TAIL past a record and handing the record back, so tests stop a thread there for sure.
 */
export const ringTestHooks: { afterClaim: (() => void) | undefined; afterTake: (() => void) | undefined } = { afterClaim: undefined, afterTake: undefined };

/** Words of one event in a producer's local buffer ({@link EventRing.pushAll}): KIND, DIGEST (4 words), VALUE, BATCH. */
export const EVENT_WORDS = record.size - 1;

/** The consumer's view of one event: `key` is a fresh 4-word digest batch. */
export type EventVisitor = (kind: number, key: Uint32Array, value: number, batch: number) => void;

/** Producer and consumer ends of one ring over shared Int32 words. */
export class EventRing {
  /** Control words a ring needs, consecutive. */
  static readonly CONTROL_WORDS = control.size;
  /** Words per record. */
  static readonly RECORD_WORDS = record.size;

  readonly #w: Int32Array;
  readonly #control: number;
  readonly #records: number;
  readonly #mask: number;
  readonly #producers: RingProducers | undefined;
  /** This thread's claim record's first word, or -1 (no claim records, or a consumer only). */
  readonly #claim: number;
  /** What DRAINING holds while this thread drains: its producer number + 1, or -1 without one. */
  readonly #drainer: number;

  /**
   * Attaches to a ring (call {@link init} once, where it is created, before any producer).
   * @param words - the shared words holding it
   * @param controlIndex - index of its first control word
   * @param recordsIndex - index of its first record word
   * @param capacity - records, a power of two
   * @param producers - the producers' claim records, for a ring whose producers may die (each must then push with its own record)
   */
  constructor(words: Int32Array, controlIndex: number, recordsIndex: number, capacity: number, producers?: RingProducers) {
    if (!Number.isInteger(capacity) || capacity < 1 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`EventRing: capacity must be a power of two, got ${capacity}`);
    this.#w = words;
    this.#control = controlIndex;
    this.#records = recordsIndex;
    this.#mask = capacity - 1;
    this.#producers = producers;
    const me = producers === undefined ? -1 : producers.me;
    this.#claim = me < 0 ? -1 : producers!.index + me * CLAIM_STRIDE;
    this.#drainer = me < 0 ? -1 : me + 1;
  }

  /** Words of the claim records of `producers` producers (a region to reserve beside the ring). */
  static claimWords(producers: number): number {
    return producers * CLAIM_STRIDE;
  }

  /**
   * Clears producer `producer`'s claim record, for a producer that died (never for a live one):
   * the records it claimed and never published are skipped by the consumer from now on.
   */
  forgetProducer(producer: number): void {
    Atomics.store(this.#w, this.#producers!.index + this.#checkProducer(producer) * CLAIM_STRIDE + COUNT, 0);
  }

  /**
   * Ends the drain of the thread with producer number `producer`, for one that died inside it
   * (never for a live one): later consumers drain again. Nothing when it was not draining.
   */
  forgetConsumer(producer: number): void {
    const w = this.#w;
    const draining = this.#control + DRAINING;
    // Its mark stays until the store below: no other thread drains meanwhile.
    if (Atomics.load(w, draining) !== this.#checkProducer(producer) + 1) return;
    // Killed between moving TAIL past a record and handing the record back (#take): hand it back,
    // by compare-exchange (a record that was handed back may be a producer's again already).
    const last = (Atomics.load(w, this.#control + TAIL) - 1) | 0;
    const rec = this.#records + (last & this.#mask) * EventRing.RECORD_WORDS;
    Atomics.compareExchange(w, rec + SEQ, (last + 1) | 0, (last + this.#mask + 1) | 0);
    Atomics.store(w, draining, 0);
  }

  /** `producer`, checked to be one of this ring's producer numbers. */
  #checkProducer(producer: number): number {
    const p = this.#producers;
    if (p === undefined || !(producer >= 0 && producer < p.count)) throw new RangeError(`EventRing: no producer ${producer}`);
    return producer;
  }

  /** Prepares a fresh ring: every record free for the producer of its position in the first lap. */
  init(): void {
    for (let i = 0; i <= this.#mask; i++) this.#w[this.#records + i * EventRing.RECORD_WORDS + SEQ] = i;
  }

  /**
   * Appends an event: `kind`, the digest at `src[at..at+4)`, `value` and the producer's `batch`
   * id; false (and counted) when the ring is full.
   */
  push(kind: number, src: Int32Array | Uint32Array, at: number, value: number, batch: number): boolean {
    const w = this.#w;
    const head = this.#control + HEAD;
    const claim = this.#claimStart(1);
    let pos = Atomics.load(w, head);
    for (;;) {
      const rec = this.#records + (pos & this.#mask) * EventRing.RECORD_WORDS;
      const diff = (Atomics.load(w, rec + SEQ) - pos) | 0;
      if (diff === 0) {
        if (claim >= 0) Atomics.store(w, claim + START, pos);
        const claimed = Atomics.compareExchange(w, head, pos, (pos + 1) | 0);
        if (claimed === pos) {
          ringTestHooks.afterClaim?.();
          w[rec + KIND] = kind;
          w[rec + DIGEST] = src[at];
          w[rec + DIGEST + 1] = src[at + 1];
          w[rec + DIGEST + 2] = src[at + 2];
          w[rec + DIGEST + 3] = src[at + 3];
          w[rec + VALUE] = value;
          w[rec + BATCH] = batch;
          Atomics.store(w, rec + SEQ, (pos + 1) | 0);
          if (claim >= 0) Atomics.store(w, claim + COUNT, 0);
          return true;
        }
        pos = claimed;
      } else if (diff < 0) {
        // The record still holds an event from the previous lap: the consumer is a lap behind.
        if (claim >= 0) Atomics.store(w, claim + COUNT, 0);
        Atomics.add(w, this.#control + DROPPED, 1);
        return false;
      } else {
        pos = Atomics.load(w, head);
      }
    }
  }

  /**
   * Appends `count` events of `events` (records of {@link EVENT_WORDS} words: kind, digest, value,
   * batch), in order, claiming their positions with one compare-exchange: one contended word per
   * call, not per event. When the ring has room for only some of them, the first ones that fit are
   * kept and the rest dropped and counted (one add for all).
   */
  pushAll(events: Int32Array, count: number): void {
    if (count === 0) return;
    const w = this.#w;
    const head = this.#control + HEAD;
    const claim = this.#claimStart(count);
    let pos = Atomics.load(w, head);
    for (;;) {
      const fit = this.#roomAt(pos, count);
      if (fit < 0) {
        pos = Atomics.load(w, head);
        continue;
      }
      if (fit > 0) {
        if (claim >= 0) Atomics.store(w, claim + START, pos);
        const claimed = Atomics.compareExchange(w, head, pos, (pos + fit) | 0);
        if (claimed !== pos) {
          pos = claimed;
          continue;
        }
        ringTestHooks.afterClaim?.();
        for (let i = 0; i < fit; i++) {
          const p = (pos + i) | 0;
          const rec = this.#records + (p & this.#mask) * EventRing.RECORD_WORDS;
          for (let k = 0; k < EVENT_WORDS; k++) w[rec + KIND + k] = events[i * EVENT_WORDS + k];
          Atomics.store(w, rec + SEQ, (p + 1) | 0);
        }
      }
      if (claim >= 0) Atomics.store(w, claim + COUNT, 0);
      if (fit < count) Atomics.add(w, this.#control + DROPPED, count - fit);
      return;
    }
  }

  /**
   * Opens this producer's claim for up to `count` positions (START follows before each
   * compare-exchange); answers its record's first word, or -1 for a ring without claim records.
   */
  #claimStart(count: number): number {
    const claim = this.#claim;
    if (claim >= 0) Atomics.store(this.#w, claim + COUNT, count);
    else if (this.#producers !== undefined) throw new RangeError('EventRing: this thread has no producer claim record; it may only consume');
    return claim;
  }

  /**
   * Whether the claimed, unpublished record at `pos` (the consumer's next) was claimed by a producer
   * that is gone. A producer stores a claim covering a position before claiming it, and clears it
   * only after publishing it: so when no claim covers `pos` once HEAD has passed it, its producer
   * either published it (the second look at SEQ sees that: the publish came before the clear) or
   * died and was forgotten. Without claim records, no producer is ever gone.
   */
  #abandoned(pos: number, rec: number): boolean {
    const p = this.#producers;
    const w = this.#w;
    if (p === undefined || Atomics.load(w, rec + SEQ) !== pos || ((Atomics.load(w, this.#control + HEAD) - pos) | 0) <= 0) return false;
    for (let i = 0; i < p.count; i++) {
      const at = p.index + i * CLAIM_STRIDE;
      const count = Atomics.load(w, at + COUNT);
      if (count > 0 && ((pos - Atomics.load(w, at + START)) >>> 0) < count) return false;
    }
    return Atomics.load(w, rec + SEQ) === pos;
  }

  /**
   * How many of `count` records from position `pos` on are free for this lap (the consumer frees
   * them in order, so when one is free every earlier one is: a binary search), or -1 when `pos`
   * is stale (another producer claimed it).
   */
  #roomAt(pos: number, count: number): number {
    const first = this.#lapOf(pos);
    if (first > 0) return -1;
    if (first < 0) return 0;
    let lo = 1;
    let hi = Math.min(count, this.#mask + 1);
    if (this.#lapOf((pos + hi - 1) | 0) === 0) return hi;
    // Invariant: record lo - 1 is free, record hi - 1 is not.
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (this.#lapOf((pos + mid - 1) | 0) === 0) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /** Position `p`'s record against `p`: 0 when free for it, below 0 while a lap behind, above 0 once claimed for it. */
  #lapOf(p: number): number {
    return (Atomics.load(this.#w, this.#records + (p & this.#mask) * EventRing.RECORD_WORDS + SEQ) - p) | 0;
  }

  /**
   * Hands up to `max` published events to `visit`, in order, skipping (and counting as dropped)
   * records a forgotten producer claimed and never published. One consumer at a time: while
   * another thread drains, returns 0 at once. Returns the number of events handed over.
   */
  drain(visit: EventVisitor, max = Infinity): number {
    const w = this.#w;
    const draining = this.#control + DRAINING;
    if (Atomics.compareExchange(w, draining, 0, this.#drainer) !== 0) return 0;
    let count = 0;
    try {
      let pos = Atomics.load(w, this.#control + TAIL);
      while (count < max) {
        const rec = this.#records + (pos & this.#mask) * EventRing.RECORD_WORDS;
        if (Atomics.load(w, rec + SEQ) !== ((pos + 1) | 0)) {
          if (!this.#abandoned(pos, rec)) break;
          // Its producer died between claiming and publishing it: hand it back, counted as dropped.
          pos = this.#take(pos, rec);
          Atomics.add(w, this.#control + DROPPED, 1);
          continue;
        }
        const kind = w[rec + KIND];
        const value = w[rec + VALUE];
        const batch = w[rec + BATCH];
        const key = new Uint32Array(4);
        for (let k = 0; k < 4; k++) key[k] = w[rec + DIGEST + k];
        pos = this.#take(pos, rec);
        count++;
        visit(kind, key, value, batch);
      }
    } finally {
      Atomics.store(w, draining, 0);
    }
    return count;
  }

  /**
   * Moves TAIL past position `pos` (record `rec`, read or skipped), then hands the record back to
   * the producers for the next lap; answers the next position. In this order, a consumer killed
   * between the two leaves a record {@link forgetConsumer} can hand back; in the other, TAIL would
   * stay on a record already handed back, which no later drain could pass.
   */
  #take(pos: number, rec: number): number {
    const next = (pos + 1) | 0;
    Atomics.store(this.#w, this.#control + TAIL, next);
    ringTestHooks.afterTake?.();
    Atomics.store(this.#w, rec + SEQ, (pos + this.#mask + 1) | 0);
    return next;
  }

  /** Events published and not yet drained (approximate while producers run). */
  pending(): number {
    return (Atomics.load(this.#w, this.#control + HEAD) - Atomics.load(this.#w, this.#control + TAIL)) | 0;
  }

  /** Events dropped because the ring was full. */
  dropped(): number {
    return Atomics.load(this.#w, this.#control + DROPPED);
  }
}
