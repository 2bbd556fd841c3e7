// The prefix tree reaches the policies through the engine's event plumbing: a real L1's created
// events carry each key's parent (the key before it in its batch call, even when that key was
// already cached) and mark the batch's last key, and the eviction controller passes both on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EvictionController, type EvictionL1 } from '../src/controllers/eviction.ts';
import type { L1Manager } from '../src/l1/l1-manager.ts';
import type { DigestBatch } from '../src/l1/api.ts';
import { keyId } from '../src/digest-batch.ts';
import { createEvictionPolicy } from '../src/policies/eviction-policies.ts';
import type { EvictionPolicy, PrefixInfo } from '../src/policies/eviction.ts';
import { ForwardingPolicy } from '../src/policies/forwarding.ts';
import { ids, keys, metrics, smallL1 } from './controller-fixtures.ts';

const SIZE = 64;

/** An LRU policy that records every created batch with its tree. */
class Recording extends ForwardingPolicy<string> {
  readonly batches: { ids: string[]; tree?: PrefixInfo<string> }[] = [];

  constructor() {
    super(createEvictionPolicy<string>('lru'));
  }

  override created(keys: readonly string[], tree?: PrefixInfo<string>): void {
    this.batches.push({ ids: [...keys], tree: tree && { parents: [...tree.parents], tails: [...tree.tails] } });
    super.created(keys, tree);
  }
}

/** Writes every key of `batch` that L1 does not hold yet, as one write batch call. */
function writeMissing(l1: L1Manager, batch: DigestBatch): void {
  const r = l1.reserveWrite(batch, SIZE, { mode: 'new' });
  for (let i = 0; i < batch.length / 4; i++) if (r.codes[i] === 0) l1.view(r.slots[i], SIZE).fill(i);
  l1.finishWrite(batch);
}

function controller(l1: EvictionL1, policy: EvictionPolicy<string>): EvictionController {
  return new EvictionController({
    l1, l1Policy: policy, l1Eviction: { watermark: 1, ratio: 0.25 }, l2: [], metrics: metrics(),
    adapterCallTimeoutMs: 1000, intervalMs: 10, reconcileIntervalMs: 60_000, wait: async () => {}, stopped: () => false,
  });
}

/** Writes the keys `first` of `n` keys, then all `n` (two requests over one prefix); the recorded batches. */
async function twoRequests(n: number, first: [number, number]): Promise<{ policy: Recording; id: (i: number) => string }> {
  const l1 = smallL1(16);
  const policy = new Recording();
  const c = controller(l1, policy);
  const all = keys(...ids(n));
  writeMissing(l1, all.slice(first[0] * 4, first[1] * 4));
  await c.cycle();
  writeMissing(l1, all);
  await c.cycle();
  return { policy, id: (i) => keyId(all, i) };
}

test('created keys reach the L1 policy with their parents and the batch tail marked', async () => {
  // The second request extends the first: keys 0-2 are cached, 3-5 new; key 3's parent (2)
  // emitted nothing in that call, so L1 announces it.
  const { policy, id } = await twoRequests(6, [0, 3]);
  assert.equal(policy.batches.map((b) => b.ids), [[id(0), id(1), id(2)], [id(3), id(4), id(5)]]);
  assert.equal(policy.batches[0].tree, { parents: [undefined, id(0), id(1)], tails: [false, false, true] });
  assert.equal(policy.batches[1].tree, { parents: [id(2), id(3), id(4)], tails: [false, false, true] });
});

test('a gap in a batch (a cached key in the middle) still names the right parent', async () => {
  const { policy, id } = await twoRequests(4, [1, 2]);
  assert.equal(policy.batches[1].ids, [id(0), id(2), id(3)]);
  assert.equal(policy.batches[1].tree?.parents, [undefined, id(1), id(2)]);
});

/**
 * A real L1 whose event drains stop after `first` events, the rest coming with the next drain:
 * what a drain racing a batch call sees.
 */
function splitDrains(l1: L1Manager, first: number): EvictionL1 {
  const pending: [number, Uint32Array, number, number][] = [];
  let limit = first;
  return {
    usage: () => l1.usage(), liveKeys: () => l1.liveKeys(), isEvictable: (k, i) => l1.isEvictable(k, i),
    evict: (k) => l1.evict(k), expireLeases: () => l1.expireLeases(),
    drainEvents(onEvent) {
      l1.drainEvents((kind, key, batch, flags) => { pending.push([kind, key.slice(), batch, flags]); });
      const handed = pending.splice(0, limit);
      limit = Infinity;
      for (const [kind, key, batch, flags] of handed) onEvent(kind, key, batch, flags);
      return handed.length;
    },
  };
}

test('a batch call whose events are drained in two cycles keeps its parents across the split', async () => {
  const l1 = smallL1(16);
  const policy = new Recording();
  const c = controller(splitDrains(l1, 4), policy);
  const all = keys(...ids(8));
  writeMissing(l1, all);
  await c.cycle();
  await c.cycle();
  const id = (i: number): string => keyId(all, i);
  assert.equal(policy.batches.map((b) => b.ids), [[id(0), id(1), id(2), id(3)], [id(4), id(5), id(6), id(7)]]);
  assert.equal(policy.batches[1].tree?.parents, [id(3), id(4), id(5), id(6)], 'key 4 follows key 3 of the previous drain');
});

test('a tree-aware L1 policy fed by the controller never evicts a cached parent before its child', async () => {
  const l1 = smallL1(16);
  const policy = createEvictionPolicy<string>('tree_arc', { capacity: 16 });
  const c = controller(l1, policy);
  const all = keys(...ids(8));
  writeMissing(l1, all);
  await c.cycle();
  const victims = policy.victims(0.5);
  assert.equal(victims, [keyId(all, 7), keyId(all, 6), keyId(all, 5), keyId(all, 4)], 'the deepest leaves go first, tail first');
});

/**
 * A request extending a cached prefix lands between two drains, and a reconciliation comes first:
 * it must not take the new keys for objects whose events were lost (they would enter without a
 * parent, and their CREATED events, drained next, would count as uses).
 */
test('a reconciliation applies the events before its snapshot first: keys created since the last drain keep their parent', async () => {
  const l1 = smallL1(16);
  const policy = createEvictionPolicy<string>('tree_arc', { capacity: 16 });
  const c = controller(l1, policy);
  const all = keys(...ids(8));
  writeMissing(l1, all.slice(0, 4 * 4));
  await c.cycle();
  writeMissing(l1, all);
  c.reconcileL1();
  await c.cycle();
  const id = (i: number): string => keyId(all, i);
  assert.equal(policy.victims(0.5), [id(7), id(6), id(5), id(4)], 'the extension goes, tail first; key 3 is the parent of key 4');
});

test.run();
