import { ErrorCode, KvtierError } from './errors.ts';

/**
 * Resolves or rejects as `promise` does, or rejects with a `KVT_ERR_TIMEOUT` error naming `what`
 * after `ms` milliseconds. The timer is cleared either way, so it never keeps the process alive.
 * The underlying work is not cancelled: the caller must release what it holds on timeout.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new KvtierError(ErrorCode.TIMEOUT, `${what} did not complete within ${ms} ms`)), ms);
    promise.then(
      (v) => { clearTimeout(timer); resolve(v); },
      (e) => { clearTimeout(timer); reject(e); },
    );
  });
}
