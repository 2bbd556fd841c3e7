// cache.metrics() is a Prometheus text exposition strict parsers accept: each family declared once
// (one # HELP, one # TYPE) with all its samples right after, engine and adapter host families alike.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeKeys, prefetch, slice, storeSettled, withCache, writeKeys } from './engine-helpers.ts';

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const VALUE = '(?:[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?|[-+]Inf|NaN)';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (${VALUE})(?: -?\\d+)?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"(?:,|$)/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

interface Family { type: string | undefined; help: boolean; samples: number }

function parseLabels(text: string): [string, string][] | null {
  const out: [string, string][] = [];
  let rest = text;
  while (rest.length > 0) {
    const m = LABEL.exec(rest);
    if (m === null) return null;
    out.push([m[1], m[2]]);
    rest = rest.slice(m[0].length);
  }
  return out;
}

/** Every way `text` breaks the text format as strict parsers read it; empty when valid. */
function checkExposition(text: string): string[] {
  const problems: string[] = [];
  const families = new Map<string, Family>();
  let current: string | undefined;
  /** Histogram series by family and labels (without `le`): buckets in order and the _count. */
  const series = new Map<string, { les: number[]; counts: number[]; count: number | undefined }>();
  if (!text.endsWith('\n')) problems.push('the text does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  const enter = (name: string, line: number) => {
    if (name === current) return families.get(name)!;
    if (families.has(name)) problems.push(`line ${line}: ${name} appears again after other families`);
    current = name;
    const f: Family = families.get(name) ?? { type: undefined, help: false, samples: 0 };
    families.set(name, f);
    return f;
  };
  lines.forEach((line, i) => {
    const at = i + 1;
    const meta = new RegExp(`^# (HELP|TYPE) (${NAME})(?: (.*))?$`).exec(line);
    if (meta !== null) {
      const f = enter(meta[2], at);
      if (f.samples > 0) problems.push(`line ${at}: # ${meta[1]} ${meta[2]} after its samples`);
      if (meta[1] === 'HELP') {
        if (f.help) problems.push(`line ${at}: second # HELP for ${meta[2]}`);
        f.help = true;
      } else {
        if (f.type !== undefined) problems.push(`line ${at}: second # TYPE for ${meta[2]}`);
        if (!TYPES.has(meta[3] ?? '')) problems.push(`line ${at}: bad type ${String(meta[3])}`);
        f.type = meta[3];
        if (meta[3] === 'counter' && !meta[2].endsWith('_total')) problems.push(`line ${at}: counter ${meta[2]} does not end in _total`);
      }
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE.exec(line);
    if (m === null) return problems.push(`line ${at}: not a sample: ${line}`);
    const labels = parseLabels(m[2] ?? '');
    if (labels === null) return problems.push(`line ${at}: bad labels: ${line}`);
    const name = m[1];
    const histogram = current !== undefined && families.get(current)!.type === 'histogram'
      && ['_bucket', '_sum', '_count'].some((s) => name === current + s);
    const familyName = histogram ? current! : name;
    const f = enter(familyName, at);
    if (f.type === undefined || !f.help) problems.push(`line ${at}: sample of ${name} without its # HELP and # TYPE before it`);
    f.samples++;
    if (!histogram) return;
    const le = labels.find(([k]) => k === 'le');
    const key = `${familyName}{${labels.filter(([k]) => k !== 'le').map(([k, v]) => `${k}=${v}`).join(',')}}`;
    const s = series.get(key) ?? { les: [], counts: [], count: undefined };
    series.set(key, s);
    if (name.endsWith('_bucket')) {
      if (le === undefined) return problems.push(`line ${at}: bucket without le`);
      s.les.push(le[1] === '+Inf' ? Infinity : Number(le[1]));
      s.counts.push(Number(m[3]));
    } else if (name.endsWith('_count')) s.count = Number(m[3]);
  });
  for (const [name, f] of families) if (f.type === undefined || !f.help) problems.push(`${name}: no # HELP or no # TYPE`);
  for (const [key, s] of series) {
    if (s.les.at(-1) !== Infinity) problems.push(`${key}: last bucket is not +Inf`);
    for (let i = 1; i < s.les.length; i++) {
      if (!(s.les[i] > s.les[i - 1])) problems.push(`${key}: buckets not ascending at ${s.les[i]}`);
      if (s.counts[i] < s.counts[i - 1]) problems.push(`${key}: bucket counts not cumulative at ${s.les[i]}`);
    }
    if (s.count !== s.counts.at(-1)) problems.push(`${key}: _count ${String(s.count)} is not the +Inf bucket ${String(s.counts.at(-1))}`);
  }
  return problems;
}

test('the checker refuses a family split in two and samples without declarations', () => {
  const text = '# HELP a_total A.\n# TYPE a_total counter\na_total 1\nb_total{x="1"} 2\na_total{y="2"} 3\n';
  const problems = checkExposition(text);
  assert.ok(problems.some((p) => p.includes('b_total: no # HELP')), problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('a_total appears again')), problems.join('\n'));
});

test('cache.metrics() with two adapter hosts (one failing lookups) passes the strict checker', () => withCache(async (cache) => {
  const keys = makeKeys(4);
  writeKeys(cache, slice(keys, 0, 2));
  await storeSettled(cache);
  await cache.flush({ timeoutMs: 10_000 });
  const count = await prefetch(cache, keys);
  cache.finishReadPrefetched(slice(keys, 0, count));
  const text = await cache.metrics();
  assert.equal(checkExposition(text), [], text);
  // Both hosts' samples are there, each family once.
  assert.is(text.split('\n').filter((l) => l.startsWith('# TYPE kvtier_l2_stores_total ')).length, 1);
  assert.match(text, /kvtier_l2_stores_total\{adapter="1",type="fault",result="ok"\} 2/);
  assert.match(text, /kvtier_l2_errors_total\{adapter="1",type="fault",op="lookup"\} 1/);
}, [{ type: 'mock' }, { type: 'fault', lookupErrorRate: 1, inner: { type: 'mock' } }]));

test.run();
