/**
 * The reference engine's WGSL kernels, generated for one model shape (sizes are constants, so
 * private arrays and loops have fixed bounds).
 *
 * Batch invariance, the property the serve benchmark rests on: restoring a prefix's KV from
 * kvtier must give the same logits, bit for bit, as recomputing it. So every output element is
 * computed by one invocation whose arithmetic depends only on its own row (its absolute position)
 * and never on how many rows the dispatch has or where it starts:
 * - matmul: k ascending with `fma`, the same kernel for 1 row and for thousands; no split-K, no
 *   atomics, no subgroup or tree reductions;
 * - attention: keys visited in absolute order 0..pos with an online softmax, K/V always read back
 *   from the f16 cache, including the current step's own tokens (written by `ropeKv` first);
 * - RMSNorm: one invocation per row, sum of squares in column order.
 *
 * Speed on llvmpipe (lavapipe), which runs a workgroup's lanes as SIMD vectors: loads that are the
 * same for every lane (uniform) are cheap, barriers are expensive. The matmul gives each lane a
 * vec4 column of W and makes the x loads uniform across the workgroup; attention gives each lane
 * one query row of one head, so every lane reads the same key at the same time. No kernel uses
 * workgroup memory or barriers.
 */
import type { ModelShape } from './model.ts';

/** Lanes per workgroup of the matmul kernel (one vec4 of output columns each). */
export const ROW_LANES = 32;
/**
 * Query rows per workgroup of the attention kernel: llvmpipe runs 8 lanes per SIMD group, so a
 * larger group shares no more loads, and a short step (a single token) wastes fewer lanes.
 */
export const ATTENTION_LANES = 8;
/** Lanes per workgroup of the element-wise kernels. */
export const ELEMENT_LANES = 64;
/** Rows of x one matmul invocation computes (the W loads are shared between them). */
export const MATMUL_ROWS = 4;
/** RMSNorm epsilon. */
const EPS = '1e-5';

/** Where one layer's K and V live in the cache buffer bound to a dispatch, in u32 words (2 f16 each). */
export interface CacheAddressing {
  /** Words from one block to the next. */
  readonly blockStrideWords: number;
  /** Words of one layer's K (or V) in one block. */
  readonly slabWords: number;
}

/** `x[n][dModel] = embedding[token]`. Params: n. */
export function embedKernel(shape: ModelShape): string {
  const d4 = shape.dModel / 4;
  return /* wgsl */ `
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> x: array<vec4f>;
@compute @workgroup_size(${ELEMENT_LANES})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let idx = gid.x;
  if (idx >= p.n * ${d4}u) { return; }
  let row = idx / ${d4}u;
  x[idx] = table[min(tokens[row], ${shape.vocab - 1}u) * ${d4}u + idx % ${d4}u];
}`;
}

/** `out[i] = x[row0 + i] · rsqrt(mean(x²) + eps) · w`, one invocation per row. Params: n, row0. */
export function rmsNormKernel(shape: ModelShape): string {
  const d = shape.dModel;
  return /* wgsl */ `
struct P { n: u32, row0: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${ELEMENT_LANES})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let base = (p.row0 + i) * ${d}u;
  var ss = 0.0;
  for (var j = 0u; j < ${d}u; j++) { let v = x[base + j]; ss = fma(v, v, ss); }
  let inv = inverseSqrt(ss / ${d}.0 + ${EPS});
  for (var j = 0u; j < ${d}u; j++) { out[i * ${d}u + j] = x[base + j] * inv * w[j]; }
}`;
}

/**
 * `y[m][n] (+)= x[m][k] · w[k][n]`: lane = a vec4 of output columns, `MATMUL_ROWS` rows per
 * invocation, k ascending with fma. Params: m, k, n/4, accumulate (1: add into y, the residual).
 */
export function matmulKernel(): string {
  const rows = Array.from({ length: MATMUL_ROWS }, (_, r) => r);
  return /* wgsl */ `
struct P { m: u32, k: u32, n4: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;
@compute @workgroup_size(${ROW_LANES})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let r0 = gid.y * ${MATMUL_ROWS}u;
  if (c >= p.n4 || r0 >= p.m) { return; }
  let last = p.m - 1u;
${rows.map((r) => `  let a${r} = min(r0 + ${r}u, last) * p.k;\n  var acc${r} = vec4f(0.0);`).join('\n')}
  for (var i = 0u; i < p.k; i++) {
    let wv = w[i * p.n4 + c];
${rows.map((r) => `    acc${r} = fma(vec4f(x[a${r} + i]), wv, acc${r});`).join('\n')}
  }
${rows.map((r) => `  if (r0 + ${r}u <= last) {
    let o = (r0 + ${r}u) * p.n4 + c;
    if (p.accumulate == 1u) { y[o] = y[o] + acc${r}; } else { y[o] = acc${r}; }
  }`).join('\n')}
}`;
}

/** The WGSL expression of the first word of (K or V `s`, KV head `kh`) of absolute position `pos`. */
function cacheWord(shape: ModelShape, at: CacheAddressing, pos: string, s: string, kh: string): string {
  const half = shape.headDim / 2;
  return `table[${pos} / ${shape.blockTokens}u] * ${at.blockStrideWords}u + p.layerWords + ${s} * ${at.slabWords}u`
    + ` + ((${pos} % ${shape.blockTokens}u) * ${shape.kvHeads}u + ${kh}) * ${half}u`;
}

