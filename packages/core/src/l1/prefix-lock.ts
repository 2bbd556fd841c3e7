/**
 * Read-locking the longest prefix of a batch that L1 holds: what a prefetch does first at submit,
 * and what a GPU retrieve over a plain L1 does. `reserveRead` answers per key; a hit past the first
 * miss is of no use to a prefix (its chunk cannot be used without the ones before it), so its lock
 * is released at once.
 */
import { keyCount, pickKeys, type DigestBatch } from '../digest-batch.ts';
import { L1Error, type L1, type L1SlotResult } from './api.ts';

/** What {@link readLockPrefix} holds: the first `prefix` keys, read-locked, with their slots and sizes. */
export interface LockedL1Prefix {
  /** Leading keys read-locked (1 + extraCount locks each); release them with `finishRead`. */
  readonly prefix: number;
  /** `reserveRead`'s answer for the whole batch; entries past `prefix` hold nothing. */
  readonly read: L1SlotResult;
}

/** Read-locks the longest prefix of `keys` in L1 (1 + `extraCount` locks per key) and releases every lock past it. */
export function readLockPrefix(l1: L1, keys: DigestBatch, extraCount = 0): LockedL1Prefix {
  const read = l1.reserveRead(keys, { extraCount });
  const n = keyCount(keys);
  let prefix = read.codes.findIndex((c) => c !== L1Error.SUCCESS);
  if (prefix < 0) prefix = n;
  const pastGap: number[] = [];
  for (let i = prefix; i < n; i++) if (read.codes[i] === L1Error.SUCCESS) pastGap.push(i);
  if (pastGap.length > 0) l1.finishRead(pickKeys(keys, pastGap), { extraCount });
  return { prefix, read };
}
