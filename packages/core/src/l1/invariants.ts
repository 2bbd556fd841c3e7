/**
 * The invariants of L1's shared state, checked in one pass (`L1Manager.checkInvariants`, called
 * by the tests after every mutation and after the multi-thread stress runs):
 * - every slot is exactly one of: on the free stack, held by one live entry, orphaned;
 * - the orphan list holds each orphaned slot once, at its record's POS; an orphan is held (a
 *   writer or a stale hold) — an unheld one would be a leak — and has no read locks;
 * - an entry is flagged STALE_HOLDS exactly when its slot has stale holds, and is then not write-locked;
 * - the slot -> entry map points at the entry holding each held slot;
 * - every live entry is reachable from its home position (no empty entry in between);
 * - read-lock counts are ≥ 0, equal the sum of their per-thread counts, and a write-locked
 *   entry holds none; free slots have no per-thread counts;
 * - used bytes equal the sum of live object sizes, each in (0, slotBytes]; OBJECTS counts them;
 * - the dirty bitmap, the DIRTY flags and DIRTY_COUNT agree; dirty objects are finished and not temporary;
 * - an object claimed for store (STORE_OWNER) names a valid owner, is not dirty and not temporary;
 * - the read path is folded (the check runs under the mutex, which folds it): every read log
 *   empty, every unfolded word 0, every window closed (fast-reads.ts). (A reader word may read 1
 *   for a moment under the mutex: a reader that found the mutex held is backing out.)
 */
import type { L1Core } from './l1-core.ts';
import { ENTRY_SHIFT, Entry, EntryFlag, EntryState, Header, ORPHAN_WORDS, Orphan, Reader, SLOT_ORPHANED } from './layout.ts';

/** The views of an L1Core the check reads (the caller holds the index mutex). */
export type L1Views = Pick<L1Core,
  'config' | 'words' | 'meta64' | 'table' | 'freeStack' | 'slotEntry' | 'threadReads' | 'staleReads' | 'orphanList' | 'orphans' | 'dirty'
  | 'unfolded' | 'windowDeadline' | 'readerIndexOf'>;

