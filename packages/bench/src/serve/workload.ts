/**
 * What `kvtier-bench serve` replays: a sample of a block-id trace turned into token prompts, and
 * the hit bound an infinite cache would reach on them.
 *
 * Sampling is by prefix group, not by the first N requests: reuse in real traces is long-range
 * (the first few hundred Mooncake requests share almost nothing), so a request is kept when a
 * seeded hash of its first block id is 0 modulo k, which keeps whole groups of requests sharing a
 * prefix. Each block id becomes a fixed number of tokens drawn from a generator seeded by the id,
 * so equal ids give equal tokens and therefore equal chunk keys.
 */
import { Prng } from '@kvtier/adapters';

/** How to turn a trace into prompts. */
export interface WorkloadOptions {
  /** Keep one prefix group in `keepOneIn`; default 20. */
  readonly keepOneIn: number;
  /** Tokens each trace block becomes; default 32. */
  readonly tokensPerBlock: number;
  /** Trace blocks per prompt at most (longer prompts are cut); default 16. */
  readonly maxBlocks: number;
  /** Requests at most, after sampling (in trace order); default all. */
  readonly maxRequests: number;
  /** Vocabulary the tokens are drawn from. */
  readonly vocab: number;
  /** Seed of the group hash and the token generator; default 7. */
  readonly seed: number;
}

/** One request to serve. */
export interface ServeRequest {
  /** Its line in the trace (0-based). */
  readonly traceIndex: number;
  /** The prompt. */
  readonly tokens: Uint32Array;
}

/** A 32-bit mix of `id` and `seed` (murmur3's finaliser): ids close together land far apart. */
export function mix32(id: number, seed: number): number {
  let h = (Math.imul(id | 0, 0x9e3779b1) ^ Math.imul(Math.floor(id / 2 ** 32), 0x85ebca6b) ^ seed) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The sampled requests of `trace` (each request's block ids), as prompts. */
export function sampleWorkload(trace: readonly (readonly number[])[], opts: WorkloadOptions): ServeRequest[] {
  const out: ServeRequest[] = [];
  const blockTokens = new Map<number, Uint32Array>();
  const tokensOf = (id: number): Uint32Array => {
    let t = blockTokens.get(id);
    if (t === undefined) {
      const rng = new Prng(mix32(id, opts.seed ^ 0x5bd1e995));
      t = Uint32Array.from({ length: opts.tokensPerBlock }, () => rng.below(opts.vocab));
      blockTokens.set(id, t);
    }
    return t;
  };
  for (const [traceIndex, ids] of trace.entries()) {
    if (out.length >= opts.maxRequests) break;
    if (ids.length === 0 || mix32(ids[0], opts.seed) % opts.keepOneIn !== 0) continue;
    const kept = ids.slice(0, opts.maxBlocks);
    const tokens = new Uint32Array(kept.length * opts.tokensPerBlock);
    kept.forEach((id, i) => tokens.set(tokensOf(id), i * opts.tokensPerBlock));
    out.push({ traceIndex, tokens });
  }
  return out;
}

/**
 * Chunk references an infinite cache would hit, replaying `requests` in order: each request hits
 * its longest run of leading chunk keys seen before, then all its keys are cached.
 */
export function infiniteCacheHits(chunkKeys: readonly (readonly string[])[]): number {
  const seen = new Set<string>();
  let hits = 0;
  for (const keys of chunkKeys) {
    let i = 0;
    while (i < keys.length && seen.has(keys[i])) i++;
    hits += i;
    for (const k of keys) seen.add(k);
  }
  return hits;
}
