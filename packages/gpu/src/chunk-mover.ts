/**
 * Moves chunks between the paged KV cache and host memory (L1 slots), pipelined over staging rings:
 * while the host copies piece i, the GPU already copies piece i+1. The blocks of a whole call move
 * as pieces of about 3 MiB of whole blocks, cut without regard to chunk boundaries: a large chunk
 * is several pieces (staging stays small enough to stay in the CPU cache between the GPU's write
 * and the host's read, and the chunk pipelines too), and small chunks share a piece (one submit,
 * one map and one unmap carry several of them: on lavapipe each costs tens of microseconds of the
 * one thread that also does the host copies).
 *
 * store:    gather blocks -> MAP_READ staging -> mapAsync -> TypedArray.set into the host views.
 * retrieve: TypedArray.set from the host views into mapped MAP_WRITE staging -> unmap -> scatter.
 * Host views may sit on a SharedArrayBuffer: they are only ever touched with TypedArray.set, never
 * handed to `queue.writeBuffer` (which crashes dawn.node for SAB-backed views).
 */
import './dawn.ts';
import { checkInteger, invalidArgument, oneOf, parseBlock, positiveInteger } from '@kvtier/core/authoring';
import { CopyChainGather, GATHER_METHODS, type ChunkGather, type GatherMethod } from './gather.ts';
import { KernelGather } from './gather-kernel.ts';
import type { PagedKvCache } from './paged-kv-cache.ts';
import type { KvGeometry } from './layout.ts';
import { stagingOffset, type StagingOrder } from './plan.ts';
import { StagingRing, type StagingSlot } from './staging-ring.ts';

/** One chunk to move: its blocks (block-table order) and the host bytes it maps to. */
export interface ChunkTransfer {
  /** Block ids, 1 to `chunkBlocks` of them (fewer for a partial last chunk). */
  readonly blocks: ArrayLike<number>;
  /** Host bytes: at least `blocks.length × blockBytes`; only that prefix is read or written. */
  readonly view: Uint8Array;
}

/**
 * Whole blocks moved through one staging buffer: `blocks` (possibly of several chunks), in the
 * same order the parts of the chunks' views they map to, and the order they take in staging.
 */
interface Piece {
  readonly blocks: Int32Array;
  readonly views: readonly Uint8Array[];
  readonly bytes: number;
  readonly order: StagingOrder;
}

/**
 * Appends `part` to a piece's views, joined with the last one when it continues it in the same
 * buffer: staging holds the parts back to back, so a joined view is one `TypedArray.set` instead
 * of several (neighbouring L1 slots of small chunks are the common case).
 */
function appendView(views: Uint8Array[], part: Uint8Array): void {
  const last = views[views.length - 1];
  if (last !== undefined && last.buffer === part.buffer && last.byteOffset + last.byteLength === part.byteOffset) {
    views[views.length - 1] = new Uint8Array(last.buffer, last.byteOffset, last.byteLength + part.byteLength);
  } else {
    views.push(part);
  }
}

/**
 * Calls `copy(offset, part)` for every part of `piece`'s host views and the staging offset its
 * bytes take: one per view part in canonical order, one per block and run in run-major order.
 */
function forEachHostRun(geometry: KvGeometry, piece: Piece, copy: (offset: number, part: Uint8Array) => void): void {
  let offset = 0;
  if (piece.order === 'canonical') {
    for (const view of piece.views) {
      copy(offset, view);
      offset += view.byteLength;
    }
    return;
  }
  const { blockBytes, runBytes, runsPerBlock } = geometry;
  const count = piece.blocks.length;
  let index = 0;
  for (const view of piece.views) {
    for (let start = 0; start < view.byteLength; start += blockBytes, index++) {
      for (let r = 0; r < runsPerBlock; r++) {
        copy(stagingOffset(geometry, piece.order, count, index, r), view.subarray(start + r * runBytes, start + (r + 1) * runBytes));
      }
    }
  }
}

/** Options of {@link ChunkMover}. */
export interface ChunkMoverOptions {
  /** Blocks in a full chunk (`chunkSize / blockTokens`). */
  readonly chunkBlocks: number;
  /** Gather/scatter method; default `copy`. */
  readonly method?: GatherMethod;
  /**
   * Staging buffers per direction (pieces in flight), ≥ 2. Default: enough for 8 MiB in flight,
   * 3 to 16 buffers (small chunks need more in flight to hide each one's fixed latency).
   */
  readonly stagingBuffers?: number;
  /**
   * Most bytes one piece (one staging buffer) carries, rounded down to whole blocks (at least
   * one); default 3 MiB. Pieces are cut from the blocks of all chunks of a call, in order.
   */
  readonly pieceBytes?: number;
}

