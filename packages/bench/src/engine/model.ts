/**
 * The reference model's shape and its seeded random weights. No weights can be downloaded here,
 * and none are needed: what the serve benchmark checks is that KV bytes restored from kvtier give
 * the same logits, bit for bit, as recomputing them, which holds for any weights.
 */
import { Prng } from '@kvtier/adapters';
import type { KvLayout } from '@kvtier/gpu';

/** The shape of the reference decoder (llama-style: RMSNorm, RoPE, GQA attention, SiLU-gated MLP). */
export interface ModelOptions {
  /** Transformer layers; default 4. */
  readonly layers?: number;
  /** Residual stream width; default 128. A multiple of 4. */
  readonly dModel?: number;
  /** Query heads; default 4. */
  readonly heads?: number;
  /** KV heads (GQA when fewer than `heads`; must divide it); default 4. */
  readonly kvHeads?: number;
  /** Elements per head; default 64. A multiple of 4. */
  readonly headDim?: number;
  /** Hidden width of the MLP; default 384. A multiple of 4. */
  readonly ffn?: number;
  /** Vocabulary size; default 4096. A multiple of 4. */
  readonly vocab?: number;
  /** Tokens per KV block of the paged cache; default 16. */
  readonly blockTokens?: number;
  /** Longest sequence the engine serves (RoPE table, activations); default 4096. */
  readonly maxTokens?: number;
  /** Device layout of the paged KV cache; default `block-contiguous`. */
  readonly layout?: KvLayout;
  /** Seed of the random weights; default 1. */
  readonly seed?: number;
  /** RoPE base; default 10 000. */
  readonly ropeBase?: number;
}

/** A validated {@link ModelOptions}, every field set. */
export type ModelShape = { readonly [K in keyof ModelOptions]-?: NonNullable<ModelOptions[K]> };

/** The defaults: with 64-token chunks, one chunk of f16 KV is 4 × 2 × 4 × 64 × 2 × 64 B = 256 KiB. */
export const MODEL_DEFAULTS: ModelShape = Object.freeze({
  layers: 4, dModel: 128, heads: 4, kvHeads: 4, headDim: 64, ffn: 384, vocab: 4096,
  blockTokens: 16, maxTokens: 4096, layout: 'block-contiguous', seed: 1, ropeBase: 10_000,
});

function field(opts: ModelOptions, name: keyof ModelOptions, multipleOf = 1): number {
  const v = opts[name] ?? MODEL_DEFAULTS[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v % multipleOf !== 0) {
    throw new Error(`model.${name}: must be a positive integer${multipleOf > 1 ? ` multiple of ${multipleOf}` : ''}, got ${String(v)}`);
  }
  return v;
}

/** Validates `opts` (errors name the field) and fills in the defaults. */
export function modelShape(opts: ModelOptions = {}): ModelShape {
  const shape: ModelShape = {
    layers: field(opts, 'layers'),
    dModel: field(opts, 'dModel', 4),
    heads: field(opts, 'heads'),
    kvHeads: field(opts, 'kvHeads'),
    headDim: field(opts, 'headDim', 4),
    ffn: field(opts, 'ffn', 4),
    vocab: field(opts, 'vocab', 4),
    blockTokens: field(opts, 'blockTokens'),
    maxTokens: field(opts, 'maxTokens'),
    layout: opts.layout ?? MODEL_DEFAULTS.layout,
    seed: opts.seed ?? MODEL_DEFAULTS.seed,
    ropeBase: opts.ropeBase ?? MODEL_DEFAULTS.ropeBase,
  };
  if (shape.heads % shape.kvHeads !== 0) throw new Error(`model.kvHeads: must divide heads (${shape.heads}), got ${shape.kvHeads}`);
  if (shape.layout !== 'block-contiguous' && shape.layout !== 'per-layer') {
    throw new Error(`model.layout: must be block-contiguous or per-layer, got ${String(shape.layout)}`);
  }
  if (!Number.isInteger(shape.seed)) throw new Error(`model.seed: must be an integer, got ${String(shape.seed)}`);
  if (!(shape.ropeBase > 1)) throw new Error(`model.ropeBase: must be a number > 1, got ${String(shape.ropeBase)}`);
  return shape;
}

/** One layer's weights, row-major `[in][out]` (the matmul kernel reads a vec4 of outputs per load). */
export interface LayerWeights {
  readonly attnNorm: Float32Array;
  /** `[dModel][(heads + 2·kvHeads)·headDim]`: Q, then K, then V columns. */
  readonly wqkv: Float32Array;
  /** `[heads·headDim][dModel]`. */
  readonly wo: Float32Array;
  readonly mlpNorm: Float32Array;
  /** `[dModel][2·ffn]`: gate columns, then up columns. */
  readonly wgu: Float32Array;
  /** `[ffn][dModel]`. */
  readonly wdown: Float32Array;
}

/** Every weight of the model. */
export interface ModelWeights {
  /** `[vocab][dModel]`. */
  readonly embedding: Float32Array;
  readonly layers: readonly LayerWeights[];
  readonly finalNorm: Float32Array;
  /** `[dModel][vocab]`. */
  readonly lmHead: Float32Array;
  /** `[maxTokens][headDim/2]` pairs of (cos, sin). */
  readonly rope: Float32Array;
}

/** Seeded weights: uniform with variance 1/fan-in, so activations keep their scale through the layers. */
export function randomWeights(shape: ModelShape): ModelWeights {
  const rng = new Prng(shape.seed);
  const uniform = (n: number, scale: number): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (rng.next() * 2 - 1) * scale;
    return out;
  };
  const fanIn = (n: number) => Math.sqrt(3 / n);
  const norm = (n: number): Float32Array => uniform(n, 0.1).map((v) => 1 + v);
  const { dModel, heads, kvHeads, headDim, ffn, vocab } = shape;
  const qkvCols = (heads + 2 * kvHeads) * headDim;
  const layers = Array.from({ length: shape.layers }, (): LayerWeights => ({
    attnNorm: norm(dModel),
    wqkv: uniform(dModel * qkvCols, fanIn(dModel)),
    wo: uniform(heads * headDim * dModel, fanIn(heads * headDim)),
    mlpNorm: norm(dModel),
    wgu: uniform(dModel * 2 * ffn, fanIn(dModel)),
    wdown: uniform(ffn * dModel, fanIn(ffn)),
  }));
  const half = headDim / 2;
  const rope = new Float32Array(shape.maxTokens * half * 2);
  for (let pos = 0; pos < shape.maxTokens; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = pos * shape.ropeBase ** (-2 * i / headDim);
      rope[(pos * half + i) * 2] = Math.cos(angle);
      rope[(pos * half + i) * 2 + 1] = Math.sin(angle);
    }
  }
  return {
    embedding: uniform(vocab * dModel, 1),
    layers,
    finalNorm: norm(dModel),
    lmHead: uniform(dModel * vocab, fanIn(dModel)),
    rope,
  };
}
