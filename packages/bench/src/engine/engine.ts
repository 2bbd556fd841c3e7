/**
 * The reference engine: a llama-style decoder in WGSL whose attention reads and writes K/V in a
 * kvtier {@link PagedKvCache} through a block table. It is a consumer of kvtier (the serve
 * benchmark's workload), not part of the library.
 *
 * One call, {@link ReferenceEngine.prefill}, runs the tokens past a restored prefix through every
 * layer in one submit and reads back the next-token logits of the last one. Every bind group is
 * made once: activations are sized for `maxTokens`, and each dispatch has its own slot in one
 * uniform buffer, rewritten per call.
 */
import type { Gpu, PagedKvCache } from '@kvtier/gpu';
import {
  attentionKernel, embedKernel, matmulKernel, rmsNormKernel, ropeKvKernel, siluMulKernel,
  ATTENTION_LANES, ELEMENT_LANES, MATMUL_ROWS, ROW_LANES, type CacheAddressing,
} from './kernels.ts';
import { randomWeights, type ModelShape } from './model.ts';

/** Bytes between two dispatches' parameter slots (the uniform offset alignment). */
const PARAM_SLOT_BYTES = 256;
const PARAM_SLOT_WORDS = PARAM_SLOT_BYTES / 4;

/** One recorded dispatch: its pipeline, bind group, parameter slot and grid for `n` new tokens. */
interface Step {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  /** Words of its parameter struct for a call with `n` tokens starting at absolute position `start`. */
  readonly params: (n: number, start: number) => readonly number[];
  /** Workgroups (x, y) for `n` tokens. */
  readonly grid: (n: number) => readonly [number, number];
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/** A decoder whose KV lives in a kvtier paged cache. Owned by the thread that owns its device. */
export class ReferenceEngine {
  /** The model's shape. */
  readonly shape: ModelShape;
  /** The paged cache holding every sequence's K/V. */
  readonly cache: PagedKvCache;
  readonly #device: GPUDevice;
  readonly #steps: Step[] = [];
  readonly #buffers: GPUBuffer[] = [];
  readonly #params: GPUBuffer;
  readonly #tokens: GPUBuffer;
  readonly #table: GPUBuffer;
  readonly #logits: GPUBuffer;
  readonly #readback: GPUBuffer;
  #busy = false;

