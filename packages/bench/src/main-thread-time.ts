/**
 * Where a chunk move's main-thread time goes: the time spent inside host copies, inside each kind
 * of WebGPU call and inside dawn.node's event polling, measured by wrapping the prototypes' methods
 * and `setImmediate` for the duration of one call (the product carries no instrumentation). Only
 * synchronous time on the calling thread counts, each instant to one kind (a wrapped call made
 * inside another is charged to the inner one): the queue thread's copies and the waits for them
 * are what remains of the wall time.
 */
import '@kvtier/gpu';

/** Main-thread milliseconds by kind of work, and the wall time of the measured call. */
export interface MainThreadTime {
  /** `TypedArray.set` on a `Uint8Array`: staging <-> host view. */
  readonly hostCopyMs: number;
  /** `createCommandEncoder`, `copyBufferToBuffer`, compute-pass encoding, `finish`. */
  readonly encodeMs: number;
  /** `queue.submit` (Dawn records the commands into the backend here). */
  readonly submitMs: number;
  /** `mapAsync` (its synchronous part), `getMappedRange`, `unmap`. */
  readonly mapMs: number;
  /**
   * Callbacks run through `setImmediate`: dawn.node's event polling. While any `mapAsync` is
   * pending it calls `instance.processEvents()` (Dawn's device tick) on every turn of the event
   * loop, so a main thread that waits for the queue thread spends this time spinning.
   */
  readonly pollMs: number;
  /** Wall time of the whole call. */
  readonly wallMs: number;
  /** Calls of the kinds that cost per call: host copies, copy commands, submits, `mapAsync`. */
  readonly calls: CallCounts;
}

/** Calls made during the measured call. */
export interface CallCounts {
  /** `TypedArray.set` calls on a `Uint8Array`. */
  hostCopies: number;
  /** `copyBufferToBuffer` calls. */
  copyCommands: number;
  /** `queue.submit` calls. */
  submits: number;
  /** `mapAsync` calls. */
  maps: number;
  /** Polling turns (`setImmediate` callbacks). */
  polls: number;
}

/** Which count a method adds to, if any. */
const COUNTED: Readonly<Record<string, keyof CallCounts>> = { set: 'hostCopies', copyBufferToBuffer: 'copyCommands', submit: 'submits', mapAsync: 'maps' };

type Kind = 'hostCopyMs' | 'encodeMs' | 'submitMs' | 'mapMs' | 'pollMs';

/** The methods wrapped, by prototype and the kind of work they count as. */
function wrappedMethods(): [object, readonly string[], Kind][] {
  const g = globalThis as unknown as Record<string, { prototype: object }>;
  return [
    [Uint8Array.prototype, ['set'], 'hostCopyMs'],
    [g.GPUDevice.prototype, ['createCommandEncoder'], 'encodeMs'],
    [g.GPUCommandEncoder.prototype, ['copyBufferToBuffer', 'beginComputePass', 'finish'], 'encodeMs'],
    [g.GPUComputePassEncoder.prototype, ['setPipeline', 'setBindGroup', 'dispatchWorkgroups', 'end'], 'encodeMs'],
    [g.GPUQueue.prototype, ['submit'], 'submitMs'],
    [g.GPUBuffer.prototype, ['mapAsync', 'getMappedRange', 'unmap'], 'mapMs'],
  ];
}

/**
 * Exclusive time per kind: entering a timed region charges the time so far to the region it
 * interrupts, so nested regions (a map callback inside a polling turn) are not counted twice.
 */
class Clock {
  readonly totals: Record<Kind, number> = { hostCopyMs: 0, encodeMs: 0, submitMs: 0, mapMs: 0, pollMs: 0 };
  #active: Kind | null = null;
  #since = 0;

  /** Runs `body` charged to `kind`. */
  time<T>(kind: Kind, body: () => T): T {
    const outer = this.#switchTo(kind);
    try {
      return body();
    } finally {
      this.#switchTo(outer);
    }
  }

  #switchTo(kind: Kind | null): Kind | null {
    const now = performance.now();
    if (this.#active !== null) this.totals[this.#active] += now - this.#since;
    const previous = this.#active;
    this.#active = kind;
    this.#since = now;
    return previous;
  }
}

/** Replaces `owner[name]` for the measured call; returns the undo. */
function replace(owner: object, name: string, value: unknown): () => void {
  const own = Object.getOwnPropertyDescriptor(owner, name);
  Object.defineProperty(owner, name, { configurable: true, writable: true, value });
  return () => {
    if (own === undefined) delete (owner as Record<string, unknown>)[name];
    else Object.defineProperty(owner, name, own);
  };
}

/** Runs `call` once with the methods wrapped and returns where its main-thread time went. */
export async function mainThreadTime(call: () => Promise<unknown>): Promise<MainThreadTime> {
  const clock = new Clock();
  const calls: CallCounts = { hostCopies: 0, copyCommands: 0, submits: 0, maps: 0, polls: 0 };
  let measuring = true;
  const restore: (() => void)[] = [];
  for (const [proto, names, kind] of wrappedMethods()) for (const name of names) {
    const original = (proto as Record<string, (...args: unknown[]) => unknown>)[name];
    const counted = COUNTED[name];
    restore.push(replace(proto, name, function timed(this: unknown, ...args: unknown[]) {
      if (counted !== undefined) calls[counted]++;
      return clock.time(kind, () => original.apply(this, args));
    }));
  }
  // dawn.node looks `setImmediate` up on the global object for every polling turn it schedules.
  const setImmediate = globalThis.setImmediate;
  restore.push(replace(globalThis, 'setImmediate', (callback: (...args: unknown[]) => void, ...args: unknown[]) => setImmediate((...a: unknown[]) => {
    if (!measuring) return callback(...a);
    calls.polls++;
    return clock.time('pollMs', () => callback(...a));
  }, ...args)));
  const started = performance.now();
  try {
    await call();
  } finally {
    measuring = false;
    for (const undo of restore) undo();
  }
  return { ...clock.totals, wallMs: performance.now() - started, calls };
}
