/**
 * Adapter host generations over the control block (layout.ts): the controllers' side
 * ({@link HostGenerations}, what `AdapterHostLiveness` needs) and the main thread's side
 * ({@link hostGone}, {@link takeTerminationRequests}).
 */
import type { AdapterHostLiveness } from '../controllers/adapter-call.ts';
import { MAX_ADAPTERS } from '../limits.ts';
import { Control, SLOT_CALLERS } from './layout.ts';
import { bumpWord, waitWord } from '../shm/wake.ts';

/** Index of the SLOT_CALLS word of `caller`'s calls to `adapter`. */
function slotCallsWord(caller: (typeof SLOT_CALLERS)[number], adapter: number): number {
  return Control.SLOT_CALLS + SLOT_CALLERS.indexOf(caller) * MAX_ADAPTERS + adapter;
}

/** A controller's view of the adapter hosts it talks to: which generation each proxy reaches. */
export class HostGenerations implements AdapterHostLiveness {
  readonly #control: Int32Array;
  /** Generation of the host each adapter proxy was connected to. */
  readonly #connected: number[];
  readonly #caller: (typeof SLOT_CALLERS)[number];

  /**
   * @param control - the control block's words
   * @param connected - per adapter, the generation of the host its proxy reaches
   * @param caller - the controller whose slot calls this counts
   */
  constructor(control: Int32Array, connected: readonly number[], caller: (typeof SLOT_CALLERS)[number]) {
    this.#control = control;
    this.#connected = [...connected];
    this.#caller = caller;
  }

  slotCallStarted(adapter: number): void {
    Atomics.add(this.#control, slotCallsWord(this.#caller, adapter), 1);
  }

  slotCallEnded(adapter: number): void {
    Atomics.sub(this.#control, slotCallsWord(this.#caller, adapter), 1);
  }

  /** Records that adapter `adapter`'s proxy now reaches the host of `generation` (after a restart). */
  connect(adapter: number, generation: number): void {
    this.#connected[adapter] = generation;
  }

  generationOf(adapter: number): number {
    return this.#connected[adapter];
  }

  isGone(adapter: number, generation: number): boolean {
    return Atomics.load(this.#control, Control.HOST_GENERATION + adapter) > generation;
  }

  async waitGone(adapter: number, generation: number, timeoutMs: number): Promise<void> {
    const word = Control.HOST_GENERATION + adapter;
    const until = performance.now() + timeoutMs;
    for (let now = performance.now(); now < until; now = performance.now()) {
      const seen = Atomics.load(this.#control, word);
      if (seen > generation) return;
      await waitWord(this.#control, word, seen, until - now);
    }
  }

  requestTermination(adapter: number, generation: number): void {
    // A later generation's request stands: never replace it with an older one.
    const word = Control.TERMINATE + adapter;
    for (let seen = Atomics.load(this.#control, word); seen < generation + 1; seen = Atomics.load(this.#control, word)) {
      if (Atomics.compareExchange(this.#control, word, seen, generation + 1) === seen) break;
    }
    bumpWord(this.#control, Control.TERMINATE_WAKE);
  }
}

/** Main thread: the host thread of adapter `adapter` has exited; returns the new generation. */
export function hostGone(control: Int32Array, adapter: number): number {
  const word = Control.HOST_GENERATION + adapter;
  const generation = Atomics.add(control, word, 1) + 1;
  Atomics.notify(control, word);
  return generation;
}

/**
 * Main thread: takes the pending termination requests; returns the adapters whose current host
 * was asked to end (requests for hosts already gone are dropped).
 */
export function takeTerminationRequests(control: Int32Array, adapters: number): number[] {
  const out: number[] = [];
  for (let a = 0; a < adapters; a++) {
    const requested = Atomics.exchange(control, Control.TERMINATE + a, 0);
    if (requested !== 0 && requested - 1 === Atomics.load(control, Control.HOST_GENERATION + a)) out.push(a);
  }
  return out;
}

/** Main thread: whether `caller` has calls that may still touch L1 slots on `adapter`'s host. */
export function hasSlotCalls(control: Int32Array, caller: (typeof SLOT_CALLERS)[number], adapter: number): boolean {
  return Atomics.load(control, slotCallsWord(caller, adapter)) > 0;
}

/** Main thread: forgets a dead caller's slot calls (its hosts were ended) before it restarts. */
export function clearSlotCalls(control: Int32Array, caller: (typeof SLOT_CALLERS)[number]): void {
  for (let a = 0; a < MAX_ADAPTERS; a++) Atomics.store(control, slotCallsWord(caller, a), 0);
}
