/**
 * Inline emergency eviction: what `reserveWrite` does when L1 has no free slot, under the mutex,
 * before answering OUT_OF_MEMORY. The eviction worker normally keeps L1 below its watermark; a
 * batch that evicts inline wakes it (the emergency channel) so it catches up.
 */
import type { L1Core } from './l1-core.ts';
import * as layout from './layout.ts';

const { ENTRY_SHIFT } = layout;
const Header = { ...layout.Header };
const { STATE, FLAGS, TICK, WRITE_OWNER, READ_COUNT } = layout.Entry;
const { TEMPORARY, DIRTY, STALE_HOLDS } = layout.EntryFlag;

/**
 * Frees one slot, Redis-style sampled LRU: from a random table position, samples up to
 * `emergencySample` unlocked, non-temporary entries and removes the least recently touched,
 * preferring objects already stored (not dirty). Locked objects are skipped even past their lease,
 * and so are objects whose slot has stale holds: removing them would free no slot (their holders
 * keep it, stale-holds.ts). False when nothing is evictable. Reads the access tick of the current hold.
 */
export function evictOne(c: L1Core): boolean {
  const tw = c.tw;
  const tick = c.tick;
  const capacity = c.table.capacity;
  const mask = capacity - 1;
  let best = -1;
  let bestScore = -1;
  let sampled = 0;
  let i = Math.floor(Math.random() * capacity);
  for (let seen = 0; seen < capacity && sampled < c.config.emergencySample; seen++, i = (i + 1) & mask) {
    const b = i << ENTRY_SHIFT;
    if (tw[b + STATE] === 0) continue;
    if (tw[b + WRITE_OWNER] !== 0 || tw[b + READ_COUNT] !== 0) continue;
    const flags = tw[b + FLAGS];
    if (flags & (TEMPORARY | STALE_HOLDS)) continue;
    sampled++;
    // Age in ticks (wrapping u32), plus 2^32 for clean objects: clean beats dirty, then oldest first.
    const score = ((tick - tw[b + TICK]) >>> 0) + (flags & DIRTY ? 0 : 2 ** 32);
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  if (best < 0) return false;
  c.words[Header.EMERGENCY_EVICTIONS]++;
  c.evictedInline = true;
  c.removeEntry(best);
  return true;
}
