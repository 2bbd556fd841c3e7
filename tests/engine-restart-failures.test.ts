// Restarts that fail, as a user meets them: a controller that restarts while an adapter host
// restarts waits for that restart, and when it fails (here a restarted host hangs in createAdapter
// past workerReadyTimeoutMs) the controller's restart fails with the adapter's error and cause
// instead of waiting forever on the dead host, and close() still ends.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '@kvtier/adapters';
import { KvCache } from '@kvtier/core';
import { registerAdapterType } from '@kvtier/core/authoring';
import { L1Manager, engineL1, recordingLogger, terminateWorker, withDeadline, workerHealth } from '@kvtier/core/testing';
import * as stall from './engine-stall-adapter.ts';
import { eventually } from './engine-helpers.ts';

registerAdapterType('stall', new URL('./engine-stall-adapter.ts', import.meta.url).href, stall);

// Long enough for the first start of every worker under tsx on a loaded machine; the hung restart fails at it.
const READY_MS = 25_000;

/** A cache over one `stall` adapter (its restarted hosts hang in createAdapter), its starts bounded by `readyMs`. */
function openStalling(readyMs: number, logger: ReturnType<typeof recordingLogger>): Promise<KvCache> {
  return withDeadline(KvCache.open({
    l1: { slotBytes: 4096, slotCount: 8 }, adapters: [{ type: 'stall' }], workerReadyTimeoutMs: readyMs,
  }, { logger }), 90_000, 'KvCache.open');
}

test('a controller restarting while an adapter restart hangs fails with KVT_ERR_ADAPTER naming the adapter and cause; close ends', async () => {
  const logger = recordingLogger();
  const cache = await openStalling(READY_MS, logger);
  try {
    await terminateWorker(cache, 'adapter[0]');
    await eventually(() => workerHealth(cache).get('adapter[0]') === false, 'the adapter host to be seen dead');
    // The store worker restarts while adapter[0] restarts: its start waits for the new host.
    await terminateWorker(cache, 'store');
    const storeFailed = () => logger.records.find((r) => r.level === 'error' && r.message.startsWith('the store worker could not restart'));
    await eventually(() => storeFailed() !== undefined, 'the store restart to fail', READY_MS + 20_000);
    assert.is(storeFailed()?.message,
      `the store worker could not restart: adapters[0] (type 'stall') could not start: the adapter[0] task was not ready within ${READY_MS} ms`);
    assert.ok(logger.records.some((r) => r.level === 'error' && r.message.startsWith('the adapter[0] worker could not restart: adapters[0]')), 'the adapter restart failure is logged');
    assert.is(workerHealth(cache).get('store'), false);
  } finally {
    // The restarted host that never became ready was terminated: nothing is left for close to wait on.
    await withDeadline(cache.close(), 20_000, 'close');
  }
});

/** L1 owner ids registered now (every engine thread and the main thread hold one each). */
const owners = (cache: KvCache) => engineL1(cache).status().threads.registered;

/** Kills adapter[0]'s host and waits until its restart (which hangs in createAdapter) attached to L1 again. */
async function hangAdapterRestart(cache: KvCache, registered: number): Promise<void> {
  const reclaimed = engineL1(cache).status().counters.reclaimedThreads;
  await terminateWorker(cache, 'adapter[0]');
  await eventually(() => engineL1(cache).status().counters.reclaimedThreads > reclaimed && owners(cache) === registered,
    'the dead host reclaimed and its hung successor attached', 30_000);
}

test('a restart given up at workerReadyTimeoutMs after it attached to L1 has its owner id reclaimed: none leaks', async () => {
  const logger = recordingLogger();
  const cache = await openStalling(READY_MS, logger);
  try {
    const registered = owners(cache);
    await hangAdapterRestart(cache, registered);
    const failed = () => logger.records.some((r) => r.level === 'error' && r.message.startsWith('the adapter[0] worker could not restart'));
    await eventually(failed, 'the adapter restart to fail', READY_MS + 20_000);
    assert.is(owners(cache), registered - 1, 'only the host that is down is missing: its hung successor holds no owner id');
  } finally {
    await withDeadline(cache.close(), 20_000, 'close');
  }
});

test('close gives up a restart that is not ready at once instead of waiting for workerReadyTimeoutMs', async () => {
  const readyMs = 120_000;
  const cache = await openStalling(readyMs, recordingLogger());
  let closed = false;
  try {
    await hangAdapterRestart(cache, owners(cache));
    // Outlives close: what is left registered in L1 once every engine thread ended.
    const probe = L1Manager.attach(engineL1(cache).handle);
    // Far below the ready timeout: a close that waited for it would not end in time.
    await withDeadline(cache.close(), readyMs / 4, 'close');
    closed = true;
    assert.is(probe.status().threads.registered, 1, 'the given-up restart\'s owner id was reclaimed too');
    probe.detach();
  } finally {
    if (!closed) await cache.close();
  }
});

test.run();
