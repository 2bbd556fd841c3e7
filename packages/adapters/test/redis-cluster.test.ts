// The redis adapter against a real 3-master cluster (scripts/redis-servers.mjs): keys spread over
// every master, and a slot migrated under the adapter (ASK while it moves, MOVED after).
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { digestHex, type DigestBatch } from '@kvtier/core';
import '../src/index.ts';
import { RedisAdapter } from '../src/redis/adapter.ts';
import { hashSlot } from '../src/redis/cluster.ts';
import { cli, masterOfSlot, redisFixture } from '../../../scripts/redis-servers.mjs';
import { boundedTest, chunkKeys, fillPattern } from './fixtures.ts';

const test = boundedTest(uvuTest, 60_000);
const { cluster } = await redisFixture();
const PREFIX = `kvt-cluster-${process.pid}:`;

function objectOf(i: number, size = 20_000): Uint8Array {
  const bytes = new Uint8Array(size);
  fillPattern(bytes, i);
  return bytes;
}

function one(keys: DigestBatch, i: number): DigestBatch {
  return keys.slice(i * 4, i * 4 + 4);
}

async function withCluster(body: (adapter: RedisAdapter) => Promise<void>): Promise<void> {
  const adapter = await RedisAdapter.open({ type: 'redis', cluster: [cluster.urls[1]], keyPrefix: PREFIX });
  try {
    await body(adapter);
  } finally {
    await adapter.close();
  }
}

test('hashSlot matches the server (CLUSTER KEYSLOT)', async () => {
  for (const key of ['', 'a', 'kvtier:00ff', `${PREFIX}${'ab'.repeat(16)}`]) {
    assert.is(hashSlot(key), Number(await cli(cluster.nodes[0].port, 'CLUSTER', 'KEYSLOT', key)), JSON.stringify(key));
  }
});

test('objects spread over every master and come back byte for byte', () => withCluster(async (adapter) => {
  const n = 48;
  const keys = chunkKeys(n, 'cluster-spread');
  const objects = Array.from({ length: n }, (_, i) => [objectOf(i)]);
  assert.ok((await adapter.store(keys, objects)).every((b) => b === 1));
  const owners = new Set<number>();
  for (let i = 0; i < n; i++) owners.add((await masterOfSlot(cluster, hashSlot(PREFIX + digestHex(keys, i))))!.port);
  assert.is(owners.size, 3, 'every master holds some');
  const targets = Array.from({ length: n }, () => [new Uint8Array(20_000)]);
  assert.ok([...(await adapter.load(keys, targets))].every((l) => l === 20_000));
  targets.forEach(([t], i) => assert.ok(Buffer.from(t).equals(Buffer.from(objects[i][0])), `object ${i}`));
  assert.equal([...(await adapter.lookup(keys))], new Array(n).fill(20_000));
  assert.ok((await adapter.usage()).usedBytes > 0);
  const status = await adapter.status();
  assert.ok(status.healthy);
  assert.is((status.nodes as unknown[]).length, 3);
  assert.ok((await adapter.delete(keys)).every((b) => b === 1));
}));

/** Two key indices of `keys` whose keys share a hash slot. */
function twoInOneSlot(keys: DigestBatch): [number, number] {
  const seen = new Map<number, number>();
  for (let i = 0; i < keys.length / 4; i++) {
    const slot = hashSlot(PREFIX + digestHex(keys, i));
    const other = seen.get(slot);
    if (other !== undefined) return [other, i];
    seen.set(slot, i);
  }
  throw new Error('no two keys share a slot');
}

test('a slot migrated under the adapter: ASK is followed while it moves, MOVED after, bytes exact', () => withCluster(async (adapter) => {
  const keys = chunkKeys(3000, 'cluster-migrate');
  const [old, fresh] = twoInOneSlot(keys);
  const slot = hashSlot(PREFIX + digestHex(keys, old));
  await adapter.store(one(keys, old), [[objectOf(old)]]);
  const source = (await masterOfSlot(cluster, slot))!;
  const masters = await Promise.all(cluster.nodes.map(async (n) => ({ n, role: await cli(n.port, 'ROLE') })));
  const target = masters.find(({ n, role }) => role.startsWith('master') && n.port !== source.port)!.n;
  const [sourceId, targetId] = [await cli(source.port, 'CLUSTER', 'MYID'), await cli(target.port, 'CLUSTER', 'MYID')];
  assert.is(await cli(target.port, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', sourceId), 'OK');
  assert.is(await cli(source.port, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', targetId), 'OK');

  // While the slot moves, a key the source lacks is stored and read on the target through ASK.
  const before = (await adapter.status()).redirects as number;
  assert.equal([...(await adapter.store(one(keys, fresh), [[objectOf(fresh)]]))], [1]);
  assert.match(await cli(target.port, 'EXISTS', PREFIX + digestHex(keys, fresh)), /^MOVED /, 'the target serves the slot only after ASKING');
  assert.match(await cli(source.port, 'EXISTS', PREFIX + digestHex(keys, fresh)), /^ASK /, 'the source does not hold it: it sends the client on');
  const freshTarget = new Uint8Array(20_000);
  assert.equal([...(await adapter.load(one(keys, fresh), [[freshTarget]]))], [20_000]);
  assert.ok(Buffer.from(freshTarget).equals(Buffer.from(objectOf(fresh))));
  assert.ok((await adapter.status()).redirects as number > before, 'ASK redirects were followed');

  // The old key moves too, then the slot is handed over: the adapter's map is stale, MOVED fixes it.
  assert.is(await cli(source.port, 'MIGRATE', '127.0.0.1', String(target.port), '', '0', '5000', 'KEYS', PREFIX + digestHex(keys, old)), 'OK');
  for (const { n, role } of masters) {
    if (role.startsWith('master')) await cli(n.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId);
  }
  const moved = (await adapter.status()).redirects as number;
  const oldTarget = new Uint8Array(20_000);
  assert.equal([...(await adapter.load(one(keys, old), [[oldTarget]]))], [20_000]);
  assert.ok(Buffer.from(oldTarget).equals(Buffer.from(objectOf(old))));
  assert.ok((await adapter.status()).redirects as number > moved, 'MOVED was followed');
  await adapter.delete(one(keys, old));
  await adapter.delete(one(keys, fresh));
}));

uvuTest.run();
