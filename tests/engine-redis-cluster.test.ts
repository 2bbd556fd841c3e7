// The engine over a real 3-master Redis cluster with one replica each (scripts/redis-servers.mjs,
// started once per test run): a master killed makes its keys miss (not errors) while the rest keep
// serving; once its replica is promoted (by the test: the fixture's replicas do not fail over by
// themselves, so the miss phase is not a race) they serve again, byte for byte. The killed node
// is restarted afterwards (it rejoins as a replica), so the cluster is whole for the next file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { digestHex, type DigestBatch } from '@kvtier/core';
import { AdapterOp, engineCounters } from '@kvtier/core/testing';
import { cli, killNode, masterOfSlot, promote, redisFixture, replicaOf, startNode, waitClusterReady, waitReplicated } from '../scripts/redis-servers.mjs';
import { eventually, inL2, makeKeys, pattern, pick, prefetch, seedL2, withCache } from './engine-helpers.ts';

const { cluster } = await redisFixture();
const PREFIX = `engine-redis-cluster-${process.pid}:`;
const CONFIG = { type: 'redis', cluster: cluster.urls, keyPrefix: PREFIX, commandTimeoutMs: 2_000, connectTimeoutMs: 500 };

/** The port of the master serving each key now. */
async function mastersOf(keys: DigestBatch): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < keys.length / 4; i++) {
    const slot = Number(await cli(cluster.nodes[0].port, 'CLUSTER', 'KEYSLOT', PREFIX + digestHex(keys, i)));
    ports.push((await masterOfSlot(cluster, slot))!.port);
  }
  return ports;
}

async function assertPrefetched(cache: Parameters<Parameters<typeof withCache>[0]>[0], keys: DigestBatch, what: string): Promise<void> {
  assert.is(await prefetch(cache, keys), keys.length / 4, what);
  cache.readPrefetched(keys)!.forEach((v, i) => assert.equal(v, pattern(keys, i), `${what}: key ${i}`));
  cache.finishReadPrefetched(keys);
  cache.clear();
}

test('cluster: a master killed misses its keys, the others serve; its promoted replica serves them again', () => withCache(async (cache) => {
  const keys = makeKeys(24);
  await seedL2(cache, keys);
  await waitReplicated(cluster);
  const owners = await mastersOf(keys);
  assert.is(new Set(owners).size, 3, 'the keys span every master');
  const victimPort = owners[0];
  const victim = cluster.nodes.find((n) => n.port === victimPort)!;
  const onVictim = owners.flatMap((p, i) => (p === victimPort ? [i] : []));
  const elsewhere = owners.flatMap((p, i) => (p === victimPort ? [] : [i]));

  const replica = (await replicaOf(cluster, victimPort))!;
  assert.ok(replica !== undefined, 'the victim has a replica');
  await killNode(victim);
  try {
    const lookupFailures = engineCounters(cache).getFailures(0, AdapterOp.LOOKUP);
    const found = await inL2(cache, 0, keys);
    onVictim.forEach((i) => assert.not.ok(found[i], `key ${i} on the dead master misses`));
    elsewhere.forEach((i) => assert.ok(found[i], `key ${i} on a live master is found`));
    await assertPrefetched(cache, pick(keys, elsewhere), 'keys on the live masters');
    assert.is(engineCounters(cache).getFailures(0, AdapterOp.LOOKUP), lookupFailures, 'misses, not errors');

    // The replica is promoted; the adapter finds it at its next slot map refresh.
    await promote(replica);
    await eventually(async () => (await inL2(cache, 0, keys)).every(Boolean), 'the promoted replica to serve the dead master\'s keys', 30_000);
    await assertPrefetched(cache, pick(keys, onVictim), 'keys of the dead master, from its promoted replica');
    await assertPrefetched(cache, keys, 'every key');
  } finally {
    await startNode(victim);
    await waitClusterReady(cluster);
  }
}, [CONFIG], { adapterCallTimeoutMs: 5_000 }, 90_000));

test.run();
