/**
 * Where a chunk move's main-thread time goes: the time spent inside host copies and inside each
 * kind of WebGPU call, measured by wrapping the prototypes' methods for the duration of one call
 * (the product carries no instrumentation). Only synchronous time on the calling thread counts:
 * the queue thread's copies and the waits for them are what remains of the wall time.
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
}

/** Which count a method adds to, if any. */
const COUNTED: Readonly<Record<string, keyof CallCounts>> = { set: 'hostCopies', copyBufferToBuffer: 'copyCommands', submit: 'submits', mapAsync: 'maps' };

type Kind = 'hostCopyMs' | 'encodeMs' | 'submitMs' | 'mapMs';

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

/** Runs `call` once with the methods wrapped and returns where its main-thread time went. */
export async function mainThreadTime(call: () => Promise<unknown>): Promise<MainThreadTime> {
  const totals: Record<Kind, number> = { hostCopyMs: 0, encodeMs: 0, submitMs: 0, mapMs: 0 };
  const calls: CallCounts = { hostCopies: 0, copyCommands: 0, submits: 0, maps: 0 };
  const restore: (() => void)[] = [];
  for (const [proto, names, kind] of wrappedMethods()) for (const name of names) {
    const own = Object.getOwnPropertyDescriptor(proto, name);
    const original = (proto as Record<string, (...args: unknown[]) => unknown>)[name];
    const counted = COUNTED[name];
    Object.defineProperty(proto, name, {
      configurable: true,
      writable: true,
      value: function timed(this: unknown, ...args: unknown[]) {
        if (counted !== undefined) calls[counted]++;
        const started = performance.now();
        try {
          return original.apply(this, args);
        } finally {
          totals[kind] += performance.now() - started;
        }
      },
    });
    restore.push(() => {
      if (own === undefined) delete (proto as Record<string, unknown>)[name];
      else Object.defineProperty(proto, name, own);
    });
  }
  const started = performance.now();
  try {
    await call();
  } finally {
    for (const undo of restore) undo();
  }
  return { ...totals, wallMs: performance.now() - started, calls };
}
