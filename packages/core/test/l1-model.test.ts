// Property-based test of the L1 state machine against a reference model (fast-check): random
// sequences of every per-key operation by two owners, lease expiry through an injected clock, and
// writers that write late into their views. After each step the answers, the key states, the
// slot accounting and the bytes under every hold must be exactly what the model says.
//
// The model is deliberately plain: a Map of key -> object and a list of orphaned slots, each with
// its holds; it knows nothing of slots, tables or shared memory.
import { threadId } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { L1_ERROR_NAMES, type SlotRef, type WriteMode } from '../src/l1/api.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import { keys as keyBatch } from './l1-helpers.ts';

const KEYS = 5;
const OWNERS = 2;
const SIZE = 64;
const WRITE_LEASE = 1_000;
const READ_LEASE = 3_000;
/** More slots than a sequence can fill (one reserveWrite takes at most one): inline eviction never has to guess. */
const MAX_STEPS = 48;
const SLOTS = MAX_STEPS + 8;

const { SUCCESS, KEY_NOT_EXIST, KEY_NOT_READABLE, KEY_NOT_WRITABLE, KEY_IN_WRONG_STATE, KEY_IS_LOCKED } = {
  SUCCESS: 0, KEY_NOT_EXIST: 1, KEY_NOT_READABLE: 2, KEY_NOT_WRITABLE: 3, KEY_IN_WRONG_STATE: 4, KEY_IS_LOCKED: 5,
};

// ------------------------------------------------------------------ the model

/** A hold some owner has on a generation of a key: the slot and the bytes it must keep seeing. */
interface Hold { readonly owner: number; readonly slot: SlotRef; readonly fill: number }

/** One object (a generation of a key) in the model. */
interface ModelObject {
  readonly gen: number;
  fill: number;
  writer: number; // owner writing it, -1 when published
  writeDeadline: number;
  temporary: boolean;
  reads: number[]; // active read locks per owner
  readDeadline: number;
  stale: number[]; // read holds past their lease, per owner
  slot: SlotRef;
}

/** A slot whose object left: it keeps its cut-short writer and its stale holds. */
interface ModelOrphan { readonly key: number; readonly gen: number; writer: number; readonly stale: number[]; readonly slot: SlotRef }

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

class Model {
  readonly live = new Map<number, ModelObject>();
  orphans: ModelOrphan[] = [];
  /** Read holds (live or orphaned) whose bytes are checked after each step. */
  readHolds: (Hold & { gen: number; key: number })[] = [];
  /** Write holds: the writer may write its fill into the slot at any time. */
  writeHolds: (Hold & { gen: number; key: number })[] = [];
  gen = 0;

  /** The removal of `o` (key `key`): its slot is orphaned while anything holds it. */
  remove(key: number, o: ModelObject): void {
    this.live.delete(key);
    const stale = o.stale.map((s, i) => s + o.reads[i]);
    if (o.writer >= 0 || sum(stale) > 0) this.orphans.push({ key, gen: o.gen, writer: o.writer, stale, slot: o.slot });
    else this.dropHolds(o.gen);
  }

  dropHolds(gen: number, owner?: number, kind: 'read' | 'write' | 'both' = 'both', count = Infinity): void {
    const keep = (h: { gen: number; owner: number }, list: 'read' | 'write') => {
      if (h.gen !== gen || (owner !== undefined && h.owner !== owner) || (kind !== 'both' && kind !== list) || count <= 0) return true;
      count--;
      return false;
    };
    this.readHolds = this.readHolds.filter((h) => keep(h, 'read'));
    this.writeHolds = this.writeHolds.filter((h) => keep(h, 'write'));
  }

