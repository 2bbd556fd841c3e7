/**
 * Sizing advice from a tier's estimated hit-ratio curve (a policy's `curve()`): the sentence
 * `status()` and `kvtier-bench policies` print, "this tier hits X% at its size; N chunks would hit Y%".
 */
import type { CurvePoint } from './eviction.ts';

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

/**
 * The advice for a tier of `capacity` keys: its own estimate, then every other point of `curve`;
 * undefined when the curve has no point at `capacity` (nothing sampled yet, or no estimate).
 */
export function sizingAdvice(curve: readonly CurvePoint[], capacity: number): string | undefined {
  const own = curve.find((p) => p.capacity === capacity);
  if (own === undefined) return undefined;
  const others = curve.filter((p) => p !== own).map((p) => `${p.capacity} chunks would hit ${percent(p.hitRatio)}`);
  return [`this tier hits ${percent(own.hitRatio)} at its size (${capacity} chunks)`, ...others].join('; ');
}
