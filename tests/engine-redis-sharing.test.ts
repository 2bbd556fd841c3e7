// Two KvCache instances in two processes over one redis tier (a real server, started once per
// test run): what one stores the other prefetches byte for byte; under different cache salts
// neither reads the other's chunks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { redisFixture } from '../scripts/redis-servers.mjs';
import { saltedKeys } from './engine-redis-sharing-keys.ts';
import { pattern, prefetch, seedL2, withCache } from './engine-helpers.ts';

const run = promisify(execFile);
const { single } = await redisFixture();
const CONFIG = { type: 'redis', url: single.url, keyPrefix: `engine-redis-sharing-${process.pid}:` };
const PEER = fileURLToPath(new URL('./engine-redis-sharing-peer.ts', import.meta.url));
const CHUNKS = 6;

/** Runs the other process on the same tier; answers what it reports. */
async function peer(mode: 'write' | 'read', salt: string, first: number): Promise<{ loaded: number; exact: boolean }> {
  const task = { url: single.url, keyPrefix: CONFIG.keyPrefix, salt, tokens: [first, CHUNKS], mode };
  const { stdout } = await run(process.execPath, ['--import', 'tsx', PEER, JSON.stringify(task)], { timeout: 120_000, env: process.env });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

test('sharing: another process stores, this one prefetches byte for byte; other salts see nothing', () => withCache(async (cache) => {
  // The peer stores a prompt under salt A; this process reads it under A, and not under B.
  assert.equal(await peer('write', 'tenant-a', 1000), { loaded: CHUNKS, exact: true });
  const shared = saltedKeys('tenant-a', 1000, CHUNKS);
  assert.is(await prefetch(cache, shared), CHUNKS, 'the peer\'s chunks are prefetched');
  cache.readPrefetched(shared)!.forEach((v, i) => assert.equal(v, pattern(shared, i), `chunk ${i}`));
  cache.finishReadPrefetched(shared);
  assert.is(await prefetch(cache, saltedKeys('tenant-b', 1000, CHUNKS)), 0, 'salt B does not read salt A\'s chunks');

  // This process stores a prompt under salt B; the peer reads it under B, and not under A.
  await seedL2(cache, saltedKeys('tenant-b', 5000, CHUNKS));
  assert.equal(await peer('read', 'tenant-b', 5000), { loaded: CHUNKS, exact: true });
  assert.equal(await peer('read', 'tenant-a', 5000), { loaded: 0, exact: true });
}, [CONFIG], {}, 240_000));

test.run();
