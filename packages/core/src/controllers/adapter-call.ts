/**
 * Every controller -> adapter call goes through {@link callAdapter}: it has a deadline, and a call
 * past it is abandoned and counted. Calls that read or write L1 slots (stores, loads) go through
 * {@link callWithSlots}: the caller keeps their slots locked until the call can no longer touch
 * them — it answered, or its host's thread is gone — because a slot released earlier could be
 * reused under a late call (the rule that keeps wrong bytes out of L1 and L2).
 */
import { withDeadline } from '../deadline.ts';
import { ErrorCode, KvtierError } from '../errors.ts';
import { AdapterCounter, FailureReason, OP_NAMES, type AdapterOpId, type Metrics } from '../metrics.ts';

/** What {@link callAdapter} needs to know about its caller. */
export interface AdapterCallContext {
  readonly metrics: Metrics;
  /** Deadline of one call in ms. */
  readonly adapterCallTimeoutMs: number;
}

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
    return await withDeadline(promise, ctx.adapterCallTimeoutMs, `adapter ${adapter} ${OP_NAMES[op]}`);
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

/**
 * Which adapter host a call reaches and whether that host still lives. The hosts of one adapter
 * are numbered by generation; the engine moves an adapter past generation g only once the thread
 * of host g has exited, so a call sent to host g can no longer touch L1 after that.
 */
export interface AdapterHostLiveness {
  /** The generation of the host `adapters[adapter]` reaches now (read it when sending a call). */
  generationOf(adapter: number): number;
  /** Whether host `generation` of `adapter` is gone (its thread exited). */
  isGone(adapter: number, generation: number): boolean;
  /** Resolves once host `generation` of `adapter` is gone, or after `timeoutMs`. */
  waitGone(adapter: number, generation: number, timeoutMs: number): Promise<void>;
  /** Asks the engine to terminate host `generation` of `adapter` (it is restarted like a crashed one). */
  requestTermination(adapter: number, generation: number): void;
  /**
   * Counts a call that may read or write L1 slots on `adapter`'s host, until `slotCallEnded`: if
   * this controller dies meanwhile, the engine ends that host before reusing the slots.
   */
  slotCallStarted(adapter: number): void;
  slotCallEnded(adapter: number): void;
}

/** What {@link untilAbandonedCallEnds} needs. */
export interface AbandonedCallContext {
  readonly hosts: AdapterHostLiveness;
  /** The grace period of an abandoned call: one more call deadline. */
  readonly adapterCallTimeoutMs: number;
}

/** How often a wait for a terminated host re-checks the caller's stop flag. */
const STOP_CHECK_MS = 50;

/**
 * Resolves once an abandoned call can no longer touch the L1 slots it was given: it answered, or
 * the thread of its host exited. A call still silent one grace period after it was abandoned gets
 * its host terminated (and restarted). Until this resolves the caller must keep the slots locked:
 * released earlier, a slot could be reused and the late call would read another object's bytes
 * (storing them under the old key) or write into another object. `stopped()` ends the wait at
 * close, when nothing can reuse a slot any more.
 */
export async function untilAbandonedCallEnds(
  ctx: AbandonedCallContext, adapter: number, generation: number, call: Promise<unknown>, stopped: () => boolean,
): Promise<void> {
  let answered = false;
  const settled = call.then(() => { answered = true; }, () => { answered = true; });
  const over = () => answered || ctx.hosts.isGone(adapter, generation) || stopped();
  await Promise.race([settled, ctx.hosts.waitGone(adapter, generation, ctx.adapterCallTimeoutMs)]);
  if (over()) return;
  ctx.hosts.requestTermination(adapter, generation);
  while (!over()) await Promise.race([settled, ctx.hosts.waitGone(adapter, generation, STOP_CHECK_MS)]);
}

/** A call that reads or writes L1 slots, as {@link callWithSlots} sent it. */
export interface SlotCall<T> {
  /** The answer, with {@link callAdapter}'s deadline and error handling. */
  readonly answer: Promise<T>;
  /**
   * Resolves once the call can no longer touch its slots: at its answer, or for an abandoned call
   * once {@link untilAbandonedCallEnds} says so. Release the slots only after this.
   */
  readonly done: Promise<void>;
}

/** Sends a call that reads or writes L1 slots of adapter `adapter` (a store or a load), counted while it may touch them. */
export function callWithSlots<T>(
  ctx: AdapterCallContext & AbandonedCallContext, adapter: number, op: AdapterOpId, send: () => Promise<T>, stopped: () => boolean,
): SlotCall<T> {
  const generation = ctx.hosts.generationOf(adapter);
  ctx.hosts.slotCallStarted(adapter);
  let call: Promise<T>;
  try {
    call = send();
  } catch (err) {
    call = Promise.reject(err);
  }
  const answer = callAdapter(ctx, adapter, op, () => call);
  const done = answer.then(
    () => {},
    (err) => (KvtierError.from(err).code === ErrorCode.TIMEOUT ? untilAbandonedCallEnds(ctx, adapter, generation, call, stopped) : undefined),
  ).finally(() => ctx.hosts.slotCallEnded(adapter));
  return { answer, done };
}

/** Resolves after `ms` milliseconds (an unref'd timer: a sleeping worker does not hold the process). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
