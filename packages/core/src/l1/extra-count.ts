/**
 * The one rule for `extraCount`, the extra read locks a read takes per key (so several consumers
 * of one prefetch can each release their own): a number, an integer, clamped to [0, 127]. L1 and
 * the facade both apply it, so a value means the same wherever it is given.
 */
import { invalidArgument } from '../errors.ts';

/** Most extra read locks per key: a larger extraCount is clamped to it. */
export const MAX_EXTRA_COUNT = 127;

/**
 * `opts.extraCount` (default 0) clamped to [0, {@link MAX_EXTRA_COUNT}].
 * @throws KvtierError `KVT_ERR_INVALID_ARGUMENT` for a value that is not a number, or not an integer.
 */
export function extraCountOf(opts: { extraCount?: number } | undefined): number {
  const n = opts?.extraCount ?? 0;
  if (typeof n !== 'number' || Number.isNaN(n)) invalidArgument(`extraCount must be a number, got ${String(n)}`);
  if (!Number.isInteger(n)) invalidArgument(`extraCount must be an integer (clamped to [0, ${MAX_EXTRA_COUNT}]), got ${String(n)}`);
  return Math.min(MAX_EXTRA_COUNT, Math.max(0, n));
}
