import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paired, spreadOf, timeInTurns } from '../src/spread.ts';
import { formatTable } from '../src/table.ts';

test('a spread is the min, median and max of its samples, in any order', () => {
  assert.equal(spreadOf([3, 1, 2]), { min: 1, median: 2, max: 3 });
  assert.equal(spreadOf([5]), { min: 5, median: 5, max: 5 });
});

test('the spread of no samples is NaN throughout, never a made-up zero', () => {
  const s = spreadOf([]);
  assert.ok(Number.isNaN(s.min) && Number.isNaN(s.median) && Number.isNaN(s.max));
});

test('paired figures combine each repetition with its own partner, and refuse samples of unequal length', () => {
  assert.equal(paired([2, 6], [1, 3], (a, b) => a / b), [2, 2]);
  assert.throws(() => paired([1], [1, 2], (a, b) => a - b), /1 samples against 2/);
});

test('runs take turns: one warm-up each, then every run once per repetition', async () => {
  const order: string[] = [];
  const seconds = await timeInTurns(2, [() => order.push('a'), () => order.push('b')]);
  assert.equal(order, ['a', 'b', 'a', 'b', 'a', 'b']);
  assert.is(seconds.length, 2);
  assert.ok(seconds.every((s) => s.length === 2 && s.every((t) => t >= 0)));
});

test('a spread cell prints as median (min–max), right-aligned like a number', () => {
  const out = formatTable(['what', 'GB/s'], [['store', { min: 1.5, median: 2, max: 2.25 }], ['load', 10]]);
  const lines = out.trimEnd().split('\n');
  assert.ok(lines[2].endsWith('2 (1.5–2.25)'), lines[2]);
  assert.ok(lines[3].endsWith('10'), lines[3]);
  assert.is(lines[2].length, lines[3].length);
});

test.run();
