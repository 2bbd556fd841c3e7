/**
 * The adapter host's pins (docs/core/AdapterHost.md#pins): a key is pinned against eviction while
 * some owner — a prefetch request, named by its pin owner token — holds it. Pins are owned, not
 * counted: each release takes only what its owner still holds, so a late or repeated release
 * (an abandoned lookup's, a dead prefetch worker's request failed by the main thread after its
 * load already released it) can never take another request's pin.
 */
import { invalidArgument } from '../errors.ts';
import { digestHex } from '../digest-batch.ts';
import type { DigestBatch } from '../l1/api.ts';

/** Throws `KVT_ERR_INVALID_ARGUMENT` unless `owner` is a pin owner token: a positive safe integer. */
export function assertPinOwner(owner: unknown): asserts owner is number {
  if (!Number.isSafeInteger(owner) || (owner as number) < 1) invalidArgument(`owner must be a pin owner token (a positive safe integer), got ${String(owner)}`);
}

/**
 * Released owners remembered, at most. A lookup of a released owner can reach the host after the
 * release: the main thread releases a dead prefetch worker's requests on its own port, while a
 * lookup the worker sent before it died may still be queued on the worker's. Such a lookup is
 * queued behind at most the releases of one worker's requests (`prefetchMaxInFlight`, at most
 * 1024) and those of lookups past their deadline: four times that many is ample, and is 4096
 * numbers of memory. A released owner that was forgotten would pin again (until the host closes).
 */
export const RELEASED_OWNERS_KEPT = 4096;

/**
 * Pins per key and owner, and the owners released. Owners are not per worker and not released in
 * order (one counter on the main thread issues them; a dead worker's requests are released while
 * older ones queued for its successor live on), so no high-water mark tells a released owner from
 * a live one: the released are remembered one by one, the latest {@link RELEASED_OWNERS_KEPT}.
 */
export class PinTable {
  /** Per pinned key (hex digest), the owners holding it; a key with no owner is not in the map. */
  readonly #owners = new Map<string, Set<number>>();
  /** Per owner, the keys it holds. */
  readonly #held = new Map<number, Set<string>>();
  /** Per owner with lookups running here, how many. */
  readonly #looking = new Map<number, number>();
  /**
   * Owners released, oldest first (insertion order): a lookup of theirs, running or still to
   * come, pins nothing. Owners are never reused, so a released owner is never live again.
   */
  readonly #released = new Set<number>();

  /** Keys pinned now. */
  get size(): number {
    return this.#owners.size;
  }

  /** Whether key `i` of `keys` is pinned by anyone. */
  pinned(keys: DigestBatch, i: number): boolean {
    return this.#owners.has(digestHex(keys, i));
  }

  /** Whether `owner` was released (and is still remembered): a lookup of it must pin nothing. */
  released(owner: number): boolean {
    return this.#released.has(owner);
  }

  /** A lookup of `owner` starts; pair with {@link PinTable.lookupEnded}. */
  lookupStarted(owner: number): void {
    this.#looking.set(owner, (this.#looking.get(owner) ?? 0) + 1);
  }

  /** A lookup of `owner` ended; answers whether it may pin what it found (its owner was not released meanwhile). */
  lookupEnded(owner: number): boolean {
    const left = this.#looking.get(owner)! - 1;
    if (left > 0) this.#looking.set(owner, left);
    else this.#looking.delete(owner);
    return !this.#released.has(owner);
  }

  /** Pins key `i` of `keys` for `owner` (once: an owner holds a key or does not). */
  pin(keys: DigestBatch, i: number, owner: number): void {
    const key = digestHex(keys, i);
    let owners = this.#owners.get(key);
    if (owners === undefined) this.#owners.set(key, owners = new Set());
    owners.add(owner);
    let held = this.#held.get(owner);
    if (held === undefined) this.#held.set(owner, held = new Set());
    held.add(key);
  }

  /** Drops `owner`'s pins on `keys`; keys it does not hold are ignored. */
  unpin(keys: DigestBatch, owner: number): void {
    const held = this.#held.get(owner);
    if (held === undefined) return;
    for (let i = 0; i < keys.length / 4; i++) {
      const key = digestHex(keys, i);
      if (held.delete(key)) this.#drop(key, owner);
    }
    if (held.size === 0) this.#held.delete(owner);
  }

  /**
   * Drops every pin of `owner`, and makes every lookup of it — running here, or still to arrive
   * on another port — pin nothing: the owner gave it up (its deadline passed, or its prefetch
   * worker died). Past {@link RELEASED_OWNERS_KEPT}, the oldest released owner with no lookup
   * running is forgotten (one whose lookup still runs is kept: that lookup must not pin).
   */
  release(owner: number): void {
    for (const key of this.#held.get(owner) ?? []) this.#drop(key, owner);
    this.#held.delete(owner);
    this.#released.add(owner);
    for (const old of this.#released) {
      if (this.#released.size <= RELEASED_OWNERS_KEPT) return;
      if (!this.#looking.has(old)) this.#released.delete(old);
    }
  }

  /** Drops every pin (the host closes). */
  clear(): void {
    this.#owners.clear();
    this.#held.clear();
    this.#released.clear();
  }

  #drop(key: string, owner: number): void {
    const owners = this.#owners.get(key)!;
    owners.delete(owner);
    if (owners.size === 0) this.#owners.delete(key);
  }
}
