/**
 * The choice rule of `adaptive`: which of its candidates to follow, from the paired outcomes of
 * their miniatures. Each challenger is compared with the current candidate on the sampled
 * references where exactly one of the two hit (its wins and losses; McNemar's paired test), over
 * two horizons at once:
 *
 * - Short: the counts halve at each check (about two checks of memory). A challenger ahead by more
 *   than {@link SWITCH_Z} standard errors at {@link SWITCH_CHECKS} consecutive checks is followed:
 *   a change of phase, where one candidate pulls clearly ahead, is followed within a few checks,
 *   and a lead within the miniatures' noise is not.
 * - Long: the counts add up from the last switch, never halved. A lead of a few thousandths of hit
 *   ratio is far inside the short horizon's noise at every check, yet it is real and worth
 *   following when it lasts. The long counts are judged against Robbins' normal-mixture boundary
 *   (a sequential test valid at every check at once, however many there are): under no true lead a
 *   challenger crosses it with probability at most {@link LONG_ALPHA} over the whole time a
 *   candidate is current, where a fixed number of standard errors would be crossed by noise
 *   alone sooner or later, the longer the memory the surer.
 *
 * A switch starts both horizons afresh: the counts are against the current candidate.
 */

/**
 * Short horizon: a challenger must lead by more than this many standard errors (about 95%
 * confidence that the lead is real, not sampling noise)…
 */
const SWITCH_Z = 2;
/** …at this many consecutive checks. */
const SWITCH_CHECKS = 2;
/** Long horizon: the probability that noise alone ever makes a challenger cross (the same 95%). */
const LONG_ALPHA = 0.05;
/**
 * The long horizon's mixing scale, in discordant references: the normal prior on the lead per
 * discordant reference has variance 1/this, i.e. the lead's whole range ([-1, 1]) is one standard
 * deviation: no preferred size of lead.
 */
const LONG_PRIOR = 1;

/** Robbins' boundary for a sum of `n` ±1 steps: crossed with probability ≤ {@link LONG_ALPHA} at any n. */
function longBoundary(n: number): number {
  return Math.sqrt((n + LONG_PRIOR) * (Math.log(1 + n / LONG_PRIOR) + 2 * Math.log(1 / LONG_ALPHA)));
}

/** Which of `candidates` strategies to follow, judged on their paired sampled outcomes. */
export class ChoiceRule {
  #current: number;
  #leads = 0;
  /** Per candidate, short horizon: references it hit and the current one missed (halved at each check). */
  readonly #wins: number[];
  /** Per candidate, short horizon: references the current one hit and it missed. */
  readonly #losses: number[];
  /** Per candidate, long horizon: its wins since the last switch. */
  readonly #longWins: number[];
  /** Per candidate, long horizon: its losses since the last switch. */
  readonly #longLosses: number[];

  /**
   * @param candidates - how many strategies there are
   * @param start - the one followed first
   */
  constructor(candidates: number, start: number) {
    this.#current = start;
    this.#wins = new Array<number>(candidates).fill(0);
    this.#losses = new Array<number>(candidates).fill(0);
    this.#longWins = new Array<number>(candidates).fill(0);
    this.#longLosses = new Array<number>(candidates).fill(0);
  }

  /** The strategy followed now. */
  get current(): number {
    return this.#current;
  }

  /** One sampled reference candidate `c` hit and the current one missed. */
  win(c: number): void {
    this.#wins[c]++;
    this.#longWins[c]++;
  }

  /** One sampled reference the current candidate hit and `c` missed. */
  loss(c: number): void {
    this.#losses[c]++;
    this.#longLosses[c]++;
  }

  /** Judges the counts so far; returns whether the current strategy changed. */
  check(): boolean {
    const short = this.#shortLeader();
    this.#leads = short === this.#current ? 0 : this.#leads + 1;
    const next = this.#leads >= SWITCH_CHECKS ? short : this.#longLeader();
    if (next === this.#current) return false;
    this.#current = next;
    this.#leads = 0;
    for (const counts of [this.#wins, this.#losses, this.#longWins, this.#longLosses]) counts.fill(0);
    return true;
  }

  /** The challenger furthest ahead beyond {@link SWITCH_Z} on the short counts (or the current one); halves them. */
  #shortLeader(): number {
    let best = this.#current;
    let bestLead = 0;
    for (let c = 0; c < this.#wins.length; c++) {
      const lead = this.#wins[c] - this.#losses[c];
      if (lead > bestLead && lead > SWITCH_Z * Math.sqrt(this.#wins[c] + this.#losses[c])) {
        best = c;
        bestLead = lead;
      }
      this.#wins[c] /= 2;
      this.#losses[c] /= 2;
    }
    return best;
  }

  /** The challenger furthest past the long boundary, in standard errors (or the current one). */
  #longLeader(): number {
    let best = this.#current;
    let bestZ = 0;
    for (let c = 0; c < this.#longWins.length; c++) {
      const n = this.#longWins[c] + this.#longLosses[c];
      const lead = this.#longWins[c] - this.#longLosses[c];
      if (lead > longBoundary(n) && lead / Math.sqrt(n) > bestZ) {
        best = c;
        bestZ = lead / Math.sqrt(n);
      }
    }
    return best;
  }
}
