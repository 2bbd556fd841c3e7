// The JSON Schema published in @kvtier/core (schema/kvtier.config.schema.json) is the one the
// validators' schemas generate, and it agrees with them: the getting-started config file and a
// config that sets every field pass both, a misspelt field fails both.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import '@kvtier/adapters';
import { ErrorCode, KvtierError, validateConfig } from '@kvtier/core';
import { SCHEMA_FILE, generatedConfigSchema } from './config-json-schema.ts';

const published = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
const check = new Ajv({ strict: true, allErrors: true }).compile(published);

/** Ajv's complaints about `config` against the published schema ([] when it validates). */
function schemaErrors(config: unknown): string[] {
  return check(config) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** The ```json block of docs/README.md's getting started. */
function gettingStartedConfig(): unknown {
  const text = readFileSync(new URL('../docs/README.md', import.meta.url), 'utf8');
  const block = /```json\n([\s\S]*?)```/.exec(text);
  assert.ok(block, 'docs/README.md has a ```json config');
  return JSON.parse(block[1]);
}

/** A config that sets every engine field and every field of each built-in adapter type. */
const EVERY_FIELD = {
  $schema: './node_modules/@kvtier/core/schema/kvtier.config.schema.json',
  l1: {
    slotBytes: 65536, capacityBytes: 4194304, segmentBytes: 1048576, writeLeaseMs: 60000, readLeaseMs: 60000,
    maxThreads: 16, eventRingCapacity: 1024, emergencySample: 8,
  },
  adapters: [
    { type: 'mock', capacityBytes: 1 << 20, eviction: { policy: 'lru', watermark: 0.9, ratio: 0.1 }, bandwidthGBps: 10 },
    { type: 'fs', baseDir: '/var/lib/kvtier', capacityBytes: 1 << 30, fsync: true, reconcileIntervalMs: 1000, eviction: { policy: 'arc' } },
    {
      type: 'fault', inner: { type: 'mock' }, seed: 7, delayMs: 5, storeErrorRate: 0.1, loadErrorRate: 0.1, lookupErrorRate: 0.1,
      corruptRate: 0.01, lostRate: 0.01, delayRate: 0.5,
    },
    { type: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: 'kv:', connectTimeoutMs: 1000, commandTimeoutMs: 2000 },
    { type: 'redis', cluster: ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000'] },
  ],
  storePolicy: 'skip_l1',
  prefetchPolicy: 'default',
  l1Eviction: { policy: 's3fifo', watermark: 0.7, ratio: 0.3 },
  evictionIntervalMs: 50,
  reconcileIntervalMs: 1000,
  prefetchMaxInFlight: 4,
  adapterCallTimeoutMs: 10000,
  workerReadyTimeoutMs: 30000,
  store: { maxRetries: 2, backoffMs: 10, maxInFlightBytesPerAdapter: 1 << 26, batchKeys: 128 },
};

test('the committed JSON Schema is the one the config schemas generate', async () => {
  assert.is(readFileSync(SCHEMA_FILE, 'utf8'), await generatedConfigSchema(),
    'packages/core/schema/kvtier.config.schema.json is stale: run node --import tsx tests/config-json-schema.ts');
});

test('the getting-started config file validates against the schema and the validators', () => {
  const config = gettingStartedConfig();
  assert.equal(schemaErrors(config), []);
  // Its baseDir is relative (loadConfig resolves it); the validator takes absolute paths.
  const adapters = (config as { adapters: { baseDir: string }[] }).adapters.map((a) => ({ ...a, baseDir: `/srv/${a.baseDir}` }));
  assert.is(validateConfig({ ...(config as object), adapters }).adapters[0].type, 'fs');
});

test('a config that sets every field validates against the schema and the validators, $schema included', () => {
  assert.equal(schemaErrors(EVERY_FIELD), []);
  const valid = validateConfig(EVERY_FIELD);
  assert.is(valid.adapters.length, 5);
  assert.not.ok('$schema' in valid, 'the $schema key is not a setting');
});

test('a misspelt or out-of-range field fails the schema as it fails the validators', () => {
  const cases: [unknown, RegExp, RegExp][] = [
    [{ ...EVERY_FIELD, prefetchMaxInflight: 4 }, /must NOT have additional properties/, /^config\.prefetchMaxInflight: is not a known field/],
    [{ ...EVERY_FIELD, store: { batchKeys: 0 } }, /^\/store\/batchKeys must be >= 1/, /^config\.store\.batchKeys: must be an integer in \[1, 65536\], got 0/],
    [{ ...EVERY_FIELD, adapters: [{ type: 'fs', baseDir: '/x', fsync: 'yes' }] }, /^\/adapters\/0/, /^config\.adapters\[0\]\.fsync: must be a boolean, got "yes"/],
    [{ l1: { capacityBytes: 4096 } }, /must have required property 'slotBytes'/, /^config\.l1\.slotBytes: must be an integer in \[1, 1073741824\], got undefined/],
  ];
  for (const [config, schemaError, validatorError] of cases) {
    assert.ok(schemaErrors(config).some((e) => schemaError.test(e)), `${JSON.stringify(schemaErrors(config))} has ${schemaError}`);
    try {
      validateConfig(config);
      assert.unreachable('the validators accepted it');
    } catch (err) {
      assert.ok(err instanceof KvtierError && err.code === ErrorCode.CONFIG, String(err));
      assert.match(err.message, validatorError);
    }
  }
});

test.run();
