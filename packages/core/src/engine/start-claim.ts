/**
 * The claim word of one task start: how the main thread learns which thread a start that never
 * became ready attached to L1 from, so that giving the start up (at `workerReadyTimeoutMs`, or
 * at close) reclaims its L1 owner as a crash would, instead of leaking one of `l1.maxThreads`.
 *
 * One Int32 word, 0 until decided. The task's thread claims it with its threadId + 1 *before* it
 * attaches to L1; the main thread, giving up, takes it to {@link ABANDONED}. One compare-exchange
 * each, so exactly one side wins: either the thread never attaches, or the main thread knows the
 * thread whose owner ids (`ownersOfThread`) to reclaim once it has ended it.
 */

/** The word once the main thread gave the start up before any thread claimed it. */
const ABANDONED = -1;

/** A fresh claim word for one start (posted to the task). */
export function newStartClaim(): SharedArrayBuffer {
  return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
}

/** In the task's thread, before it attaches to L1: true when it may (the start was not given up). */
export function claimStart(claim: SharedArrayBuffer, thread: number): boolean {
  return Atomics.compareExchange(new Int32Array(claim), 0, 0, thread + 1) === 0;
}

/**
 * On the main thread, giving the start up: the threadId of the thread that claimed it (and may
 * have attached to L1), or undefined when none did — and from now on none can.
 */
export function abandonStart(claim: SharedArrayBuffer): number | undefined {
  const was = Atomics.compareExchange(new Int32Array(claim), 0, 0, ABANDONED);
  return was === 0 || was === ABANDONED ? undefined : was - 1;
}
