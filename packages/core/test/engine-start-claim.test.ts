// The claim word of a task start: the task's thread and the main thread giving the start up each
// take it with one compare-exchange, so exactly one of them wins.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { abandonStart, claimStart, newStartClaim } from '../src/engine/start-claim.ts';

test('a start given up before its thread claims it: the thread may not attach, and no thread is named', () => {
  const claim = newStartClaim();
  assert.is(abandonStart(claim), undefined);
  assert.is(claimStart(claim, 7), false);
  assert.is(abandonStart(claim), undefined, 'giving it up again names no thread either');
});

test('a start its thread claimed first: giving it up names that thread (threadId 0 included), and no second thread can claim it', () => {
  for (const thread of [0, 7]) {
    const claim = newStartClaim();
    assert.is(claimStart(claim, thread), true);
    assert.is(claimStart(claim, thread + 1), false);
    assert.is(abandonStart(claim), thread);
  }
});

test.run();
