import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withDeadline } from '@kvtier/core/testing';
import { TwoCopyLimit } from '../src/two-copy.ts';

const TEST_MS = 60_000;

function patterned(bytes: number, seed: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(bytes);
  const view = new Uint8Array(sab);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    view[i] = x >>> 24;
  }
  return sab;
}

/** Starts a limit over `bytes` patterned bytes, runs `runs` moves, checking each one's bytes, and closes it. */
function movesExactly(bytes: number, pieceBytes: number, stagingBuffers: number, runs: number): Promise<void> {
  return withDeadline((async () => {
    const source = patterned(bytes, bytes);
    const destination = new Uint8Array(bytes);
    const limit = await TwoCopyLimit.start({ source, destination, pieceBytes, stagingBuffers });
    try {
      for (let run = 0; run < runs; run++) {
        destination.fill(0);
        limit.run();
        assert.equal(destination, new Uint8Array(source), `run ${run}`);
      }
    } finally {
      await limit.close();
    }
  })(), TEST_MS, 'two-copy');
}

// 10 pieces of 1000 bytes and one of 7, through 3 slots: the ring wraps several times.
test('the two-copy limit moves every byte through the staging ring, a short last piece included, run after run', () => movesExactly(10_007, 1000, 3, 3));

test('the two-copy limit moves through a ring of one slot, the threads taking strict turns', () => movesExactly(4096, 512, 1, 1));

async function messageOf(p: Promise<unknown>): Promise<string> {
  return p.then(() => 'resolved', (e: Error) => `${e.name}: ${e.message}`);
}

test('bad two-copy options are refused before a worker starts, naming the option', async () => {
  const source = new SharedArrayBuffer(16);
  assert.match(await messageOf(TwoCopyLimit.start({ source, destination: new Uint8Array(16), pieceBytes: 0, stagingBuffers: 2 })), /RangeError: TwoCopyLimit: pieceBytes must be a positive integer, got 0/);
  assert.match(await messageOf(TwoCopyLimit.start({ source, destination: new Uint8Array(16), pieceBytes: 4, stagingBuffers: 1.5 })), /RangeError: TwoCopyLimit: stagingBuffers must be a positive integer, got 1\.5/);
  assert.match(await messageOf(TwoCopyLimit.start({ source, destination: new Uint8Array(8), pieceBytes: 4, stagingBuffers: 2 })), /RangeError: TwoCopyLimit: destination has 8 bytes, source 16/);
});

test.run();