/** Bytes in flight per direction that the default ring depth aims at. */
const STAGING_TARGET_BYTES = 8 << 20;
const MIN_DEFAULT_STAGING = 3;
const MAX_DEFAULT_STAGING = 16;
/**
 * Default piece size: each piece costs the main thread an encoder, a submit, a map and an unmap
 * (tens of µs on lavapipe), while staging must stay in the CPU cache between the GPU's and the
 * host's copy. Measured on lavapipe (2 cores, shuffled 128 KiB blocks, interleaved in one process,
 * store/retrieve × memcpy): 1 MiB ~0.4–0.7, 2 MiB ~0.71–0.79 / 0.66–0.77, 3 MiB ~0.74–0.85 /
 * 0.68–0.81, 4 MiB ~0.75–0.84 / 0.57–0.79 (retrieve slumps), 6–8 MiB ~0.6–0.8 / 0.57–0.73.
 */
const DEFAULT_PIECE_BYTES = 3 << 20;

function defaultStagingBuffers(pieceBytes: number): number {
  return Math.min(MAX_DEFAULT_STAGING, Math.max(MIN_DEFAULT_STAGING, Math.ceil(STAGING_TARGET_BYTES / pieceBytes)));
}

/** Pipelined chunk transfers between a {@link PagedKvCache} and host memory. */
export class ChunkMover {
  /** The cache it moves blocks of. */
  readonly cache: PagedKvCache;
  /** Blocks in a full chunk. */
  readonly chunkBlocks: number;
  /** The gather/scatter method. */
  readonly method: GatherMethod;
  /** Blocks in one piece: the chunks of a call move as pieces of at most this many blocks. */
  readonly pieceBlocks: number;
  /** Staging buffers per direction: pieces in flight. */
  readonly stagingBuffers: number;
  readonly #gather: ChunkGather;
  readonly #readRing: StagingRing;
  readonly #writeRing: StagingRing;

  /** Creates the staging rings (and kernel resources) once. Throws `CONFIG` naming a bad option. */
  constructor(cache: PagedKvCache, opts: ChunkMoverOptions) {
    cache.gpu.assertUsable('ChunkMover');
    const chunkBlocks = parseBlock(positiveInteger, opts.chunkBlocks, 'chunkBlocks');
    const pieceBytes = parseBlock(positiveInteger, opts.pieceBytes ?? DEFAULT_PIECE_BYTES, 'pieceBytes');
    const pieceBlocks = Math.max(1, Math.floor(pieceBytes / cache.geometry.blockBytes));
    const stagingBuffers = opts.stagingBuffers ?? defaultStagingBuffers(pieceBlocks * cache.geometry.blockBytes);
    const method = parseBlock(oneOf(GATHER_METHODS), opts.method ?? 'copy', 'method');
    checkInteger(stagingBuffers, 'stagingBuffers', 2);
    this.cache = cache;
    this.chunkBlocks = chunkBlocks;
    this.method = method;
    this.pieceBlocks = pieceBlocks;
    this.stagingBuffers = stagingBuffers;
    const device = cache.gpu.device;
    const stagingBytes = pieceBlocks * cache.geometry.blockBytes;
    this.#gather = method === 'kernel' ? new KernelGather(cache, stagingBuffers, pieceBlocks) : new CopyChainGather(cache);
    this.#readRing = new StagingRing(device, 'read', stagingBuffers, stagingBytes);
    this.#writeRing = new StagingRing(device, 'write', stagingBuffers, stagingBytes);
  }

  /** Bytes of a full chunk. */
  get chunkBytes(): number {
    return this.chunkBlocks * this.cache.geometry.blockBytes;
  }