  /** Lazy lease expiry of one key at `now`, as every operation applies it to the key it meets. */
  expire(key: number, now: number): void {
    const o = this.live.get(key);
    if (o === undefined) return;
    if (o.writer >= 0 && o.writeDeadline < now) {
      this.remove(key, o);
      return;
    }
    if (sum(o.reads) > 0 && o.readDeadline < now) {
      o.reads.forEach((r, i) => { o.stale[i] += r; });
      o.reads = o.reads.map(() => 0);
      if (o.temporary) this.remove(key, o);
    }
  }

  /** A read lock of `owner` on `o` (key `key`) at `now`, whose view of `slot` is checked from now on. */
  readLock(key: number, o: ModelObject, owner: number, slot: SlotRef, now: number): void {
    o.reads[owner]++;
    o.readDeadline = now + READ_LEASE;
    this.readHolds.push({ owner, slot, fill: o.fill, gen: o.gen, key });
  }

  orphanOf(key: number, owner: number, write: boolean): ModelOrphan | undefined {
    return this.orphans.find((x) => x.key === key && (write ? x.writer === owner : x.stale[owner] > 0));
  }

  freeIfUnheld(x: ModelOrphan): void {
    if (x.writer >= 0 || sum(x.stale) > 0) return;
    this.orphans = this.orphans.filter((y) => y !== x);
  }
}

// ------------------------------------------------------------------ operations

type Op =
  | { kind: 'reserveWrite'; owner: number; key: number; mode: WriteMode; temporary: boolean }
  | { kind: 'finishWrite' | 'finishWriteAndReserveRead' | 'reserveRead' | 'finishRead'; owner: number; key: number }
  | { kind: 'delete'; owner: number; key: number; force: boolean }
  | { kind: 'evict'; key: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'lateWrite'; owner: number };

const owner = fc.integer({ min: 0, max: OWNERS - 1 });
const key = fc.integer({ min: 0, max: KEYS - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('reserveWrite' as const), owner, key, mode: fc.constantFrom<WriteMode>('all', 'new', 'update'), temporary: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('finishWrite' as const, 'finishWriteAndReserveRead' as const), owner, key }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('reserveRead' as const, 'finishRead' as const), owner, key }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), owner, key, force: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('evict' as const), key }) },
  // Steps that land well inside or well past a lease, never on its edge.
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(300, 1_300, 3_300) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lateWrite' as const), owner }) },
);

