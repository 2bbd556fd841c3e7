/**
 * The L1 index: an open-addressing hash table of 16-word entries in the meta
 * buffer, keyed by 128-bit digests. Digest word 0 is already uniformly distributed (SHA-256), so
 * it is the hash. Linear probing; deletion shifts later entries of the cluster back (no
 * tombstones, so probe lengths never degrade). The caller holds the index mutex for every call.
 */
import * as layout from './layout.ts';

// Module-local copies: imported bindings are live (a getter per read under tsx), too slow per probe.
const { ENTRY_SHIFT, ENTRY_WORDS } = layout;
const { STATE, SLOT } = layout.Entry;
const { EMPTY, LIVE } = layout.EntryState;

/** Probing, insertion and deletion over the table's words. */
export class IndexTable {
  /** The table as Int32 words: entry i at `[i << ENTRY_SHIFT, (i + 1) << ENTRY_SHIFT)`. */
  readonly words: Int32Array;
  /** The table as Float64 elements (the lease deadlines): entry i at `[i * ENTRY_F64, …)`. */
  readonly f64: Float64Array;
  /** Number of entries (a power of two). */
  readonly capacity: number;
  readonly #mask: number;
  readonly #slotEntry: Int32Array;

  /**
   * @param buffer - the meta buffer
   * @param byteOffset - start of the table (8-byte aligned)
   * @param capacity - entries, a power of two
   * @param slotEntry - the slot -> entry map, kept in step as entries move
   */
  constructor(buffer: SharedArrayBuffer, byteOffset: number, capacity: number, slotEntry: Int32Array) {
    this.words = new Int32Array(buffer, byteOffset, capacity * ENTRY_WORDS);
    this.f64 = new Float64Array(buffer, byteOffset, capacity * (ENTRY_WORDS / 2));
    this.capacity = capacity;
    this.#mask = capacity - 1;
    this.#slotEntry = slotEntry;
  }

  /**
   * The entry of the digest `keys[4j..4j+4)`: its index when present, else `~i` where `i` is the
   * empty entry an insert of it takes (always exists: the table is at most half full).
   */
  probe(keys: Uint32Array, j: number): number {
    const w = this.words;
    const k0 = keys[j * 4] | 0;
    const k1 = keys[j * 4 + 1] | 0;
    const k2 = keys[j * 4 + 2] | 0;
    const k3 = keys[j * 4 + 3] | 0;
    let i = k0 & this.#mask;
    for (;;) {
      const b = i << ENTRY_SHIFT;
      if (w[b + STATE] === EMPTY) return ~i;
      if (w[b] === k0 && w[b + 1] === k1 && w[b + 2] === k2 && w[b + 3] === k3) return i;
      i = (i + 1) & this.#mask;
    }
  }

  /** Fills empty entry `i` (from {@link probe}) with the digest `keys[4j..4j+4)` holding `slot`; other fields zero. */
  insert(i: number, keys: Uint32Array, j: number, slot: number): void {
    const w = this.words;
    const b = i << ENTRY_SHIFT;
    w[b] = keys[j * 4];
    w[b + 1] = keys[j * 4 + 1];
    w[b + 2] = keys[j * 4 + 2];
    w[b + 3] = keys[j * 4 + 3];
    w[b + STATE] = LIVE;
    w[b + SLOT] = slot;
    this.#slotEntry[slot] = i;
  }

  /**
   * Empties entry `i`, then moves each later entry of its cluster that may sit earlier (its home
   * position is not between the hole and itself) into the hole, so every remaining entry stays
   * reachable from its home. Only entries after `i` move, and only backwards into holes.
   */
  remove(i: number): void {
    const w = this.words;
    const mask = this.#mask;
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const bj = j << ENTRY_SHIFT;
      if (w[bj + STATE] === EMPTY) break;
      const home = w[bj] & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        const bh = hole << ENTRY_SHIFT;
        for (let k = 0; k < ENTRY_WORDS; k++) w[bh + k] = w[bj + k];
        this.#slotEntry[w[bj + SLOT]] = hole;
        hole = j;
      }
    }
    w.fill(0, hole << ENTRY_SHIFT, (hole + 1) << ENTRY_SHIFT);
  }

  /**
   * Calls `visit(i)` for every live entry; when `visit` removes entry i it returns true and i is
   * visited again (a later entry may have moved into it). An entry may be visited twice when a
   * removal near the end pulls a wrapped entry back; visitors are idempotent for kept entries.
   */
  sweep(visit: (i: number) => boolean): void {
    const w = this.words;
    for (let i = 0; i < this.capacity; ) {
      if (w[(i << ENTRY_SHIFT) + STATE] === LIVE && visit(i)) continue;
      i++;
    }
  }
}