/** Every violated invariant, one line each; empty when L1 is consistent. */
export function findInvariantViolations(v: L1Views): string[] {
  const problems: string[] = [];
  const { totalSlots, maxThreads, slotBytes } = v.config;
  const w = v.table.words;
  const mask = v.table.capacity - 1;
  const holder = new Int32Array(totalSlots).fill(-1);
  const onFreeStack = new Uint8Array(totalSlots);

  const freeTop = v.words[Header.FREE_TOP];
  if (freeTop < 0 || freeTop > totalSlots) problems.push(`FREE_TOP ${freeTop} outside [0, ${totalSlots}]`);
  for (let k = 0; k < Math.min(Math.max(freeTop, 0), totalSlots); k++) {
    const s = v.freeStack[k];
    if (s < 0 || s >= totalSlots) problems.push(`free stack[${k}] = ${s} is not a slot`);
    else if (onFreeStack[s]++) problems.push(`slot ${s} is on the free stack twice`);
  }

  const orphaned = new Uint8Array(totalSlots);
  const orphanCount = v.words[Header.ORPHANS];
  if (orphanCount < 0 || orphanCount > totalSlots) problems.push(`ORPHANS ${orphanCount} outside [0, ${totalSlots}]`);
  for (let k = 0; k < Math.min(Math.max(orphanCount, 0), totalSlots); k++) {
    const s = v.orphanList[k];
    if (s < 0 || s >= totalSlots) {
      problems.push(`orphan list[${k}] = ${s} is not a slot`);
      continue;
    }
    if (orphaned[s]++) problems.push(`slot ${s} is on the orphan list twice`);
    if (onFreeStack[s]) problems.push(`slot ${s} is orphaned and on the free stack`);
    if (v.slotEntry[s] !== SLOT_ORPHANED) problems.push(`orphaned slot ${s} maps to entry ${v.slotEntry[s]}`);
    const r = s * ORPHAN_WORDS;
    if (v.orphans[r + Orphan.POS] !== k) problems.push(`orphaned slot ${s} records list position ${v.orphans[r + Orphan.POS]}, is at ${k}`);
    const writer = v.orphans[r + Orphan.WRITER];
    if (writer < 0 || writer > maxThreads) problems.push(`orphaned slot ${s} writer ${writer} outside [0, ${maxThreads}]`);
    const stale = staleSum(v, s, problems);
    for (let t = 0; t < maxThreads; t++) {
      if (v.threadReads[s * maxThreads + t] !== 0) problems.push(`orphaned slot ${s} has read locks of owner ${t + 1}`);
    }
    if (writer === 0 && stale === 0) problems.push(`orphaned slot ${s} is held by no one (leaked)`);
    if (v.dirty.test(s)) problems.push(`orphaned slot ${s} is marked dirty`);
  }

  let live = 0;
  let used = 0;
  let dirtyEntries = 0;
  for (let i = 0; i <= mask; i++) {
    const b = i << ENTRY_SHIFT;
    if (w[b + Entry.STATE] !== EntryState.LIVE) continue;
    live++;
    const slot = w[b + Entry.SLOT];
    const size = w[b + Entry.SIZE];
    const flags = w[b + Entry.FLAGS];
    const owner = w[b + Entry.WRITE_OWNER];
    const reads = w[b + Entry.READ_COUNT];
    used += size;
    if (slot < 0 || slot >= totalSlots) {
      problems.push(`entry ${i} holds ${slot}, not a slot`);
      continue;
    }
    if (holder[slot] !== -1) problems.push(`slot ${slot} held by entries ${holder[slot]} and ${i}`);
    holder[slot] = i;
    if (onFreeStack[slot]) problems.push(`slot ${slot} held by entry ${i} and on the free stack`);
    if (orphaned[slot]) problems.push(`slot ${slot} held by entry ${i} and orphaned`);
    if (v.slotEntry[slot] !== i) problems.push(`slotEntry[${slot}] = ${v.slotEntry[slot]}, but entry ${i} holds it`);
    if (!(size > 0 && size <= slotBytes)) problems.push(`entry ${i} size ${size} outside (0, ${slotBytes}]`);
    if (owner < 0 || owner > maxThreads) problems.push(`entry ${i} write owner ${owner} outside [0, ${maxThreads}]`);
    if (reads < 0) problems.push(`entry ${i} read count ${reads} < 0`);
    if (owner !== 0 && reads !== 0) problems.push(`entry ${i} is write-locked with ${reads} read locks`);
    let sum = 0;
    for (let t = 0; t < maxThreads; t++) {
      const c = v.threadReads[slot * maxThreads + t];
      if (c < 0) problems.push(`slot ${slot} owner ${t + 1} read count ${c} < 0`);
      sum += c;
    }
    if (sum !== reads) problems.push(`entry ${i} read count ${reads} but per-thread counts sum to ${sum}`);
    const stale = staleSum(v, slot, problems);
    if ((stale !== 0) !== ((flags & EntryFlag.STALE_HOLDS) !== 0)) problems.push(`entry ${i} STALE_HOLDS flag disagrees with its slot's ${stale} stale holds`);
    if (stale !== 0 && owner !== 0) problems.push(`entry ${i} is write-locked with ${stale} stale holds`);
    const dirty = (flags & EntryFlag.DIRTY) !== 0;
    if (dirty) dirtyEntries++;
    if (dirty !== v.dirty.test(slot)) problems.push(`entry ${i} DIRTY flag disagrees with the dirty bit of slot ${slot}`);
    if (dirty && (owner !== 0 || flags & EntryFlag.TEMPORARY)) problems.push(`entry ${i} is dirty but write-locked or temporary`);
    const storer = w[b + Entry.STORE_OWNER];
    if (storer < 0 || storer > maxThreads) problems.push(`entry ${i} store owner ${storer} outside [0, ${maxThreads}]`);
    if (storer !== 0 && (dirty || flags & EntryFlag.TEMPORARY)) problems.push(`entry ${i} is claimed for store but dirty or temporary`);
    for (let p = w[b] & mask; p !== i; p = (p + 1) & mask) {
      if (w[(p << ENTRY_SHIFT) + Entry.STATE] !== EntryState.LIVE) {
        problems.push(`entry ${i} unreachable: empty entry ${p} between its home and it`);
        break;
      }
    }
  }

  for (let s = 0; s < totalSlots; s++) {
    if (holder[s] === -1 && !onFreeStack[s] && !orphaned[s]) problems.push(`slot ${s} leaked: neither free, held nor orphaned`);
    if (holder[s] === -1 && !orphaned[s]) {
      if (v.slotEntry[s] !== -1) problems.push(`free slot ${s} maps to entry ${v.slotEntry[s]}`);
      for (let t = 0; t < maxThreads; t++) if (v.threadReads[s * maxThreads + t] !== 0) problems.push(`free slot ${s} has read locks of owner ${t + 1}`);
      if (staleSum(v, s, problems) !== 0) problems.push(`free slot ${s} has stale holds`);
      if (v.dirty.test(s)) problems.push(`free slot ${s} is marked dirty`);
    }
  }
  if (live !== v.words[Header.OBJECTS]) problems.push(`${live} live entries but OBJECTS = ${v.words[Header.OBJECTS]}`);
  const usedBytes = v.meta64[Header.USED_BYTES_F64];
  if (used !== usedBytes) problems.push(`live objects hold ${used} bytes but usedBytes = ${usedBytes}`);
  if (dirtyEntries !== v.words[Header.DIRTY_COUNT]) problems.push(`${dirtyEntries} dirty entries but DIRTY_COUNT = ${v.words[Header.DIRTY_COUNT]}`);
  findUnfolded(v, problems);
  return problems;
}

/** What the read path left unfolded, one line per thread (a fold leaves none). */
function findUnfolded(v: L1Views, problems: string[]): void {
  const { totalSlots, maxThreads } = v.config;
  for (let t = 0; t < maxThreads; t++) {
    const at = v.readerIndexOf(t);
    if (v.words[at + Reader.LOG_LENGTH] !== 0) problems.push(`owner ${t + 1} read log holds ${v.words[at + Reader.LOG_LENGTH]} unfolded slots`);
    if (v.windowDeadline[t] !== Infinity) problems.push(`owner ${t + 1} read window is open (deadline ${v.windowDeadline[t]})`);
    let unfolded = 0;
    for (let s = 0; s < totalSlots; s++) if (v.unfolded[t * totalSlots + s] !== 0) unfolded++;
    if (unfolded !== 0) problems.push(`owner ${t + 1} has unfolded read locks on ${unfolded} slots`);
  }
}

/** The stale holds of `slot`, all threads together; a negative count is reported. */
function staleSum(v: L1Views, slot: number, problems: string[]): number {
  let sum = 0;
  for (let t = 0; t < v.config.maxThreads; t++) {
    const c = v.staleReads[slot * v.config.maxThreads + t];
    if (c < 0) problems.push(`slot ${slot} owner ${t + 1} stale hold count ${c} < 0`);
    sum += c;
  }
  return sum;
}
