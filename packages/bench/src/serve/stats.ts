/** Summaries of latency samples, and bit-for-bit comparison of logits. */

/** p50, p90 and mean of a sample, ms. */
export interface Summary {
  readonly p50: number;
  readonly p90: number;
  readonly mean: number;
}

/** The `q` quantile (nearest rank) of `values`; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** p50, p90 and mean of `values` (NaN for an empty sample). */
export function summarize(values: readonly number[]): Summary {
  const mean = values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
  return { p50: quantile(values, 0.5), p90: quantile(values, 0.9), mean };
}

/** Positions where two logit vectors differ in any bit (0: bit-identical). */
export function differingBits(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) n++;
  return n;
}
