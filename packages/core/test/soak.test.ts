// The soak helper of the fault, kill and chaos tests: one CI round unless KVT_SOAK_S is set,
// rounds until the time is up when it is, failures collected and named by seed, KVT_SEED replays.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, KvtierError } from '../src/errors.ts';
import { soak } from '../src/soak.ts';

/** Runs `body` with the soak variables set as given (undefined: unset), restoring them after. */
async function withEnv(vars: { KVT_SOAK_S?: string; KVT_SEED?: string }, body: () => Promise<void>): Promise<void> {
  const saved = { KVT_SOAK_S: process.env.KVT_SOAK_S, KVT_SEED: process.env.KVT_SEED };
  const set = (name: 'KVT_SOAK_S' | 'KVT_SEED', value: string | undefined) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  set('KVT_SOAK_S', vars.KVT_SOAK_S);
  set('KVT_SEED', vars.KVT_SEED);
  try {
    await body();
  } finally {
    set('KVT_SOAK_S', saved.KVT_SOAK_S);
    set('KVT_SEED', saved.KVT_SEED);
  }
}

/** Runs `body` with console.log captured; answers the lines it printed. */
async function printed(body: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => { lines.push(args.join(' ').trim()); };
  try {
    await body();
  } finally {
    console.log = log;
  }
  return lines;
}

/** The error `promise` rejects with (fails if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return assert.unreachable('expected a rejection');
}

const pause = () => new Promise((r) => setTimeout(r, 20));

test('CI mode: one round with the CI seed, nothing printed, and its error is the test\'s', () => withEnv({}, async () => {
  const seeds: number[] = [];
  const lines = await printed(() => soak('t/ci', async ({ seed }) => { seeds.push(seed); return 3; }, { seed: 7 }));
  assert.equal(seeds, [7]);
  assert.equal(lines, []);
  const boom = new Error('boom');
  assert.is(await rejection(soak('t/ci', async () => { throw boom; })), boom);
  await soak('t/ci', async ({ seed }) => { seeds.push(seed); return 0; });
  assert.is(seeds[1], 1, 'the default CI seed is 1');
}));

test('KVT_SEED replays one round with that seed', () => withEnv({ KVT_SEED: '424242' }, async () => {
  const seeds: number[] = [];
  await soak('t/replay', async ({ seed }) => { seeds.push(seed); return 1; }, { seed: 7 });
  assert.equal(seeds, [424242]);
}));

test('KVT_SOAK_S: rounds until the time is up, the first with the CI seed, then fresh seeds; a final line reports them', () => withEnv({ KVT_SOAK_S: '1' }, async () => {
  const seeds: number[] = [];
  const lines = await printed(() => soak('t/soak', async ({ seed }) => { seeds.push(seed); await pause(); return 2; }, { seed: 7 }));
  assert.ok(seeds.length >= 2, `${seeds.length} rounds`);
  assert.is(seeds[0], 7);
  assert.is(new Set(seeds).size, seeds.length, 'each later round draws a fresh seed');
  assert.is(lines.length, 1);
  assert.match(lines[0], new RegExp(`^soak t/soak: ${2 * seeds.length} ops, ${seeds.length} rounds, 0 failures in \\d+\\.\\d s$`));
}));

test('KVT_SOAK_S: failing rounds are collected, printed with their seed, and fail the soak at the end naming the first seeds', () => withEnv({ KVT_SOAK_S: '1' }, async () => {
  const seeds: number[] = [];
  let err: unknown;
  const lines = await printed(async () => {
    err = await rejection(soak('t/failing', async ({ seed }) => {
      seeds.push(seed);
      await pause();
      if (seeds.length % 2 === 0) throw new Error(`bad bytes at round ${seeds.length}`);
      return 1;
    }));
  });
  const failed = seeds.filter((_, i) => i % 2 === 1);
  assert.ok(failed.length >= 1, 'the soak ran past round 2');
  assert.instance(err, AggregateError);
  assert.is((err as AggregateError).errors.length, failed.length);
  assert.match((err as Error).message, `soak t/failing: ${failed.length} of ${seeds.length} rounds failed; first seeds: KVT_SEED=${failed[0]} (bad bytes at round 2)`);
  assert.ok(lines.includes(`soak t/failing: round 1 failed (KVT_SEED=${failed[0]}): bad bytes at round 2`), lines.join('\n'));
  assert.ok(lines.at(-1)!.startsWith(`soak t/failing: ${seeds.length - failed.length} ops, ${seeds.length} rounds, ${failed.length} failures in `), lines.at(-1));
}));

test('roundMs bounds each round: a round that never settles fails with KVT_ERR_TIMEOUT naming the test and seed', () => withEnv({}, async () => {
  const err = await rejection(soak('t/hang', () => new Promise<number>(() => {}), { seed: 5, roundMs: 30 }));
  assert.instance(err, KvtierError);
  assert.is((err as KvtierError).code, ErrorCode.TIMEOUT);
  assert.match((err as Error).message, 'soak t/hang, seed 5 did not complete within 30 ms');
}));

test('a bad KVT_SOAK_S or KVT_SEED is a KVT_ERR_CONFIG naming the variable; the round never runs', async () => {
  for (const [vars, pattern] of [
    [{ KVT_SOAK_S: 'ten' }, /^KVT_SOAK_S: must be a whole number in \[1, 604800\], got "ten"$/],
    [{ KVT_SOAK_S: '0' }, /^KVT_SOAK_S: must be a whole number in \[1, 604800\], got "0"$/],
    [{ KVT_SEED: '1.5' }, /^KVT_SEED: must be a whole number in \[1, 2147483647\], got "1\.5"$/],
    [{ KVT_SEED: '-3' }, /^KVT_SEED: must be a whole number in \[1, 2147483647\], got "-3"$/],
  ] as const) {
    await withEnv(vars, async () => {
      let ran = false;
      const err = await rejection(soak('t/bad', async () => { ran = true; return 0; }));
      assert.instance(err, KvtierError);
      assert.is((err as KvtierError).code, ErrorCode.CONFIG);
      assert.match((err as Error).message, pattern);
      assert.is(ran, false);
    });
  }
});

test.run();
