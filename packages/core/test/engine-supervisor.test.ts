// Crash supervision on the main thread without a pool: what happens when handling a task's death
// itself fails.
import { threadId } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateConfig } from '../src/config.ts';
import { withDeadline } from '../src/deadline.ts';
import { CONTROL_WORDS } from '../src/engine/layout.ts';
import { Supervisor } from '../src/engine/supervisor.ts';
import { Header } from '../src/l1/layout.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import { recordingLogger } from '../src/logger.ts';
import { Metrics } from '../src/metrics.ts';
import { keys, names } from './l1-helpers.ts';

test('a crash whose L1 reclaim times out (a live owner holds the mutex) is logged as an error, not an unhandled rejection; the task stays down and unhealthy', () => withDeadline((async () => {
  const config = validateConfig({ l1: { slotBytes: 4096, slotCount: 4 }, adapters: [] });
  const l1 = L1Manager.create(config.l1);
  const dead = L1Manager.attach(l1.handle);
  assert.equal(names(dead.reserveWrite(keys(1), 100).codes), ['SUCCESS']);
  const holder = L1Manager.attach(l1.handle);
  const meta = new Int32Array(l1.handle.meta);
  Atomics.store(meta, Header.MUTEX, holder.ownerId << 1);
  const logger = recordingLogger();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => { unhandled.push(reason); };
  process.on('unhandledRejection', onUnhandled);
  let restarts = 0;
  const supervisor = new Supervisor(
    { config, l1, control: new SharedArrayBuffer(CONTROL_WORDS * 4), metrics: new Metrics(), logger, onPrefetchLost: async () => {} },
    { terminate: async () => {}, died: () => {}, isQueued: () => false, dropPrefetchQueue: () => false },
  );
  try {
    supervisor.setHealthy('eviction', true);
    supervisor.watch({ name: 'eviction', kind: 'eviction', adapter: -1, done: Promise.reject(new Error('killed')), ownerId: dead.ownerId, threadId }, async () => { restarts++; });
    const failed = () => logger.records.find((r) => r.level === 'error');
    while (failed() === undefined && unhandled.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(unhandled, []);
    assert.match(failed()!.message, /^the eviction worker died and its death could not be handled \(L1 mutex held by owner \d+ for over 10000 ms/);
    assert.match(failed()!.message, /it stays down$/);
    assert.is(supervisor.health.get('eviction'), false);
    assert.is(restarts, 0, 'no successor runs beside locks nobody released');
    // Once the mutex is free the dead owner can still be reclaimed.
    Atomics.store(meta, Header.MUTEX, 0);
    assert.equal(l1.reclaimThread(dead.ownerId, threadId), { writesDiscarded: 1, readLocksReleased: 0 });
  } finally {
    process.off('unhandledRejection', onUnhandled);
    supervisor.stop();
  }
})(), 60_000, 'supervisor'));

test.run();
