/**
 * The sampled (SHARDS-style) estimate of a policy's hit-ratio curve on a trace: the same
 * miniature simulation the `adaptive` policy runs in the engine, fed the whole trace (with
 * `shallow`, each key's depth in its request too, so shallow chunks are always tracked, see
 * miniature.ts). Compared
 * with the exact replay (replay.ts) it measures how far the engine's sizing advice can be off.
 */
import { ADAPTIVE_CANDIDATES, ADAPTIVE_SAMPLE_RATE } from './adaptive.ts';
import { createEvictionPolicy } from './eviction-policies.ts';
import { Miniature } from './miniature.ts';
import type { ChunkTrace } from './replay.ts';
import { sampleHash } from './sampling.ts';
import { clear } from './scratch.ts';

/** A sampled estimate at one capacity. */
export interface SampledEstimate {
  /** Estimated hit ratio (per-chunk hits of the sampled references). */
  readonly hitRatio: number;
  /** The sampling rate used (raised above the base rate for small caches). */
  readonly rate: number;
}

/** Options of {@link replaySampled}. */
export interface SampledOptions {
  /** The base sampling rate; default the one `adaptive` uses. */
  readonly rate?: number;
  /** Always track chunks of depth below 4 (miniature.ts, SHALLOW_DEPTH); default false (as the engine, which does not know depths). */
  readonly shallow?: boolean;
}

/**
 * Estimates `policy`'s hit ratio at `capacity` chunks from a miniature. For `adaptive` (and
 * `default` when it is adaptive) the estimate is the best of its candidates' miniatures: what it
 * follows.
 */
export function replaySampled(trace: ChunkTrace, policy: string, capacity: number, options?: SampledOptions): SampledEstimate {
  const rate = options?.rate ?? ADAPTIVE_SAMPLE_RATE;
  const names = policy === 'adaptive' || (policy === 'default' && createEvictionPolicy('default').name === 'adaptive') ? ADAPTIVE_CANDIDATES : [policy];
  const miniatures = names.map((name) => new Miniature<number>(createEvictionPolicy<number>(name), 1, rate));
  for (const m of miniatures) m.resize(capacity);
  const hashes: number[] = [];
  const tails: boolean[] = [];
  const depths: number[] = [];
  for (const keys of trace) {
    clear(hashes);
    clear(tails);
    clear(depths);
    for (let i = 0; i < keys.length; i++) {
      hashes.push(sampleHash(keys[i]));
      tails.push(i === keys.length - 1);
      depths.push(i);
    }
    for (const m of miniatures) m.reference(keys, hashes, tails, options?.shallow === true ? depths : undefined);
  }
  return { hitRatio: Math.max(...miniatures.map((m) => m.hitRatio)), rate: miniatures[0].rate };
}
