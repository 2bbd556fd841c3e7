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
 * - Long: the counts add up, never halved, while the challenger stays ahead; at a check where it
 *   is not ahead (a reversal) they start afresh, so a lead is judged on the stretch where it held,
 *   not diluted by an earlier phase where the challenger trailed. A lead of a few thousandths of
 *   hit ratio is far inside the short horizon's noise at every check, yet it is real and worth
 *   following when it lasts. The long counts are judged against Robbins' normal-mixture boundary
 *   (Robbins 1970), a sequential test valid at every check at once: under no true lead, the sum of
 *   one stretch crosses it with probability at most {@link LONG_ALPHA}, however long the stretch,
 *   where a fixed number of standard errors would be crossed by noise alone sooner or later. Like
 *   the short horizon it must be crossed at {@link SWITCH_CHECKS} consecutive checks: a burst won
 *   in one check is no lead. (Most stretches under noise end within a check or two, far inside
 *   that bound: over 20 000 checks of three equal candidates, at 5 to 1 000 discordant references
 *   per check, the long horizon added 2 to 5 switches to the short one's 20 to 29.)
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
 * Robbins' boundary for a sum of `n` ±1 steps, mixed at `scale` steps: under fair steps it is
 * crossed with probability at most {@link LONG_ALPHA} at any n, and it is tightest (nearest a
 * fixed-size test) for sums of a few times `scale` steps.
 */
function longBoundary(n: number, scale: number): number {
  return Math.sqrt((n + scale) * (Math.log(1 + n / scale) + 2 * Math.log(1 / LONG_ALPHA)));
}

/** Which of `candidates` strategies to follow, judged on their paired sampled outcomes. */
export class ChoiceRule {
  #current: number;
  /** Consecutive checks at which a challenger led on the short counts, and on the long ones. */
  #leads = 0;
  #longLeads = 0;
  /** Per candidate, short horizon: references it hit and the current one missed (halved at each check). */
  readonly #wins: number[];
  /** Per candidate, short horizon: references the current one hit and it missed. */
  readonly #losses: number[];
  /** Per candidate, long horizon: its wins over its stretch (since the last switch or reversal). */
  readonly #longWins: number[];
  /** Per candidate, long horizon: its losses over its stretch. */
  readonly #longLosses: number[];
  /**
   * Per candidate, the long boundary's mixing scale: the discordant references of the stretch's
   * first check (0 before it), so that it is tightest on stretches of a few checks, where the
   * short horizon's memory ends. It is a count of references, not of wins, so choosing it from the
   * stretch itself leaves the boundary valid: under no lead, their signs are fair coins whatever
   * their number.
   */
  readonly #scales: number[];

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
    this.#scales = new Array<number>(candidates).fill(0);
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
    const long = this.#longLeader();
    this.#leads = short === this.#current ? 0 : this.#leads + 1;
    this.#longLeads = long === this.#current ? 0 : this.#longLeads + 1;
    const next = this.#leads >= SWITCH_CHECKS ? short : this.#longLeads >= SWITCH_CHECKS ? long : this.#current;
    if (next === this.#current) return false;
    this.#current = next;
    this.#leads = 0;
    this.#longLeads = 0;
    for (const counts of [this.#wins, this.#losses, this.#longWins, this.#longLosses, this.#scales]) counts.fill(0);
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

  /**
   * The challenger furthest past the long boundary, in standard errors (or the current one); a
   * challenger not ahead starts its long counts afresh.
   */
  #longLeader(): number {
    let best = this.#current;
    let bestZ = 0;
    for (let c = 0; c < this.#longWins.length; c++) {
      const n = this.#longWins[c] + this.#longLosses[c];
      const lead = this.#longWins[c] - this.#longLosses[c];
      if (lead <= 0) {
        this.#longWins[c] = 0;
        this.#longLosses[c] = 0;
        this.#scales[c] = 0;
        continue;
      }
      if (this.#scales[c] === 0) this.#scales[c] = n;
      if (lead > longBoundary(n, this.#scales[c]) && lead / Math.sqrt(n) > bestZ) {
        best = c;
        bestZ = lead / Math.sqrt(n);
      }
    }
    return best;
  }
}
