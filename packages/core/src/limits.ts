/**
 * Fixed limits that size shared memory. Layouts and metric tables import them from here, never
 * from the config validators, so the shared-memory structures sit below config validation.
 */
import { constants as bufferConstants } from 'node:buffer';
import { totalmem } from 'node:os';

/** Most adapters one cache hosts (each gets a worker thread and per-adapter metric slots). */
export const MAX_ADAPTERS = 16;

/**
 * Largest SharedArrayBuffer L1 allocates, in bytes: the most elements a typed array may have on
 * this platform (`buffer.constants.MAX_LENGTH`: 2^32 on 64-bit Node 20, less on 32-bit builds), so
 * a `Uint8Array` can view every buffer whole. The arena's segments and L1's metadata buffer are checked
 * against it before anything is allocated.
 */
export const MAX_BUFFER_BYTES: number = bufferConstants.MAX_LENGTH;

/** Fraction of the machine's memory ({@link machineMemory}) L1 — arena plus metadata — may ask for. */
export const L1_MEMORY_FRACTION = 0.9;

/** How much memory this process can use, and where that figure comes from. */
export interface MachineMemory {
  readonly bytes: number;
  readonly source: string;
}

/**
 * The memory this process can use: `os.totalmem()`, or the cgroup limit
 * (`process.constrainedMemory()`) when that is lower — past it the kernel kills the process.
 */
export function machineMemory(): MachineMemory {
  const total = totalmem();
  const limit = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  if (typeof limit === 'number' && limit > 0 && limit < total) return { bytes: limit, source: 'the cgroup memory limit, process.constrainedMemory()' };
  return { bytes: total, source: 'os.totalmem()' };
}
