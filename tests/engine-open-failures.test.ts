// Start-up failures of `KvCache.open` as a user meets them: an adapter that cannot start rejects
// open with KVT_ERR_ADAPTER naming its index, type and cause, promptly (an fs baseDir under /proc
// hung open forever in Node's recursive mkdir), with no "restarting" warning and nothing left running.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '@kvtier/adapters';
import { ErrorCode, KvCache, KvtierError } from '@kvtier/core';
import { registerAdapterType } from '@kvtier/core/authoring';
import { withDeadline } from '@kvtier/core/testing';
import * as broken from './engine-broken-adapter.ts';

const OPEN_MS = 90_000;
const L1 = { slotBytes: 4096, slotCount: 8 };
registerAdapterType('broken', new URL('./engine-broken-adapter.ts', import.meta.url).href, broken);

/** The rejection of open(config), and every warning or error the cache logged meanwhile. */
async function failedOpen(config: object): Promise<{ err: KvtierError; warnings: string[] }> {
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m) };
  const err = await withDeadline(KvCache.open(config, { logger }).then(
    async (cache) => { await cache.close(); throw new Error('open succeeded'); },
    (e: unknown) => e,
  ), OPEN_MS, 'KvCache.open');
  assert.ok(err instanceof KvtierError, String(err));
  return { err: err as KvtierError, warnings };
}

test('an fs baseDir under /proc: KVT_ERR_ADAPTER naming adapters[1], fs and why, without hanging or warning', async () => {
  const { err, warnings } = await failedOpen({ l1: L1, adapters: [{ type: 'mock' }, { type: 'fs', baseDir: '/proc/kvtier-cannot-exist/x' }] });
  assert.is(err.code, ErrorCode.ADAPTER, err.message);
  assert.match(err.message, /^adapters\[1\] \(type 'fs'\) could not start: /);
  assert.match(err.message, /"\/proc\/kvtier-cannot-exist\/x": cannot be created: its parent directory does not accept new directories/);
  assert.equal(warnings, []);
});

test('an adapter whose createAdapter fails: KVT_ERR_ADAPTER with the cause, no restart warning', async () => {
  const { err, warnings } = await failedOpen({ l1: L1, adapters: [{ type: 'broken' }] });
  assert.is(err.code, ErrorCode.ADAPTER, err.message);
  assert.match(err.message, /^adapters\[0\] \(type 'broken'\) could not start: EIO: i\/o error, open \/dev\/kvtier-broken/);
  assert.equal(warnings, []);
});

test('a config problem found at start stays KVT_ERR_CONFIG naming the field', async () => {
  const { err, warnings } = await failedOpen({ l1: L1, adapters: [{ type: 'fs', baseDir: '/dev/null' }] });
  assert.is(err.code, ErrorCode.CONFIG, err.message);
  assert.match(err.message, /^config\.adapters\[0\]\.baseDir: "\/dev\/null" exists and is not a directory/);
  assert.equal(warnings, []);
});

test('a logger without its methods is refused up front, naming the option', async () => {
  const err = await KvCache.open({ l1: L1, adapters: [{ type: 'mock' }] }, { logger: { warn() {} } as never }).catch((e: KvtierError) => e);
  assert.ok(err instanceof KvtierError);
  assert.is(err.code, ErrorCode.INVALID_ARGUMENT);
  assert.is(err.message, 'KvCache.open options.logger must be a logger with methods debug, info, warn, error (console is one), got object without debug, info, error');
});

test('after failed opens a cache opens and closes normally', async () => {
  const cache = await withDeadline(KvCache.open({ l1: L1, adapters: [{ type: 'mock' }] }), OPEN_MS, 'KvCache.open');
  assert.ok((await cache.status()).healthy);
  await cache.close();
});

test.run();
