// Adapter host generations over the control block: what controllers see of a host's life and how
// their termination requests and slot-call counts reach the main thread.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withDeadline } from '../src/deadline.ts';
import { HostGenerations, clearSlotCalls, hasSlotCalls, hostGone, takeTerminationRequests } from '../src/engine/host-generations.ts';
import { CONTROL_WORDS } from '../src/engine/layout.ts';

function control(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
}

test('a host is gone once its generation is passed; waitGone resolves at the bump', () => withDeadline((async () => {
  const words = control();
  const hosts = new HostGenerations(words, [0, 0], 'store');
  assert.is(hosts.isGone(1, 0), false);
  const waiting = hosts.waitGone(1, 0, 5_000);
  setTimeout(() => hostGone(words, 1), 20);
  await waiting;
  assert.is(hosts.isGone(1, 0), true);
  assert.is(hosts.isGone(0, 0), false, 'other adapters are unaffected');
  hosts.connect(1, 1);
  assert.is(hosts.generationOf(1), 1);
})(), 5_000, 'test'));

test('a termination request reaches the main thread once, and a request for a host already gone is dropped', () => {
  const words = control();
  const hosts = new HostGenerations(words, [0, 0], 'prefetch');
  hosts.requestTermination(1, 0);
  hosts.requestTermination(1, 0);
  assert.equal(takeTerminationRequests(words, 2), [1]);
  assert.equal(takeTerminationRequests(words, 2), []);
  hosts.requestTermination(0, 0);
  hostGone(words, 0);
  assert.equal(takeTerminationRequests(words, 2), [], 'the host asked about already exited');
});

test('slot calls are counted per caller and adapter until they end or the main thread clears them', () => {
  const words = control();
  const store = new HostGenerations(words, [0, 0], 'store');
  const prefetch = new HostGenerations(words, [0, 0], 'prefetch');
  store.slotCallStarted(1);
  prefetch.slotCallStarted(0);
  assert.equal([hasSlotCalls(words, 'store', 0), hasSlotCalls(words, 'store', 1)], [false, true]);
  assert.equal([hasSlotCalls(words, 'prefetch', 0), hasSlotCalls(words, 'prefetch', 1)], [true, false]);
  store.slotCallEnded(1);
  assert.is(hasSlotCalls(words, 'store', 1), false);
  clearSlotCalls(words, 'prefetch');
  assert.is(hasSlotCalls(words, 'prefetch', 0), false);
});

test.run();
