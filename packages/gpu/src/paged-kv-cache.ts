/**
 * The engine-side KV cache on the device: `numBlocks` blocks of `blockTokens` tokens in one of the
 * two layouts of layout.ts, over as many device buffers as the device's limits require.
 */
import { checkInteger, invalidArgument } from '@kvtier/core/authoring';
import './dawn.ts';
import type { Gpu } from './device.ts';
import { KvGeometry, type KvDtype, type KvLayout, type KvShape } from './layout.ts';
import { chunkRuns } from './plan.ts';

/** Options of {@link PagedKvCache}. */
export interface PagedKvCacheOptions extends KvShape {
  /**
   * Largest device buffer to create, in bytes. Default and ceiling: the device's `maxBufferSize`
   * and `maxStorageBufferBindingSize` (the kernel binds whole buffers). Smaller values force splits.
   */
  readonly maxBufferBytes?: number;
}

const CACHE_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A paged KV cache in device memory. Owned by the thread that owns its {@link Gpu}. */
export class PagedKvCache {
  /** The device the blocks live on. */
  readonly gpu: Gpu;
  /** Sizes and offsets of the cache. */
  readonly geometry: KvGeometry;
  /** The options it was made with: after a device loss, `new PagedKvCache(await openGpu(), old.options)`. */
  readonly options: Readonly<PagedKvCacheOptions>;
  readonly #buffers: GPUBuffer[] = [];

  /**
   * Creates the device buffers. Throws `CONFIG` for a bad shape, `DEVICE_LOST`/`CLOSED` when the
   * device cannot take work.
   */
  constructor(gpu: Gpu, opts: PagedKvCacheOptions) {
    gpu.assertUsable('PagedKvCache');
    const { maxBufferSize, maxStorageBufferBindingSize } = gpu.device.limits;
    const ceiling = Math.min(maxBufferSize, maxStorageBufferBindingSize);
    const requested = opts.maxBufferBytes ?? ceiling;
    checkInteger(requested, 'maxBufferBytes', 4);
    this.gpu = gpu;
    this.geometry = new KvGeometry(opts, Math.min(requested, ceiling));
    this.options = Object.freeze({ ...opts });
    for (let i = 0; i < this.geometry.bufferCount; i++) {
      this.#buffers.push(gpu.device.createBuffer({ label: `kvtier kv cache ${i}`, size: this.geometry.bufferBytes(i), usage: CACHE_USAGE }));
    }
  }

  /** The device layout. */
  get layout(): KvLayout {
    return this.geometry.layout;
  }

  /** The element type. */
  get dtype(): KvDtype {
    return this.geometry.dtype;
  }

  /** Canonical bytes of one block. */
  get blockBytes(): number {
    return this.geometry.blockBytes;
  }

  /** Blocks in the cache. */
  get numBlocks(): number {
    return this.geometry.numBlocks;
  }

  /** Device buffers holding the blocks (more than one per logical buffer when split). */
  get buffers(): readonly GPUBuffer[] {
    return this.#buffers;
  }

  /** Throws `INVALID_ARGUMENT` naming `what` unless every entry of `blocks` is a block id of this cache. */
  validateBlocks(blocks: ArrayLike<number>, what: string): void {
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i];
      if (!Number.isInteger(b) || b < 0 || b >= this.geometry.numBlocks) {
        invalidArgument(`${what}: block table entry ${i} is ${String(b)}, not a block id in [0, ${this.geometry.numBlocks})`);
      }
    }
  }

  /**
   * Writes canonical bytes (`blocks.length × blockBytes`, block-table order) into `blocks` through
   * the queue. A helper for tests and engines; bytes on a SharedArrayBuffer are copied first
   * (dawn.node crashes on a SAB-backed `writeBuffer`).
   */
  writeBlocks(blocks: ArrayLike<number>, bytes: Uint8Array): void {
    this.gpu.assertUsable('PagedKvCache.writeBlocks');
    this.validateBlocks(blocks, 'PagedKvCache.writeBlocks');
    const size = blocks.length * this.geometry.blockBytes;
    if (bytes.byteLength !== size) invalidArgument(`PagedKvCache.writeBlocks: ${blocks.length} blocks take ${size} bytes, got ${bytes.byteLength}`);
    const data = bytes.buffer instanceof SharedArrayBuffer ? bytes.slice() : bytes;
    for (const run of chunkRuns(this.geometry, blocks, true)) {
      this.gpu.device.queue.writeBuffer(this.#buffers[run.buffer], run.offset, data, run.chunkOffset, run.bytes);
    }
  }

  /** Reads the canonical bytes of `blocks` (block-table order) back to the host. A helper for tests and engines. */
  async readBlocks(blocks: ArrayLike<number>): Promise<Uint8Array> {
    const what = 'PagedKvCache.readBlocks';
    this.gpu.assertUsable(what);
    this.validateBlocks(blocks, what);
    const size = blocks.length * this.geometry.blockBytes;
    const { device } = this.gpu;
    const staging = device.createBuffer({ label: 'kvtier readBlocks', size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const encoder = device.createCommandEncoder();
      for (const run of chunkRuns(this.geometry, blocks, true)) {
        encoder.copyBufferToBuffer(this.#buffers[run.buffer], run.offset, staging, run.chunkOffset, run.bytes);
      }
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      return new Uint8Array(staging.getMappedRange()).slice();
    } catch (err) {
      throw await this.gpu.settledFailure(err, what);
    } finally {
      staging.destroy();
    }
  }

  /** Frees the device buffers. The cache is unusable afterwards. */
  destroy(): void {
    for (const buffer of this.#buffers) buffer.destroy();
    this.#buffers.length = 0;
  }
}