  /**
   * Compiles the kernels for `shape` and uploads seeded weights. `cache` must have the model's
   * KV shape (layers, kvHeads, headDim, blockTokens, f16) and no split device buffers.
   */
  constructor(gpu: Gpu, cache: PagedKvCache, shape: ModelShape) {
    const g = cache.geometry;
    const expected = { layers: shape.layers, kvHeads: shape.kvHeads, headDim: shape.headDim, blockTokens: shape.blockTokens, dtype: 'f16', layout: shape.layout };
    for (const [k, v] of Object.entries(expected)) {
      if (g[k as keyof typeof expected] !== v) throw new Error(`ReferenceEngine: the cache's ${k} is ${String(g[k as keyof typeof expected])}, the model needs ${String(v)}`);
    }
    if (g.buffersPerLogical !== 1) throw new Error(`ReferenceEngine: the cache is split into ${g.bufferCount} device buffers; the engine binds one per layout buffer (fewer blocks, or a device with larger buffers)`);
    this.shape = shape;
    this.cache = cache;
    this.#device = gpu.device;
    const device = gpu.device;
    const weights = randomWeights(shape);
    const { dModel, heads, kvHeads, headDim, ffn, vocab, maxTokens } = shape;
    const qkvCols = (heads + 2 * kvHeads) * headDim;
    const perLayer = g.layout === 'per-layer';
    const at: CacheAddressing = { slabWords: g.slabBytes / 4, blockStrideWords: perLayer ? 2 * g.slabBytes / 4 : g.blockBytes / 4 };
    const layerWords = (layer: number) => (perLayer ? 0 : layer * 2 * at.slabWords);
    const cacheBuffer = (layer: number) => cache.buffers[perLayer ? layer : 0];

    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const buffer = (label: string, bytes: number, usage = storage): GPUBuffer => {
      const b = device.createBuffer({ label: `engine ${label}`, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
      this.#buffers.push(b);
      return b;
    };
    const upload = (label: string, data: Float32Array): GPUBuffer => {
      const b = buffer(label, data.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
      device.queue.writeBuffer(b, 0, data);
      return b;
    };
    const f32 = 4;
    const x = buffer('x', maxTokens * dModel * f32);
    const xn = buffer('xn', maxTokens * dModel * f32);
    const qkv = buffer('qkv', maxTokens * qkvCols * f32);
    const q = buffer('q', maxTokens * heads * headDim * f32);
    const attn = buffer('attn', maxTokens * heads * headDim * f32);
    const gu = buffer('gu', maxTokens * 2 * ffn * f32);
    const act = buffer('act', maxTokens * ffn * f32);
    this.#logits = buffer('logits', vocab * f32);
    this.#readback = buffer('readback', vocab * f32, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.#tokens = buffer('tokens', maxTokens * 4);
    this.#table = buffer('block table', ceilDiv(maxTokens, shape.blockTokens) * 4);
    const embedding = upload('embedding', weights.embedding);
    const rope = upload('rope', weights.rope);
    const finalNorm = upload('final norm', weights.finalNorm);
    const lmHead = upload('lm head', weights.lmHead);

    const pipelines = new Map<string, GPUComputePipeline>();
    const pipeline = (name: string, code: string): GPUComputePipeline => {
      let p = pipelines.get(name);
      if (p === undefined) {
        p = device.createComputePipeline({ label: `engine ${name}`, layout: 'auto', compute: { module: device.createShaderModule({ label: name, code }), entryPoint: 'main' } });
        pipelines.set(name, p);
      }
      return p;
    };
    const slots: { pipeline: GPUComputePipeline; buffers: GPUBuffer[]; params: Step['params']; grid: Step['grid'] }[] = [];
    const step = (name: string, code: string, buffers: GPUBuffer[], params: Step['params'], grid: Step['grid']) => {
      slots.push({ pipeline: pipeline(name, code), buffers, params, grid });
    };
    const matmul = (xIn: GPUBuffer, w: GPUBuffer, y: GPUBuffer, k: number, n: number, accumulate: boolean, rows?: number) => {
      step('matmul', matmulKernel(), [xIn, w, y], (m) => [rows ?? m, k, n / 4, accumulate ? 1 : 0], (m) => [ceilDiv(n / 4, ROW_LANES), ceilDiv(rows ?? m, MATMUL_ROWS)]);
    };
    const elements = (per: number) => (n: number) => [ceilDiv(n * per, ELEMENT_LANES), 1] as const;

    step('embed', embedKernel(shape), [this.#tokens, embedding, x], (n) => [n], elements(dModel / 4));
    for (const [l, w] of weights.layers.entries()) {
      const attnNorm = upload(`layer ${l} attn norm`, w.attnNorm);
      const wqkv = upload(`layer ${l} wqkv`, w.wqkv);
      const wo = upload(`layer ${l} wo`, w.wo);
      const mlpNorm = upload(`layer ${l} mlp norm`, w.mlpNorm);
      const wgu = upload(`layer ${l} wgu`, w.wgu);
      const wdown = upload(`layer ${l} wdown`, w.wdown);
      step('rmsnorm', rmsNormKernel(shape), [x, attnNorm, xn], (n) => [n, 0], (n) => [ceilDiv(n, ELEMENT_LANES), 1]);
      matmul(xn, wqkv, qkv, dModel, qkvCols, false);
      step('rope-kv', ropeKvKernel(shape, at), [qkv, rope, this.#table, q, cacheBuffer(l)], (n, start) => [n, start, layerWords(l)], elements(qkvCols / 2));
      step('attention', attentionKernel(shape, at), [q, this.#table, cacheBuffer(l), attn], (n, start) => [n, start, layerWords(l)], (n) => [ceilDiv(n, ATTENTION_LANES), heads]);
      matmul(attn, wo, x, heads * headDim, dModel, true);
      step('rmsnorm', rmsNormKernel(shape), [x, mlpNorm, xn], (n) => [n, 0], (n) => [ceilDiv(n, ELEMENT_LANES), 1]);
      matmul(xn, wgu, gu, dModel, 2 * ffn, false);
      step('silu-mul', siluMulKernel(shape), [gu, act], (n) => [n], elements(ffn));
      matmul(act, wdown, x, ffn, dModel, true);
    }
    step('rmsnorm', rmsNormKernel(shape), [x, finalNorm, xn], (n) => [1, n - 1], () => [1, 1]);
    matmul(xn, lmHead, this.#logits, dModel, vocab, false, 1);

    const limit = device.limits.maxComputeWorkgroupsPerDimension;
    for (const s of slots) {
      const widest = Math.max(...s.grid(maxTokens));
      if (widest > limit) {
        this.destroy();
        throw new Error(`ReferenceEngine: ${maxTokens} tokens need ${widest} workgroups in one dimension of a dispatch, more than the device's ${limit}; lower maxTokens or the model's widths`);
      }
    }
    this.#params = buffer('params', slots.length * PARAM_SLOT_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    for (const [i, s] of slots.entries()) {
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.#params, offset: i * PARAM_SLOT_BYTES, size: 16 * 4 } }];
      s.buffers.forEach((b, k) => entries.push({ binding: k + 1, resource: { buffer: b } }));
      this.#steps.push({ pipeline: s.pipeline, bindGroup: device.createBindGroup({ layout: s.pipeline.getBindGroupLayout(0), entries }), params: s.params, grid: s.grid });
    }
  }

  /**
   * Runs `tokens[start..]` (the whole prompt is passed; positions before `start` must already have
   * their K/V in the cache at `blockTable`) and resolves to the next-token logits after the last
   * token. Writes the K/V of positions `start..tokens.length-1` into their blocks. Calls run one
   * at a time.
   * @param blockTable - the sequence's blocks, in order; at least ⌈tokens.length / blockTokens⌉
   */
  async prefill(tokens: ArrayLike<number>, start: number, blockTable: ArrayLike<number>): Promise<Float32Array> {
    const total = tokens.length;
    const n = total - start;
    const { maxTokens, vocab, blockTokens } = this.shape;
    if (!Number.isInteger(start) || start < 0 || n < 1) throw new Error(`prefill: start must be in [0, ${total - 1}], got ${start}`);
    if (total > maxTokens) throw new Error(`prefill: ${total} tokens exceed maxTokens ${maxTokens}`);
    const blocks = ceilDiv(total, blockTokens);
    if (blockTable.length < blocks) throw new Error(`prefill: ${total} tokens need ${blocks} blocks, the block table has ${blockTable.length}`);
    this.cache.validateBlocks(blockTable, 'prefill');
    if (this.#busy) throw new Error('prefill: another call is running');
    this.#busy = true;
    try {
      const device = this.#device;
      const tail = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        const t = tokens[start + i];
        if (!Number.isInteger(t) || t < 0 || t >= vocab) throw new Error(`prefill: token ${start + i} is ${String(t)}, not in [0, ${vocab})`);
        tail[i] = t;
      }
      device.queue.writeBuffer(this.#tokens, 0, tail);
      device.queue.writeBuffer(this.#table, 0, Uint32Array.from({ length: blocks }, (_, i) => blockTable[i]));
      const params = new Uint32Array(this.#steps.length * PARAM_SLOT_WORDS);
      this.#steps.forEach((s, i) => params.set(s.params(n, start), i * PARAM_SLOT_WORDS));
      device.queue.writeBuffer(this.#params, 0, params);
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      for (const s of this.#steps) {
        pass.setPipeline(s.pipeline);
        pass.setBindGroup(0, s.bindGroup);
        const [gx, gy] = s.grid(n);
        pass.dispatchWorkgroups(gx, gy);
      }
      pass.end();
      encoder.copyBufferToBuffer(this.#logits, 0, this.#readback, 0, vocab * 4);
      device.queue.submit([encoder.finish()]);
      await this.#readback.mapAsync(GPUMapMode.READ, 0, vocab * 4);
      const logits = new Float32Array(this.#readback.getMappedRange(0, vocab * 4).slice(0));
      this.#readback.unmap();
      return logits;
    } finally {
      this.#busy = false;
    }
  }

  /** Frees the engine's buffers (not the cache). */
  destroy(): void {
    for (const b of this.#buffers) b.destroy();
    this.#buffers.length = 0;
  }
}