/** Runs `ops` on a real L1 and the model side by side, checking everything after each step. */
function check(ops: readonly Op[]): void {
  let now = 1_000_000;
  const clock = () => now;
  const l1s = [L1Manager.create({ slotBytes: SIZE, slotCount: SLOTS, writeLeaseMs: WRITE_LEASE, readLeaseMs: READ_LEASE }, { clock })];
  for (let o = 1; o < OWNERS; o++) l1s.push(L1Manager.attach(l1s[0].handle, { clock }));
  const [main] = l1s;
  const m = new Model();
  const k = (i: number) => keyBatch(i);
  const fillOf = (gen: number) => (gen * 37 + 11) & 0xff;

  ops.forEach((op, step) => {
    const where = `step ${step} ${JSON.stringify(op)}`;
    let expected: number | undefined;
    let actual: number | undefined;
    switch (op.kind) {
      case 'reserveWrite': {
        m.expire(op.key, now);
        const o = m.live.get(op.key);
        let replace: ModelObject | undefined;
        if (o !== undefined) {
          expected = op.mode === 'new' || o.writer >= 0 || sum(o.reads) > 0 || o.temporary ? KEY_NOT_WRITABLE : SUCCESS;
          if (expected === SUCCESS) replace = o;
        } else {
          expected = op.mode === 'update' ? KEY_NOT_WRITABLE : SUCCESS;
        }
        const r = l1s[op.owner].reserveWrite(k(op.key), SIZE, { mode: op.mode, temporary: op.temporary });
        actual = r.codes[0];
        if (actual !== SUCCESS || expected !== SUCCESS) break;
        const gen = ++m.gen;
        const fill = fillOf(gen);
        l1s[op.owner].view(r.slots[0], SIZE).fill(fill);
        if (replace !== undefined && sum(replace.stale) > 0) {
          m.remove(op.key, replace); // stale holds keep the old slot: the rewrite takes a new one
          assert.is.not(r.slots[0], replace.slot, `${where}: a slot with stale holds is never rewritten`);
        } else if (replace !== undefined) {
          m.dropHolds(replace.gen);
        }
        m.live.set(op.key, {
          gen, fill, writer: op.owner, writeDeadline: now + WRITE_LEASE, temporary: op.temporary,
          reads: Array(OWNERS).fill(0), readDeadline: 0, stale: Array(OWNERS).fill(0), slot: r.slots[0],
        });
        m.writeHolds.push({ owner: op.owner, slot: r.slots[0], fill, gen, key: op.key });
        break;
      }
      case 'finishWrite':
      case 'finishWriteAndReserveRead': {
        m.expire(op.key, now);
        const cut = m.orphanOf(op.key, op.owner, true);
        const o = m.live.get(op.key);
        if (cut !== undefined) {
          expected = KEY_NOT_EXIST;
        } else if (o === undefined) expected = KEY_NOT_EXIST;
        else expected = o.writer === op.owner ? SUCCESS : KEY_IN_WRONG_STATE;
        const r = op.kind === 'finishWrite' ? { codes: l1s[op.owner].finishWrite(k(op.key)), slots: [-1] } : l1s[op.owner].finishWriteAndReserveRead(k(op.key));
        actual = r.codes[0];
        if (cut !== undefined) {
          m.dropHolds(cut.gen, op.owner, 'write');
          cut.writer = -1;
          m.freeIfUnheld(cut);
        } else if (expected === SUCCESS && o !== undefined) {
          o.writer = -1;
          m.dropHolds(o.gen, op.owner, 'write');
          if (op.kind === 'finishWriteAndReserveRead') m.readLock(op.key, o, op.owner, r.slots[0], now);
        }
        break;
      }
      case 'reserveRead': {
        m.expire(op.key, now);
        const o = m.live.get(op.key);
        expected = o === undefined ? KEY_NOT_EXIST : o.writer >= 0 ? KEY_NOT_READABLE : SUCCESS;
        const r = l1s[op.owner].reserveRead(k(op.key));
        actual = r.codes[0];
        if (expected === SUCCESS && o !== undefined) m.readLock(op.key, o, op.owner, r.slots[0], now);
        break;
      }
      case 'finishRead': {
        m.expire(op.key, now);
        const orphan = m.orphanOf(op.key, op.owner, false);
        const o = m.live.get(op.key);
        if (orphan !== undefined) {
          expected = SUCCESS;
          orphan.stale[op.owner]--;
          m.dropHolds(orphan.gen, op.owner, 'read', 1);
          m.freeIfUnheld(orphan);
        } else if (o === undefined) expected = KEY_NOT_EXIST;
        else if (o.writer >= 0) expected = KEY_IN_WRONG_STATE;
        else if (o.stale[op.owner] > 0) {
          expected = SUCCESS;
          o.stale[op.owner]--;
          m.dropHolds(o.gen, op.owner, 'read', 1);
        } else if (sum(o.reads) === 0) expected = KEY_IN_WRONG_STATE;
        else {
          expected = SUCCESS;
          // The releaser's own lock, else (a misuse) another owner's: that owner's view loses its protection.
          const from = o.reads[op.owner] > 0 ? op.owner : o.reads.findIndex((r) => r > 0);
          o.reads[from]--;
          m.dropHolds(o.gen, from, 'read', 1);
          if (sum(o.reads) === 0 && o.temporary) m.remove(op.key, o);
        }
        actual = l1s[op.owner].finishRead(k(op.key))[0];
        break;
      }
      case 'delete': {
        m.expire(op.key, now);
        const cut = m.orphanOf(op.key, op.owner, true);
        const o = m.live.get(op.key);
        if (cut !== undefined) {
          expected = KEY_NOT_EXIST;
          m.dropHolds(cut.gen, op.owner, 'write');
          cut.writer = -1;
          m.freeIfUnheld(cut);
        } else if (o === undefined) expected = KEY_NOT_EXIST;
        else if (!op.force && (o.writer >= 0 || sum(o.reads) > 0)) expected = KEY_IS_LOCKED;
        else {
          expected = SUCCESS;
          if (o.writer === op.owner) {
            o.writer = -1; // deleting one's own write aborts it
            m.dropHolds(o.gen, op.owner, 'write');
          }
          m.remove(op.key, o);
        }
        actual = l1s[op.owner].delete(k(op.key), { force: op.force })[0];
        break;
      }
      case 'evict': {
        m.expire(op.key, now);
        const o = m.live.get(op.key);
        expected = o === undefined ? KEY_NOT_EXIST : o.writer >= 0 || sum(o.reads) > 0 ? KEY_IS_LOCKED : SUCCESS;
        if (expected === SUCCESS) m.remove(op.key, o!);
        actual = main.evict(k(op.key))[0];
        break;
      }
      case 'advance': {
        now += op.ms;
        for (const key of [...m.live.keys()]) m.expire(key, now);
        main.expireLeases();
        break;
      }
      case 'lateWrite': {
        // A writer writes its views again, including ones whose lease is over.
        for (const h of m.writeHolds) if (h.owner === op.owner) l1s[op.owner].view(h.slot, SIZE).fill(h.fill);
        break;
      }
    }
    if (expected !== undefined) assert.is(L1_ERROR_NAMES[actual!], L1_ERROR_NAMES[expected], `${where}: answer`);

    // Everything the model knows, against the real L1.
    main.checkInvariants();
    for (const h of m.readHolds) {
      assert.ok(main.view(h.slot, SIZE).every((b) => b === h.fill), `${where}: owner ${h.owner}'s view of key ${h.key} (gen ${h.gen}) kept its bytes`);
    }
    for (let key = 0; key < KEYS; key++) {
      const o = m.live.get(key);
      const s = main.state(k(key), 0);
      if (o === undefined) {
        assert.is(s, null, `${where}: key ${key} absent`);
        continue;
      }
      assert.ok(s !== null, `${where}: key ${key} present`);
      assert.is(s!.writeLocked, o.writer >= 0, `${where}: key ${key} write-locked`);
      assert.is(s!.readLocks, sum(o.reads), `${where}: key ${key} read locks`);
      assert.is(s!.temporary, o.temporary, `${where}: key ${key} temporary`);
      if (o.writer < 0) assert.ok(main.view(s!.slot, SIZE).every((b) => b === o.fill), `${where}: key ${key} reads its own bytes`);
    }
    const usage = main.usage();
    assert.is(usage.objects, m.live.size, `${where}: objects`);
    assert.is(usage.orphanedSlots, m.orphans.length, `${where}: orphaned slots`);
    assert.is(usage.freeSlots, SLOTS - m.live.size - m.orphans.length, `${where}: free slots`);
  });

  // Every owner lets go (reclaim, as for a thread that ends): every slot returns.
  for (let o = 1; o < OWNERS; o++) main.reclaimThread(l1s[o].ownerId, threadId);
  main.clear({ force: true });
  main.detach();
  const fresh = L1Manager.attach(l1s[0].handle, { clock });
  fresh.checkInvariants();
  assert.is(fresh.usage().freeSlots, SLOTS, 'every slot is free once every holder is gone');
}

test('L1 matches the reference model over random operation sequences with lease expiry', () => {
  fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: MAX_STEPS }), (ops) => { check(ops); }), {
    numRuns: Number(process.env.KVT_MODEL_RUNS ?? 400),
    seed: process.env.KVT_SEED === undefined ? undefined : Number(process.env.KVT_SEED),
  });
});

test.run();
