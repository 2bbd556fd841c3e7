/**
 * The two serve scenarios. Each request runs twice on the same device — through kvtier, and
 * recomputed in full (the baseline) — in alternating order, and the two logit vectors are compared
 * bit for bit.
 * - `trace`: a prefix-group sample of a real request trace, in trace order.
 * - `long-doc-qa` (after LMCache's long-document QA benchmark): a few long documents, each asked
 *   several questions: cold, warm from L1 only, warm from L2 only (L1 dropped), and warm on the
 *   device (the engine's GPU tier).
 */
import { Prng } from '@kvtier/adapters';
import { Progress } from '../progress.ts';
import type { Rig } from './rig.ts';
import type { KvServer, ServeResult } from './kv-server.ts';
import { differingBits } from './stats.ts';
import type { ServeRequest } from './workload.ts';

/** One request's outcome on both paths. */
export interface RequestRecord extends Omit<ServeResult, 'logits'> {
  /** Position in the run. */
  readonly index: number;
  /** A label for messages: the trace line, or the document and question. */
  readonly name: string;
  readonly promptTokens: number;
  readonly baselineMs: number;
  /** Logit positions that differ from the full recompute (0: bit-identical). */
  readonly differing: number;
  /** The long-doc phase, when there is one. */
  readonly phase?: LongDocPhase;
}

/** Runs `tokens` both ways, the baseline first when `baselineFirst`. */
async function both(server: KvServer, tokens: Uint32Array, baselineFirst: boolean) {
  if (baselineFirst) {
    const base = await server.baseline(tokens);
    return { base, served: await server.serve(tokens) };
  }
  const served = await server.serve(tokens);
  return { base: await server.baseline(tokens), served };
}

function record(index: number, name: string, tokens: Uint32Array, base: { logits: Float32Array; ttftMs: number }, served: ServeResult, phase?: LongDocPhase): RequestRecord {
  const { logits, ...rest } = served;
  return { ...rest, index, name, promptTokens: tokens.length, baselineMs: base.ttftMs, differing: differingBits(base.logits, logits), ...(phase === undefined ? {} : { phase }) };
}

/** Serves the sampled trace requests in order. */
export async function runTrace(rig: Rig, requests: readonly ServeRequest[]): Promise<RequestRecord[]> {
  const progress = new Progress('serve', requests.length);
  const out: RequestRecord[] = [];
  for (const [i, req] of requests.entries()) {
    const { base, served } = await both(rig.server, req.tokens, i % 2 === 0);
    out.push(record(i, `request ${i} (trace line ${req.traceIndex + 1})`, req.tokens, base, served));
    progress.update(i + 1, `last: ${base.ttftMs.toFixed(0)} -> ${served.ttftMs.toFixed(0)} ms`);
  }
  return out;
}

/** Phases of the long-document QA scenario, in order. */
export const LONG_DOC_PHASES = ['cold', 'warm-l1', 'warm-l2', 'warm-gpu'] as const;
/** One of {@link LONG_DOC_PHASES}. */
export type LongDocPhase = (typeof LONG_DOC_PHASES)[number];

/** Shape of the long-document QA scenario. */
export interface LongDocOptions {
  readonly documents: number;
  readonly documentTokens: number;
  readonly questionTokens: number;
  readonly vocab: number;
  readonly seed: number;
}

/**
 * Each document is asked one question per phase. Between phases: `warm-l1` drops the GPU tier
 * (L1 still holds the documents); `warm-l2` drops the GPU tier and, once L2 holds everything,
 * L1 as well; `warm-gpu` asks again right after `warm-l2` restored the document onto the device.
 */
export async function runLongDoc(rig: Rig, opts: LongDocOptions): Promise<RequestRecord[]> {
  const rng = new Prng(opts.seed);
  const draw = (n: number) => Uint32Array.from({ length: n }, () => rng.below(opts.vocab));
  const docs = Array.from({ length: opts.documents }, () => draw(opts.documentTokens));
  const prompt = (doc: Uint32Array): Uint32Array => {
    const out = new Uint32Array(doc.length + opts.questionTokens);
    out.set(doc);
    out.set(draw(opts.questionTokens), doc.length);
    return out;
  };
  const progress = new Progress('serve long-doc-qa', opts.documents * LONG_DOC_PHASES.length);
  const out: RequestRecord[] = [];
  const ask = async (d: number, phase: LongDocPhase) => {
    const tokens = prompt(docs[d]);
    const { base, served } = await both(rig.server, tokens, out.length % 2 === 0);
    out.push(record(out.length, `document ${d}, ${phase} question`, tokens, base, served, phase));
    progress.update(out.length, `${phase}: ${base.ttftMs.toFixed(0)} -> ${served.ttftMs.toFixed(0)} ms`);
  };
  for (let d = 0; d < opts.documents; d++) await ask(d, 'cold');
  rig.server.dropGpuTier();
  for (let d = 0; d < opts.documents; d++) await ask(d, 'warm-l1');
  await rig.cache.flush({ timeoutMs: 120_000 });
  for (let d = 0; d < opts.documents; d++) {
    rig.server.dropGpuTier();
    rig.cache.clear();
    await ask(d, 'warm-l2');
    await ask(d, 'warm-gpu');
  }
  return out;
}
