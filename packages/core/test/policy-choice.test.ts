// The choice rule of adaptive, on seeded streams of sampled references: each candidate hits with
// its own probability, and the rule sees where one and the current candidate disagree, checked
// every 1 000 references as adaptive does. Deterministic: a seeded PRNG, no clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChoiceRule } from '../src/policies/choice.ts';
import { SeededRandom } from '../src/traces/random.ts';

const CHECK = 1000;

/** `checks` checks of references where candidate c hits with probability `hitRates[c]`; returns the choice after each. */
function run(rule: ChoiceRule, hitRates: readonly number[], checks: number, random: SeededRandom): number[] {
  const choices: number[] = [];
  const hits = hitRates.map(() => false);
  for (let k = 0; k < checks; k++) {
    for (let r = 0; r < CHECK; r++) {
      for (let c = 0; c < hitRates.length; c++) hits[c] = random.next() < hitRates[c];
      const mine = hits[rule.current];
      for (let c = 0; c < hitRates.length; c++) {
        if (hits[c] && !mine) rule.win(c);
        else if (!hits[c] && mine) rule.loss(c);
      }
    }
    rule.check();
    choices.push(rule.current);
  }
  return choices;
}

function switches(choices: readonly number[], start: number): number {
  let n = 0;
  for (let k = 0; k < choices.length; k++) if (choices[k] !== (k === 0 ? start : choices[k - 1])) n++;
  return n;
}

test('the choice rule starts on the candidate it is given', () => {
  assert.is(new ChoiceRule(3, 2).current, 2);
});

test('noise alone rarely moves the choice rule: at most 4 switches in 1 000 checks of three equal candidates', () => {
  const choices = run(new ChoiceRule(3, 0), [0.3, 0.3, 0.3], 1000, new SeededRandom(7));
  const n = switches(choices, 0);
  assert.ok(n <= 4, `${n} switches`);
});

test('the choice rule follows a small stationary lead (0.01 hit ratio) within 100 checks on each of 8 seeds, and stays on it', () => {
  // About 420 discordant references per check, 10 more won than lost: 0.7 standard errors over
  // the short horizon's memory, which alone followed it only after 88 to 194 checks on five of
  // these seeds (never on one); with the long horizon, within 48 on all.
  for (let seed = 1; seed <= 8; seed++) {
    const choices = run(new ChoiceRule(3, 0), [0.3, 0.31, 0.3], 200, new SeededRandom(seed));
    const first = choices.indexOf(1);
    assert.ok(first >= 0 && first < 100, `seed ${seed}: followed at check ${first}`);
    assert.ok(choices.slice(-100).every((c) => c === 1), `seed ${seed}: stays on the better candidate`);
  }
});

test('the choice rule follows a clear lead within a few checks, and a reversal back as fast', () => {
  const rule = new ChoiceRule(3, 0);
  const random = new SeededRandom(3);
  const ahead = run(rule, [0.3, 0.4, 0.3], 20, random);
  assert.ok(ahead.indexOf(1) >= 0 && ahead.indexOf(1) <= 2, `followed at check ${ahead.indexOf(1)}`);
  assert.ok(ahead.slice(ahead.indexOf(1)).every((c) => c === 1), 'and stays on it');
  const back = run(rule, [0.4, 0.3, 0.3], 20, random);
  assert.ok(back.indexOf(0) >= 0 && back.indexOf(0) <= 2, `followed back at check ${back.indexOf(0)}`);
  assert.ok(back.slice(back.indexOf(0)).every((c) => c === 0), 'and stays on it');
});

test.run();
