/**
 * A ring of separate mappable staging buffers, created once and reused (a fresh 16 MiB mapped
 * buffer costs ~18 ms, a reused one ~1.2 ms). Separate buffers because a buffer with any mapped
 * range cannot be used in a submit, so one buffer per chunk in flight.
 */
import './dawn.ts';

/** `read`: MAP_READ | COPY_DST (device -> host). `write`: MAP_WRITE | COPY_SRC (host -> device). */
export type StagingDirection = 'read' | 'write';

/** A staging buffer lent by {@link StagingRing.acquire}; give it back with {@link StagingSlot.release}. */
export interface StagingSlot {
  /** Position in the ring, for per-slot resources kept by others. */
  readonly index: number;
  /** The staging buffer: unmapped for `read` rings, mapped for writing for `write` rings. */
  readonly buffer: GPUBuffer;
  /** Returns the slot; the next borrower gets it once `done` settles (resolved or rejected). */
  release(done: Promise<unknown>): void;
}

interface Entry {
  readonly buffer: GPUBuffer;
  free: Promise<unknown>;
}

/** A fixed ring of staging buffers lent round-robin, in request order. */
export class StagingRing {
  readonly #direction: StagingDirection;
  readonly #entries: Entry[] = [];
  #cursor = 0;

  /**
   * @param device - the device
   * @param direction - which way the bytes go
   * @param count - buffers in the ring (≥ 2 lets a chunk's GPU copy overlap another's host copy)
   * @param bytes - size of each buffer, a multiple of 4
   */
  constructor(device: GPUDevice, direction: StagingDirection, count: number, bytes: number) {
    this.#direction = direction;
    const usage = direction === 'read' ? GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST : GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC;
    for (let i = 0; i < count; i++) {
      const buffer = device.createBuffer({ label: `kvtier staging ${direction} ${i}`, size: bytes, usage, mappedAtCreation: direction === 'write' });
      this.#entries.push({ buffer, free: Promise.resolve() });
    }
  }

  /**
   * Lends the next buffer once its previous borrower is done with it, in the state its direction
   * promises (a `write` buffer whose re-map failed is mapped again here). Rejects when that fails.
   */
  async acquire(): Promise<StagingSlot> {
    const index = this.#cursor;
    this.#cursor = (this.#cursor + 1) % this.#entries.length;
    const entry = this.#entries[index];
    const previous = entry.free;
    let settle!: () => void;
    entry.free = new Promise<void>((resolve) => { settle = resolve; });
    const slot: StagingSlot = {
      index,
      buffer: entry.buffer,
      release: (done) => { done.then(settle, settle); },
    };
    try {
      await previous;
      const { buffer } = entry;
      if (this.#direction === 'write' && buffer.mapState === 'unmapped') await buffer.mapAsync(GPUMapMode.WRITE);
      if (this.#direction === 'read' && buffer.mapState === 'mapped') buffer.unmap();
    } catch (err) {
      settle();
      throw err;
    }
    return slot;
  }

  /** Destroys the buffers. */
  destroy(): void {
    for (const { buffer } of this.#entries) buffer.destroy();
  }
}
