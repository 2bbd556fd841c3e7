/**
 * Every controller -> adapter call goes through {@link callAdapter}: it has a deadline, and a call
 * past it is abandoned (the caller releases what it holds) and counted.
 */
import { withDeadline } from '../deadline.ts';
import { ErrorCode, KvtierError } from '../errors.ts';
import { AdapterCounter, FailureReason, type AdapterOpId, type Metrics } from '../metrics.ts';

/** What {@link callAdapter} needs to know about its caller. */
export interface AdapterCallContext {
  readonly metrics: Metrics;
  /** Deadline of one call in ms. */
  readonly adapterCallTimeoutMs: number;
}

const OP_LABELS = ['store', 'load', 'lookupAndLock', 'unlock', 'delete', 'usage'];

/**
 * Runs `call()` against adapter `adapter` under the call deadline. A rejection becomes a
 * KvtierError (`KVT_ERR_ADAPTER` unless it carried a code) counted as a failure of `op`; a call
 * past its deadline is counted as abandoned and rejects with `KVT_ERR_TIMEOUT`. A late answer
 * of an abandoned call is ignored.
 */
export async function callAdapter<T>(ctx: AdapterCallContext, adapter: number, op: AdapterOpId, call: () => Promise<T>): Promise<T> {
  let promise: Promise<T>;
  try {
    promise = call();
  } catch (err) {
    promise = Promise.reject(err);
  }
  // An abandoned call may still reject later; keep that from surfacing as an unhandled rejection.
  promise.catch(() => {});
  try {
    return await withDeadline(promise, ctx.adapterCallTimeoutMs, `adapter ${adapter} ${OP_LABELS[op]}`);
  } catch (err) {
    const e = KvtierError.from(err, ErrorCode.ADAPTER);
    if (e.code === ErrorCode.TIMEOUT) {
      ctx.metrics.countAdapter(adapter, AdapterCounter.ABANDONED_CALLS);
      ctx.metrics.countFailure(adapter, op, FailureReason.TIMEOUT);
    } else {
      ctx.metrics.countFailure(adapter, op, FailureReason.ERROR);
    }
    throw e;
  }
}

/** Resolves after `ms` milliseconds (an unref'd timer: a sleeping worker does not hold the process). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
