// The memory an L1 config asks for — arena plus metadata — is checked against the machine and the
// platform's buffer limits before anything is allocated: KVT_ERR_CONFIG naming the field, never a
// RangeError or a kernel kill.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateConfig } from '../src/config.ts';
import { ErrorCode, KvtierError } from '../src/errors.ts';
import { KvCache } from '../src/engine/kv-cache.ts';
import { checkL1Memory, resolveL1Config, type L1Options } from '../src/l1/l1-config.ts';
import { L1Manager } from '../src/l1/l1-manager.ts';
import { metaLayout } from '../src/l1/layout.ts';
import { L1_MEMORY_FRACTION, MAX_BUFFER_BYTES, machineMemory } from '../src/limits.ts';
import { throwsCode } from './l1-helpers.ts';

const C = ErrorCode.CONFIG;
const machine = machineMemory();
const allowed = Math.floor(machine.bytes * L1_MEMORY_FRACTION);
const meta = (slots: number, threads = 32, ring = 65_536) => metaLayout(slots, threads, ring).byteLength;

test('a 1 PiB L1 (2^30-byte slots × 2^20) is refused, saying what was asked and what the machine has', () => {
  const l1 = { slotBytes: 2 ** 30, slotCount: 2 ** 20 };
  const asked = 2 ** 50 + meta(2 ** 20);
  const pattern = new RegExp(`^config\\.l1\\.slotCount: asks for ${asked} bytes .* of memory .*; this machine has ${machine.bytes} bytes .*\\(${machine.source.replace(/[()]/g, '\\$&')}\\) and L1 may take at most 90% of it, ${allowed} bytes`);
  throwsCode(() => validateConfig({ l1 }), C, pattern);
  throwsCode(() => L1Manager.create(l1), C, pattern);
  throwsCode(() => resolveL1Config({ slotBytes: 2 ** 30, capacityBytes: 2 ** 50 }), C, /^config\.l1\.capacityBytes: asks for \d+ bytes/);
});

test('KvCache.open refuses it with CONFIG before allocating', async () => {
  try {
    await KvCache.open({ l1: { slotBytes: 2 ** 30, slotCount: 2 ** 20 } });
  } catch (err) {
    assert.instance(err, KvtierError);
    assert.is((err as KvtierError).code, C);
    assert.match((err as Error).message, /^config\.l1\.slotCount: asks for/);
    return;
  }
  assert.unreachable('KvCache.open accepted a 1 PiB L1');
});

test('the rule: arena + metadata ≤ 90% of the machine; one slot more is refused', () => {
  const slotBytes = 2 ** 24;
  let n = Math.min(Math.floor(allowed / slotBytes), 2 ** 20);
  while (n * slotBytes + meta(n) > allowed) n--;
  assert.ok(n >= 1 && n < 2 ** 20, `this test needs a machine of 16 MiB to 16 TiB, has ${machine.bytes} bytes`);
  // validateConfig allocates nothing: the largest L1 that fits is accepted, one slot more is not.
  assert.is(validateConfig({ l1: { slotBytes, slotCount: n } }).l1.slotCount, n);
  throwsCode(() => validateConfig({ l1: { slotBytes, slotCount: n + 1 } }), C, /^config\.l1\.slotCount: asks for .* at most 90%/);
  assert.is(resolveL1Config({ slotBytes, capacityBytes: n * slotBytes + slotBytes - 1 }).totalSlots, n);
  throwsCode(() => resolveL1Config({ slotBytes, capacityBytes: (n + 1) * slotBytes }), C, /^config\.l1\.capacityBytes: asks for/);
});

test('buffers past the platform\'s typed-array limit are refused, naming the field', () => {
  assert.ok(MAX_BUFFER_BYTES >= 2 ** 30, `platform limit ${MAX_BUFFER_BYTES}`);
  const config = resolveL1Config({ slotBytes: 4096, slotCount: 4096, maxThreads: 256, segmentBytes: 2 ** 20 });
  const metaBytes = meta(4096, 256);
  assert.ok(metaBytes > 2 ** 20);
  const big = { bytes: 2 ** 50, source: 'test' };
  checkL1Memory(config, metaBytes, 'l1.slotCount', big, metaBytes);
  throwsCode(() => checkL1Memory(config, metaBytes, 'l1.slotCount', big, metaBytes - 1), C,
    /^config\.l1\.slotCount: needs a metadata buffer of \d+ bytes .*4096 slots, 256 threads.*at most \d+ bytes .*lower l1\.slotCount or l1\.maxThreads/);
  throwsCode(() => checkL1Memory(config, 0, 'l1.slotCount', big, 2 ** 20 - 1), C, /^config\.l1\.segmentBytes: makes arena segments of 1048576 bytes/);
  // The figure the machine check uses is the machine's.
  throwsCode(() => checkL1Memory(config, metaBytes, 'l1.slotCount', { bytes: 2 ** 20, source: 'a tiny box' }), C, /this machine has 1048576 bytes .*\(a tiny box\)/);
});

test('L1Manager.create reads each option once, a throwing getter answering CONFIG', () => {
  const options = { slotBytes: 4096, get slotCount(): number { throw new RangeError('nope'); } } as L1Options;
  throwsCode(() => L1Manager.create(options), C, /^config\.l1\.slotCount: could not be read: nope$/);
});

test.run();