/**
 * RoPE on Q and K (interleaved pairs, angles from a host-computed table), Q pre-scaled by
 * 1/√headDim, and K, V written as f16 pairs into the paged cache through the block table; one
 * invocation per pair. Params: n, start (absolute position of row 0), layerWords.
 */
export function ropeKvKernel(shape: ModelShape, at: CacheAddressing): string {
  const { heads, kvHeads, headDim } = shape;
  const half = headDim / 2;
  const slots = heads + 2 * kvHeads;
  return /* wgsl */ `
struct P { n: u32, start: u32, layerWords: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> rope: array<vec2f>;
@group(0) @binding(3) var<storage, read> table: array<u32>;
@group(0) @binding(4) var<storage, read_write> q: array<f32>;
@group(0) @binding(5) var<storage, read_write> cache: array<u32>;
@compute @workgroup_size(${ELEMENT_LANES})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let idx = gid.x;
  if (idx >= p.n * ${slots * half}u) { return; }
  let row = idx / ${slots * half}u;
  let slot = (idx / ${half}u) % ${slots}u;
  let i = idx % ${half}u;
  let pos = p.start + row;
  let src = row * ${slots * headDim}u + slot * ${headDim}u + 2u * i;
  let a = qkv[src];
  let b = qkv[src + 1u];
  if (slot >= ${heads + kvHeads}u) {
    let word = ${cacheWord(shape, at, 'pos', '1u', `(slot - ${heads + kvHeads}u)`)} + i;
    cache[word] = pack2x16float(vec2f(a, b));
    return;
  }
  let cs = rope[pos * ${half}u + i];
  let ra = a * cs.x - b * cs.y;
  let rb = a * cs.y + b * cs.x;
  if (slot < ${heads}u) {
    let dst = row * ${heads * headDim}u + slot * ${headDim}u + 2u * i;
    q[dst] = ra * ${1 / Math.sqrt(headDim)};
    q[dst + 1u] = rb * ${1 / Math.sqrt(headDim)};
  } else {
    let word = ${cacheWord(shape, at, 'pos', '0u', `(slot - ${heads}u)`)} + i;
    cache[word] = pack2x16float(vec2f(ra, rb));
  }
}`;
}

/**
 * Causal attention over the paged cache: one invocation per (query row, head), keys 0..pos in
 * absolute order, online softmax. The lanes of a workgroup are consecutive rows of one head, so
 * they all read key j at once; a lane past its own position only masks its update. Params: n,
 * start, layerWords.
 */
export function attentionKernel(shape: ModelShape, at: CacheAddressing): string {
  const { heads, kvHeads, headDim } = shape;
  const half = headDim / 2;
  return /* wgsl */ `
struct P { n: u32, start: u32, layerWords: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<u32>;
@group(0) @binding(3) var<storage, read> cache: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${ATTENTION_LANES})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let h = gid.y;
  let kh = h / ${heads / kvHeads}u;
  let last = p.n - 1u;
  let row = min(gid.x, last);
  let pos = p.start + row;
  let end = p.start + min(wid.x * ${ATTENTION_LANES}u + ${ATTENTION_LANES - 1}u, last);
  var qv: array<f32, ${headDim}>;
  var o: array<f32, ${headDim}>;
  let qb = (row * ${heads}u + h) * ${headDim}u;
  for (var e = 0u; e < ${headDim}u; e++) { qv[e] = q[qb + e]; o[e] = 0.0; }
  var m = -3.0e38;
  var l = 0.0;
  for (var j = 0u; j <= end; j++) {
    let kw = ${cacheWord(shape, at, 'j', '0u', 'kh')};
    var s = 0.0;
    for (var w = 0u; w < ${half}u; w++) {
      let kk = unpack2x16float(cache[kw + w]);
      s = fma(qv[2u * w], kk.x, s);
      s = fma(qv[2u * w + 1u], kk.y, s);
    }
    if (j <= pos) {
      if (s > m) {
        let c = exp(m - s);
        l = l * c;
        for (var e = 0u; e < ${headDim}u; e++) { o[e] = o[e] * c; }
        m = s;
      }
      let pr = exp(s - m);
      l = l + pr;
      let vw = kw + ${at.slabWords}u;
      for (var w = 0u; w < ${half}u; w++) {
        let vv = unpack2x16float(cache[vw + w]);
        o[2u * w] = fma(pr, vv.x, o[2u * w]);
        o[2u * w + 1u] = fma(pr, vv.y, o[2u * w + 1u]);
      }
    }
  }
  if (gid.x > last) { return; }
  for (var e = 0u; e < ${headDim}u; e++) { out[qb + e] = o[e] / l; }
}`;
}

/** `out[i][j] = silu(gu[i][j]) · gu[i][ffn + j]`. Params: n. */
export function siluMulKernel(shape: ModelShape): string {
  const f = shape.ffn;
  return /* wgsl */ `
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> gu: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${ELEMENT_LANES})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let idx = gid.x;
  if (idx >= p.n * ${f}u) { return; }
  let row = idx / ${f}u;
  let j = idx % ${f}u;
  let g = gu[row * ${2 * f}u + j];
  out[idx] = g / (1.0 + exp(-g)) * gu[row * ${2 * f}u + ${f}u + j];
}`;
}
