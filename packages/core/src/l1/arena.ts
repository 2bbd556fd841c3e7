/**
 * The L1 arena: object bytes in SharedArrayBuffer segments of at most 1 GiB, each cut into
 * fixed-size slots. Internally slots are numbered globally (`segment × slotsPerSegment + slot`);
 * callers see packed {@link SlotRef}s.
 */
import { invalidArgument } from '../errors.ts';
import type { SlotRef } from './api.ts';
import type { ResolvedL1Config } from './l1-config.ts';

/** Bits of a SlotRef holding the slot within its segment (1 GiB / 4 KiB = 2^18 slots). */
export const SLOT_BITS = 18;
const SLOT_MASK = (1 << SLOT_BITS) - 1;

/** Byte sizes of the segments for `config`: full segments of `slotsPerSegment` slots, the last one the rest. */
export function allocationSizes(config: ResolvedL1Config): number[] {
  const sizes: number[] = [];
  for (let first = 0; first < config.totalSlots; first += config.slotsPerSegment) {
    sizes.push(Math.min(config.slotsPerSegment, config.totalSlots - first) * config.slotBytes);
  }
  return sizes;
}

/** Allocates the arena's segments for `config`, one SharedArrayBuffer each. */
export function allocateSegments(config: ResolvedL1Config): SharedArrayBuffer[] {
  return allocationSizes(config).map((bytes) => new SharedArrayBuffer(bytes));
}

/** Views over the arena's segments and the SlotRef <-> global slot conversions. */
export class Arena {
  readonly #slotBytes: number;
  readonly #slotsPerSegment: number;
  readonly #totalSlots: number;
  readonly #segments: Uint8Array[];

  /** @param segments - the buffers {@link allocateSegments} made for `config` (possibly on another thread) */
  constructor(config: ResolvedL1Config, segments: readonly SharedArrayBuffer[]) {
    this.#slotBytes = config.slotBytes;
    this.#slotsPerSegment = config.slotsPerSegment;
    this.#totalSlots = config.totalSlots;
    this.#segments = segments.map((s) => new Uint8Array(s));
  }

  /** The SlotRef of global slot `g`. */
  refOf(g: number): SlotRef {
    const segment = Math.floor(g / this.#slotsPerSegment);
    return (segment << SLOT_BITS) | (g - segment * this.#slotsPerSegment);
  }

  /** The global slot of `ref`; throws INVALID_ARGUMENT naming `ref` when it is not one of ours. */
  globalOf(ref: SlotRef): number {
    if (typeof ref !== 'number' || !Number.isInteger(ref) || ref < 0 || ref > 0x7fffffff) {
      invalidArgument(`slot reference ${String(ref)} is not an L1 slot (must be a non-negative integer)`);
    }
    const segment = ref >>> SLOT_BITS;
    const slot = ref & SLOT_MASK;
    const g = segment * this.#slotsPerSegment + slot;
    if (segment >= this.#segments.length || slot >= this.#slotsPerSegment || g >= this.#totalSlots) {
      invalidArgument(`slot reference ${ref} (segment ${segment}, slot ${slot}) is not an L1 slot: ${this.#totalSlots} slots in ${this.#segments.length} segments of ${this.#slotsPerSegment}`);
    }
    return g;
  }

  /**
   * A zero-copy view of the first `size` bytes of slot `ref`. Throws INVALID_ARGUMENT when `ref`
   * is not ours or `size` exceeds the slot.
   */
  view(ref: SlotRef, size: number): Uint8Array {
    const g = this.globalOf(ref);
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || size > this.#slotBytes) {
      invalidArgument(`view size ${String(size)} is not an integer in [0, ${this.#slotBytes}] (the slot size)`);
    }
    const segment = ref >>> SLOT_BITS;
    const seg = this.#segments[segment];
    return new Uint8Array(seg.buffer, (g - segment * this.#slotsPerSegment) * this.#slotBytes, size);
  }
}
