/**
 * Where every KV byte lives: the shape of one block, the two device layouts, the split of large
 * logical buffers into device buffers, and the canonical chunk format L1 holds.
 *
 * Canonical block bytes (what L1 stores, identical for both layouts, so a chunk stored from one
 * layout loads into the other): `[layer][K|V][token][kvHead][headDim]` elements of `dtype`.
 * A chunk is its blocks' canonical bytes back to back, in block-table order.
 *
 * A block splits into `runsPerBlock` runs of `runBytes`, each contiguous on the device:
 * - `block-contiguous`: one logical buffer, block `b` at `b * blockBytes`; one run per block.
 * - `per-layer`: one logical buffer per layer, block `b` at `b * 2 * slabBytes` (K then V); run `r`
 *   is layer `r`, at canonical offset `r * runBytes`.
 * Logical buffer `l` is cut into device buffers of `blocksPerBuffer` whole blocks (a block never
 * straddles two buffers); device buffer index = `l * buffersPerLogical + floor(b / blocksPerBuffer)`.
 */
import { ErrorCode, KvtierError } from '@kvtier/core';
import { oneOf, parseBlock, positiveInteger } from '@kvtier/core/authoring';

/** Element type of the KV cache. f16 data is moved as bytes; nothing converts it. */
export type KvDtype = 'f16' | 'f32';
/** Device layout of the KV cache. */
export type KvLayout = 'block-contiguous' | 'per-layer';

/** The shape of a paged KV cache. */
export interface KvShape {
  /** Transformer layers, ≥ 1. */
  readonly layers: number;
  /** KV heads per layer, ≥ 1. */
  readonly kvHeads: number;
  /** Elements per head, ≥ 1. */
  readonly headDim: number;
  /** Tokens per block, ≥ 1. */
  readonly blockTokens: number;
  /** Blocks in the cache, ≥ 1. */
  readonly numBlocks: number;
  /** Element type; default `f16`. */
  readonly dtype?: KvDtype;
  /** Device layout; default `block-contiguous`. */
  readonly layout?: KvLayout;
}

const DTYPE_BYTES: Record<KvDtype, number> = { f16: 2, f32: 4 };
const LAYOUTS: readonly KvLayout[] = ['block-contiguous', 'per-layer'];

const DTYPES = Object.keys(DTYPE_BYTES) as KvDtype[];

/** Device location of one run of one block. */
export interface RunLocation {
  /** Index of the device buffer. */
  readonly buffer: number;
  /** Byte offset in that buffer. */
  readonly offset: number;
}

/** A validated {@link KvShape} and every size and offset derived from it. */
export class KvGeometry {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly blockTokens: number;
  readonly numBlocks: number;
  readonly dtype: KvDtype;
  readonly layout: KvLayout;
  /** Bytes of one layer's K (or V) in one block. */
  readonly slabBytes: number;
  /** Canonical bytes of one block: all layers, K and V. */
  readonly blockBytes: number;
  /** Device-contiguous runs one block splits into. */
  readonly runsPerBlock: number;
  /** Bytes of one run; always a multiple of 4 (it holds K and V, an even element count). */
  readonly runBytes: number;
  /** Logical buffers: 1 (block-contiguous) or `layers` (per-layer). */
  readonly logicalBuffers: number;
  /** Whole blocks per device buffer. */
  readonly blocksPerBuffer: number;
  /** Device buffers per logical buffer. */
  readonly buffersPerLogical: number;

  /**
   * @param shape - the cache shape (validated; CONFIG errors name the field)
   * @param maxBufferBytes - the largest device buffer to create (device limits, or smaller)
   */
  constructor(shape: KvShape, maxBufferBytes: number) {
    this.layers = parseBlock(positiveInteger, shape.layers, 'layers');
    this.kvHeads = parseBlock(positiveInteger, shape.kvHeads, 'kvHeads');
    this.headDim = parseBlock(positiveInteger, shape.headDim, 'headDim');
    this.blockTokens = parseBlock(positiveInteger, shape.blockTokens, 'blockTokens');
    this.numBlocks = parseBlock(positiveInteger, shape.numBlocks, 'numBlocks');
    this.dtype = parseBlock(oneOf(DTYPES), shape.dtype ?? 'f16', 'dtype');
    this.layout = parseBlock(oneOf(LAYOUTS), shape.layout ?? 'block-contiguous', 'layout');
    this.slabBytes = this.blockTokens * this.kvHeads * this.headDim * DTYPE_BYTES[this.dtype];
    this.blockBytes = this.layers * 2 * this.slabBytes;
    const perLayer = this.layout === 'per-layer';
    this.runsPerBlock = perLayer ? this.layers : 1;
    this.runBytes = perLayer ? 2 * this.slabBytes : this.blockBytes;
    this.logicalBuffers = this.runsPerBlock;
    this.blocksPerBuffer = Math.min(this.numBlocks, Math.floor(maxBufferBytes / this.runBytes));
    if (this.blocksPerBuffer < 1) {
      throw new KvtierError(ErrorCode.CONFIG, `config.maxBufferBytes: ${maxBufferBytes} bytes cannot hold one ${this.layout} block run of ${this.runBytes} bytes`);
    }
    this.buffersPerLogical = Math.ceil(this.numBlocks / this.blocksPerBuffer);
  }

  /** Device buffers the cache needs. */
  get bufferCount(): number {
    return this.logicalBuffers * this.buffersPerLogical;
  }

  /** Bytes of device buffer `index` (the last of each logical buffer may hold fewer blocks). */
  bufferBytes(index: number): number {
    const inLogical = index % this.buffersPerLogical;
    const blocks = Math.min(this.blocksPerBuffer, this.numBlocks - inLogical * this.blocksPerBuffer);
    return blocks * this.runBytes;
  }

  /** Where run `run` of block `block` lives on the device. */
  locate(block: number, run: number): RunLocation {
    const segment = Math.floor(block / this.blocksPerBuffer);
    return {
      buffer: run * this.buffersPerLogical + segment,
      offset: (block - segment * this.blocksPerBuffer) * this.runBytes,
    };
  }
}
