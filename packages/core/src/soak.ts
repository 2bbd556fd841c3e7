import { randomInt } from 'node:crypto';
import { withDeadline } from './deadline.ts';
import { ErrorCode, KvtierError } from './errors.ts';

/**
 * Soak mode of the fault, kill and chaos tests. In CI (`KVT_SOAK_S` unset) a soaked test runs its
 * body once with its CI seed, exactly as it did before soak mode existed, and a failure fails it
 * at once. With `KVT_SOAK_S=N` it runs the body in rounds until N seconds have passed, every round
 * after the first with a fresh random seed; failures are collected, a final line reports ops,
 * rounds and failures, and the test fails at the end naming the first seeds that failed.
 * `KVT_SEED=S` replays one round with seed S (the first round, in soak mode).
 */

/** One round of a soaked test. */
export interface SoakRound {
  /** The seed of this round's random choices; `KVT_SEED=<seed>` replays the round. */
  readonly seed: number;
}

/** Options of {@link soak}. */
export interface SoakOptions {
  /** The seed of the CI round (the one the test always used). Default 1. */
  readonly seed?: number;
  /** A deadline for each round, in ms (none by default: the round bounds its own time). */
  readonly roundMs?: number;
}

/** How many failing seeds the final error names. */
const SEEDS_NAMED = 5;
/** After this long a soak round prints its seed: if it hangs, the seed is on record before the file is killed. */
const SLOW_ROUND_MS = 60_000;

/** A positive integer environment variable, or undefined where it is unset or empty. */
function positiveEnv(name: string, max: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new KvtierError(ErrorCode.CONFIG, `${name}: must be a whole number in [1, ${max}], got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** The soak length in seconds (`KVT_SOAK_S`), or undefined in CI mode. */
function soakSeconds(): number | undefined {
  return positiveEnv('KVT_SOAK_S', 7 * 24 * 3600);
}

/** The text of an error, for the report. */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs `round` as a soaked test named `name` (shown as `soak <name>: ...`). `round` does one
 * complete run of the test, including its invariant checks (bytes, locks, pins, leaks), draws
 * every random choice from its seed, and answers how many operations it did.
 */
export async function soak(name: string, round: (r: SoakRound) => Promise<number>, options: SoakOptions = {}): Promise<void> {
  const seconds = soakSeconds();
  const replay = positiveEnv('KVT_SEED', 0x7fffffff);
  const run = (r: SoakRound) => (options.roundMs === undefined ? round(r) : withDeadline(round(r), options.roundMs, `soak ${name}, seed ${r.seed}`));
  const firstSeed = replay ?? options.seed ?? 1;
  if (seconds === undefined) {
    await run({ seed: firstSeed });
    return;
  }
  const started = performance.now();
  let ops = 0;
  let rounds = 0;
  const failures: { seed: number; error: unknown }[] = [];
  do {
    const seed = rounds === 0 ? firstSeed : randomInt(1, 0x7fffffff);
    const slow = setTimeout(() => console.log(`\nsoak ${name}: round ${rounds} (KVT_SEED=${seed}) still running after ${SLOW_ROUND_MS / 1000} s`), SLOW_ROUND_MS);
    try {
      ops += await run({ seed });
    } catch (error) {
      failures.push({ seed, error });
      console.log(`\nsoak ${name}: round ${rounds} failed (KVT_SEED=${seed}): ${describe(error)}`);
    } finally {
      clearTimeout(slow);
    }
    rounds++;
  } while (performance.now() - started < seconds * 1000);
  const elapsed = (performance.now() - started) / 1000;
  console.log(`\nsoak ${name}: ${ops} ops, ${rounds} rounds, ${failures.length} failures in ${elapsed.toFixed(1)} s`);
  if (failures.length > 0) {
    const named = failures.slice(0, SEEDS_NAMED).map((f) => `KVT_SEED=${f.seed} (${describe(f.error)})`);
    throw new AggregateError(failures.map((f) => f.error), `soak ${name}: ${failures.length} of ${rounds} rounds failed; first seeds: ${named.join('; ')}`);
  }
}