  /**
   * Copies each chunk's blocks into its view. Everything is validated before any GPU work
   * (`INVALID_ARGUMENT`); resolves once every view holds its bytes. Fails with `DEVICE_LOST` when
   * the device is lost; each piece of a view is then either written whole or left as it was.
   */
  async store(chunks: readonly ChunkTransfer[]): Promise<void> {
    const what = 'ChunkMover.store';
    await this.#pipeline(this.#pieces(chunks, what), this.#readRing, what, (piece, slot) => {
      const { device } = this.cache.gpu;
      const encoder = device.createCommandEncoder();
      this.#gather.encodeGather(encoder, piece.blocks, slot.buffer, slot.index, piece.order);
      device.queue.submit([encoder.finish()]);
      return slot.buffer.mapAsync(GPUMapMode.READ, 0, piece.bytes).then(() => {
        const staged = new Uint8Array(slot.buffer.getMappedRange(0, piece.bytes));
        forEachHostRun(this.cache.geometry, piece, (offset, part) => part.set(staged.subarray(offset, offset + part.byteLength)));
        slot.buffer.unmap();
      });
    });
  }

  /**
   * Copies each chunk's view into its blocks. Everything is validated before any GPU work
   * (`INVALID_ARGUMENT`); resolves once the device finished writing every block. Views are only
   * read, and each is done with before the returned promise settles.
   */
  async retrieve(chunks: readonly ChunkTransfer[]): Promise<void> {
    const what = 'ChunkMover.retrieve';
    await this.#pipeline(this.#pieces(chunks, what), this.#writeRing, what, (piece, slot) => {
      const { device } = this.cache.gpu;
      const staged = new Uint8Array(slot.buffer.getMappedRange(0, piece.bytes));
      forEachHostRun(this.cache.geometry, piece, (offset, part) => staged.set(part, offset));
      slot.buffer.unmap();
      const encoder = device.createCommandEncoder();
      this.#gather.encodeScatter(encoder, piece.blocks, slot.buffer, slot.index, piece.order);
      device.queue.submit([encoder.finish()]);
      // Resolves once the scatter ran; it also readies the buffer for its next borrower.
      return slot.buffer.mapAsync(GPUMapMode.WRITE);
    });
  }

  /** Frees staging buffers and kernel resources. */
  destroy(): void {
    this.#gather.destroy();
    this.#readRing.destroy();
    this.#writeRing.destroy();
  }

  /**
   * Runs `step` for every piece on the next ring slot; a slot is reused only when the step that
   * last held it settled. Waits for every started step even after a failure, so nothing still
   * touches a view once this settles, then throws the first failure as a KvtierError.
   */
  async #pipeline(
    pieces: readonly Piece[],
    ring: StagingRing,
    what: string,
    step: (piece: Piece, slot: StagingSlot) => Promise<unknown>,
  ): Promise<void> {
    const gpu = this.cache.gpu;
    gpu.assertUsable(what);
    const started: Promise<unknown>[] = [];
    let failure: unknown = null;
    for (const piece of pieces) {
      let slot: StagingSlot;
      try {
        slot = await ring.acquire();
      } catch (err) {
        failure = err;
        break;
      }
      let done: Promise<unknown>;
      try {
        gpu.assertUsable(what);
        done = step(piece, slot);
      } catch (err) {
        done = Promise.reject(err);
      }
      slot.release(done);
      started.push(done);
      // Stop feeding a pipeline that already failed; its error surfaces below.
      done.catch((err: unknown) => { failure ??= err; });
      if (failure !== null) break;
    }
    const results = await Promise.allSettled(started);
    for (const r of results) if (r.status === 'rejected') failure ??= r.reason;
    if (failure !== null) throw await gpu.settledFailure(failure, what);
  }

  /**
   * Checks every chunk (`INVALID_ARGUMENT` naming the first bad one), then cuts the blocks of all
   * chunks, in order, into pieces of at most `pieceBlocks` blocks, each with the parts of the views
   * it maps to (parts that continue each other in host memory, such as neighbouring L1 slots, as
   * one view: one host copy) and its staging order. Block ids are snapshotted, so a caller
   * changing its table while the moves run cannot steer them out of range.
   */
  #pieces(chunks: readonly ChunkTransfer[], what: string): Piece[] {
    const { blockBytes } = this.cache.geometry;
    const blocks = new Int32Array(chunks.reduce((sum, chunk) => sum + chunk.blocks.length, 0));
    let filled = 0;
    chunks.forEach((chunk, i) => {
      const n = chunk.blocks.length;
      if (n < 1 || n > this.chunkBlocks) invalidArgument(`${what}: chunk ${i} has ${n} blocks, expected 1 to ${this.chunkBlocks}`);
      this.cache.validateBlocks(chunk.blocks, `${what}: chunk ${i}`);
      blocks.set(chunk.blocks, filled);
      if (!(chunk.view instanceof Uint8Array)) invalidArgument(`${what}: chunk ${i} view is not a Uint8Array`);
      if (chunk.view.byteLength < n * blockBytes) {
        invalidArgument(`${what}: chunk ${i} view has ${chunk.view.byteLength} bytes, its ${n} blocks need ${n * blockBytes}`);
      }
      filled += n;
    });
    const pieces: Piece[] = [];
    let views: Uint8Array[] = [];
    let pieceStart = 0;
    filled = 0;
    for (const chunk of chunks) {
      const n = chunk.blocks.length;
      for (let first = 0; first < n;) {
        const take = Math.min(n - first, pieceStart + this.pieceBlocks - filled);
        appendView(views, chunk.view.subarray(first * blockBytes, (first + take) * blockBytes));
        first += take;
        filled += take;
        if (filled - pieceStart === this.pieceBlocks || filled === blocks.length) {
          const pieceBlocks = blocks.subarray(pieceStart, filled);
          pieces.push({ blocks: pieceBlocks, views, bytes: (filled - pieceStart) * blockBytes, order: this.#gather.stagingOrder(pieceBlocks) });
          views = [];
          pieceStart = filled;
        }
      }
    }
    return pieces;
  }
}
