/**
 * The spread of a benchmark figure over its repetitions. Every table and `--json` row reports a
 * figure as its median, with `{min, median, max}` beside it, never one sample: machines are
 * noisy, and a reader has to see how noisy.
 *
 * Ratios are taken per repetition (the engine's run against the baseline's run of the same
 * repetition, which took turns with it) and then summarised, so a neighbour's burst weighs on both
 * sides of each ratio alike.
 */
import { quantile } from './serve/stats.ts';

/** A figure over repetitions. */
export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

/** The spread of `samples` (all NaN for none). */
export function spreadOf(samples: readonly number[]): Spread {
  if (samples.length === 0) return { min: NaN, median: NaN, max: NaN };
  return { min: Math.min(...samples), median: quantile(samples, 0.5), max: Math.max(...samples) };
}

/** `f` applied to each repetition's pair: `a[i]` against `b[i]` (the arrays must be as long). */
export function paired(a: readonly number[], b: readonly number[], f: (a: number, b: number) => number): number[] {
  if (a.length !== b.length) throw new RangeError(`paired: ${a.length} samples against ${b.length}`);
  return a.map((x, i) => f(x, b[i]));
}

/**
 * Seconds per repetition of each of `runs`: one untimed warm-up of each (page faults, pipeline
 * creation), then `reps` rounds in which the runs take turns. Returns `seconds[run][rep]`.
 */
export async function timeInTurns(reps: number, runs: readonly (() => unknown)[]): Promise<number[][]> {
  for (const run of runs) await run();
  const seconds = runs.map(() => [] as number[]);
  for (let i = 0; i < reps; i++) {
    for (let k = 0; k < runs.length; k++) {
      const started = performance.now();
      await runs[k]();
      seconds[k].push((performance.now() - started) / 1000);
    }
  }
  return seconds;
}
