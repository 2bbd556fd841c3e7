/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), for the tests that
 * scrape `/metrics`: where a lenient scraper would guess, this throws naming the line. It checks
 * names, label syntax and escapes, values, one `# HELP` and one `# TYPE` per family before its
 * samples, every family's samples together, no series twice, counters not negative, and each
 * histogram's buckets (`le` on each, cumulative, `+Inf` last and equal to `_count`).
 */

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family: its declared type and help, and its samples in order. */
export interface Family {
  readonly type: string;
  readonly help: string | undefined;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Readonly<Record<string, readonly string[]>> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] };

function parseValue(text: string, where: string): number {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: '${text}' is not a number`);
  return Number(text);
}

/** Parses `{a="x",b="y"}` starting at `line[at] === '{'`; returns the labels and the index after `}`. */
function parseLabels(line: string, at: number, where: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at + 1;
  while (line[i] !== '}') {
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: a label without '='`);
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name '${name}'`);
    if (name in labels) throw new Error(`${where}: label '${name}' twice`);
    if (line[eq + 1] !== '"') throw new Error(`${where}: the value of label '${name}' is not quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] !== '\\') { value += line[j]; continue; }
      const escaped = line[++j];
      if (escaped === 'n') value += '\n';
      else if (escaped === '\\' || escaped === '"') value += escaped;
      else throw new Error(`${where}: bad escape '\\${escaped}' in label '${name}'`);
    }
    if (j >= line.length) throw new Error(`${where}: unterminated value of label '${name}'`);
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`${where}: expected ',' or '}' after label '${name}'`);
  }
  return { labels, end: i + 1 };
}

function familyOf(families: ReadonlyMap<string, Family>, sample: string): string | undefined {
  if (families.has(sample)) return sample;
  for (const [name, f] of families) if ((SUFFIXES[f.type] ?? []).some((s) => sample === name + s)) return name;
  return undefined;
}

function checkHistogram(name: string, f: Family): void {
  const series = new Map<string, Sample[]>();
  for (const s of f.samples.filter((x) => x.name === `${name}_bucket`)) {
    if (!('le' in s.labels)) throw new Error(`${name}: a bucket without 'le'`);
    const { le: _, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  for (const [key, buckets] of series) {
    const last = buckets[buckets.length - 1];
    if (last.labels.le !== '+Inf') throw new Error(`${name}${key}: the last bucket is not le="+Inf"`);
    for (let i = 1; i < buckets.length; i++) {
      if (parseValue(buckets[i].labels.le, name) <= parseValue(buckets[i - 1].labels.le, name)) throw new Error(`${name}${key}: buckets not in increasing le order`);
      if (buckets[i].value < buckets[i - 1].value) throw new Error(`${name}${key}: bucket counts are not cumulative`);
    }
    const count = f.samples.find((s) => s.name === `${name}_count` && JSON.stringify(s.labels) === key);
    if (count === undefined || count.value !== last.value) throw new Error(`${name}${key}: _count does not equal the +Inf bucket`);
  }
}

/** Parses `text` strictly; throws an Error naming the offending line. */
export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition does not end with a newline');
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  let current: string | undefined;
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, n) => {
    const where = `line ${n + 1} '${line}'`;
    if (line.length === 0) throw new Error(`${where}: empty line`);
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (meta !== null) {
      const [, kind, name, rest = ''] = meta;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
      let f = families.get(name);
      if (f !== undefined && current !== name) throw new Error(`${where}: family ${name} appears again after others`);
      if (f !== undefined && f.samples.length > 0) throw new Error(`${where}: # ${kind} after the family's samples`);
      if (f === undefined) families.set(name, (f = { type: 'untyped', help: undefined, samples: [] }));
      current = name;
      const mutable = f as { type: string; help: string | undefined };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type '${rest}'`);
        if (seen.has(`TYPE ${name}`)) throw new Error(`${where}: a second # TYPE`);
        seen.add(`TYPE ${name}`);
        mutable.type = rest;
      } else {
        if (seen.has(`HELP ${name}`)) throw new Error(`${where}: a second # HELP`);
        seen.add(`HELP ${name}`);
        mutable.help = rest;
      }
      return;
    }
    if (line.startsWith('#')) return;
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`${where}: no metric name`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
    let labels: Record<string, string> = {};
    let at = nameEnd;
    if (line[at] === '{') ({ labels, end: at } = parseLabels(line, at, where));
    if (line[at] !== ' ') throw new Error(`${where}: expected a space before the value`);
    const fields = line.slice(at + 1).split(' ');
    if (fields.length > 2 || fields[0] === '') throw new Error(`${where}: expected a value and at most a timestamp`);
    if (fields.length === 2 && !/^-?\d+$/.test(fields[1])) throw new Error(`${where}: bad timestamp`);
    const value = parseValue(fields[0], where);
    let familyName = familyOf(families, name);
    if (familyName === undefined) {
      if (families.has(name)) throw new Error(`${where}: family ${name} appears again after others`);
      families.set(name, { type: 'untyped', help: undefined, samples: [] });
      familyName = name;
      current = name;
    }
    if (familyName !== current) throw new Error(`${where}: a sample of ${familyName} outside its family's block`);
    const f = families.get(familyName)!;
    if (f.type === 'counter' && !(value >= 0)) throw new Error(`${where}: a counter must be a non-negative number`);
    const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(series)) throw new Error(`${where}: the same series twice`);
    seen.add(series);
    f.samples.push({ name, labels, value });
  });
  for (const [name, f] of families) if (f.type === 'histogram') checkHistogram(name, f);
  return families;
}

/** The value of the one sample `name` with exactly `labels`; throws when there is none. */
export function sampleValue(families: ReadonlyMap<string, Family>, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const f of families.values()) {
    const s = f.samples.find((x) => x.name === name && JSON.stringify(Object.entries(x.labels).sort()) === want);
    if (s !== undefined) return s.value;
  }
  throw new Error(`no sample ${name}${want}`);
}
