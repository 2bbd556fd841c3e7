// Benchmark charts as saveChart draws them: vega-lite compiled and rendered by vega in this
// process (no canvas, no network), read back from the SVG and the two JSON files beside it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KvtierError } from '@kvtier/core';
import { MAX_SERIES, type ChartSpec } from '../src/charts/chart-spec.ts';
import { renderSvg } from '../src/charts/render.ts';
import { PALETTE, toVegaLite } from '../src/charts/vega-lite.ts';

const RESULTS = mkdtempSync(join(tmpdir(), 'kvtier-charts-test-'));
// results.ts reads the directory when it is loaded.
process.env.KVTIER_BENCH_RESULTS = RESULTS;
const { saveChart } = await import('../src/results.ts');

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
const spread = (median: number, d: number) => ({ min: median - d, median, max: median + d });

const SIZES: ChartSpec = {
  title: 'store GB/s <by> chunk size',
  headline: 'kernel 1.8× copy at 4 MiB & up',
  kind: 'line',
  x: [4, 16, 64, 256, 1024, 4096, 16384],
  xLabel: 'chunk size (KiB)',
  yLabel: 'GB/s',
  series: [
    { name: 'copy', values: [1, 2, 3, 4, 5, 6, 7], spreads: [spread(1, 0.5), undefined, spread(3, 1), spread(4, 1), undefined, spread(6, 2), spread(7, 1)] },
    { name: 'kernel', values: [2, 3, NaN, 5, 6, 7, 8] },
  ],
};

const BARS: ChartSpec = {
  title: 'load GB/s',
  kind: 'bar',
  x: ['1 MiB', '4 MiB', '16 MiB'],
  xLabel: 'object size',
  yLabel: 'GB/s',
  series: [
    { name: 'engine', values: [1, 2, 3], spreads: [spread(1, 0.2), spread(2, 0.4), spread(3, 0.1)] },
    { name: 'fs.promises', values: [1.5, NaN, 2.5] },
  ],
};

async function render(specs: readonly ChartSpec[], footnote = 'machine · commit'): Promise<string> {
  const { svg, warnings } = await renderSvg(toVegaLite(specs, footnote));
  assert.equal(warnings, [], 'vega-lite and vega accept the spec without a warning');
  return svg;
}

/** The SVG elements of the marks with this `aria-roledescription` (point, bar, rule mark…). */
function marks(svg: string, role: string): string[] {
  return svg.match(new RegExp(`<[a-z]+ [^>]*aria-roledescription="${role}"[^>]*>`, 'g')) ?? [];
}

/** The x of each element's `translate(x,y)`. */
const xsOf = (elements: string[]) => elements.map((e) => Number(/translate\(([-\d.]+),/.exec(e)![1]));

/** The text of every `<text>` element. */
const texts = (svg: string) => [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

test('a standalone SVG with the title, headline, axis titles, legend and footnote, text escaped', async () => {
  const svg = await render([SIZES], 'AMD EPYC (2 cores), Linux · commit abc1234');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\s*$/);
  const t = texts(svg);
  for (const text of ['store GB/s &lt;by&gt; chunk size', 'kernel 1.8× copy at 4 MiB &amp; up', 'chunk size (KiB)', 'GB/s', 'copy', 'kernel', 'AMD EPYC (2 cores), Linux · commit abc1234']) {
    assert.ok(t.includes(text), `text '${text}' in ${JSON.stringify(t)}`);
  }
  assert.not.ok(svg.includes('<by>'));
  assert.not.ok(svg.includes('NaN'));
});

test('numeric x is a quantitative axis: logarithmic over sizes 4 KiB … 16 MiB, linear over a narrow range', async () => {
  const logXs = xsOf(marks(await render([SIZES]), 'point').filter((p) => p.includes('series: copy')));
  assert.is(logXs.length, 7);
  const steps = logXs.slice(1).map((x, i) => x - logXs[i]);
  for (const s of steps) assert.ok(Math.abs(s - steps[0]) < 0.5, `each ×4 is the same distance on a log axis: ${steps}`);
  const vl = toVegaLite([SIZES], '') as any;
  assert.is(vl.vconcat[0].layer[0].encoding.x.type, 'quantitative');
  assert.is(vl.vconcat[0].layer[0].encoding.x.scale.type, 'log');

  const narrow = { ...SIZES, x: [100, 200, 400, 500, 600, 700, 800] };
  const linXs = xsOf(marks(await render([narrow]), 'point').filter((p) => p.includes('series: copy')));
  const unit = (linXs[1] - linXs[0]) / 100;
  narrow.x.forEach((x, i) => assert.ok(Math.abs(linXs[i] - linXs[0] - unit * (x - 100)) < 0.5, `x ${x} sits in proportion: ${linXs}`));
});

test('yLog: values ×10 apart sit equally far apart, and a value at or below 0 is refused', async () => {
  const ratios: ChartSpec = { ...BARS, kind: 'line', yLog: true, series: [{ name: 'speed-up', values: [1, 10, 100] }] };
  const ys = marks(await render([ratios]), 'point').map((p) => Number(/translate\([-\d.]+,([-\d.]+)\)/.exec(p)![1]));
  assert.ok(Math.abs(ys[0] - ys[1] - (ys[1] - ys[2])) < 0.5 && ys[0] > ys[1], `y positions ${ys}`);
  const zero = { ...ratios, series: [{ name: 'speed-up', values: [1, 2, 3], spreads: [undefined, spread(2, 2), undefined] }] };
  try {
    await saveChart('zero', zero);
    assert.unreachable('a 0 on a log axis was accepted');
  } catch (err) {
    assert.is((err as Error).message, "chart 'load GB/s': series 'speed-up' has a value or spread at or below 0 at x 4 MiB, which a log y axis cannot show");
  }
});

test('one error bar per point with a spread, from its min to its max', async () => {
  const lines = await render([SIZES]);
  assert.is(marks(lines, 'rule mark').length, 5, 'the five spreads of copy');
  const bars = await render([BARS]);
  const rules = marks(bars, 'rule mark');
  assert.is(rules.length, 3);
  // Each rule spans its spread: y2 = -(max - min) × pixels per unit, the same scale for all three.
  const lengths = rules.map((r) => -Number(/y2="([-\d.]+)"/.exec(r)![1]));
  const perUnit = lengths[0] / 0.4;
  assert.ok(Math.abs(lengths[1] - 0.8 * perUnit) < 0.5 && Math.abs(lengths[2] - 0.2 * perUnit) < 0.5, `rule lengths ${lengths}`);
});

test('bars: one per finite value, grouped by x, each series its own colour from the colour-blind-safe palette', async () => {
  const svg = await render([BARS]);
  const bars = marks(svg, 'bar');
  assert.is(bars.length, 5, 'a NaN value draws no bar');
  const fills = (series: string) => new Set(bars.filter((b) => b.includes(`series: ${series}`)).map((b) => /fill="([^"]+)"/.exec(b)![1]));
  assert.equal([...fills('engine')], [PALETTE[0]]);
  assert.equal([...fills('fs.promises')], [PALETTE[1]]);
  assert.is(new Set(PALETTE).size, MAX_SERIES, 'a colour for each series a chart may hold, none twice');
});

test('panels side by side: each keeps its title and legend', async () => {
  const svg = await render([SIZES, BARS]);
  const t = texts(svg);
  for (const text of ['store GB/s &lt;by&gt; chunk size', 'load GB/s', 'copy', 'engine', 'fs.promises']) assert.ok(t.includes(text), text);
  assert.is(marks(svg, 'bar').length, 5);
  assert.is(marks(svg, 'point').length, 13);
  assert.ok(Array.isArray((toVegaLite([SIZES, BARS], '') as any).hconcat));
});

test('saveChart writes the SVG, its data and its vega-lite spec, footed with this machine and commit', async () => {
  const path = await saveChart('sizes', SIZES);
  assert.is(path, join(RESULTS, 'sizes.svg'));
  const data = JSON.parse(readFileSync(join(RESULTS, 'sizes.json'), 'utf8'));
  assert.is(data.name, 'sizes');
  assert.equal(data.charts[0].x, SIZES.x);
  assert.equal(data.charts[0].series[0].values, SIZES.series[0].values);
  assert.equal(data.charts[0].series[0].spreads[2], spread(3, 1));
  assert.is(data.charts[0].series[1].values[2], null, 'NaN is written as null');
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR, encoding: 'utf8' }).trim();
  assert.is(data.provenance.code, `commit ${commit}`);
  assert.ok(data.provenance.cores >= 1 && data.provenance.cpu.length > 0 && data.provenance.os.length > 0, JSON.stringify(data.provenance));
  const svg = readFileSync(path, 'utf8');
  assert.ok(texts(svg).some((t) => t.endsWith(`· commit ${commit}`) && t.startsWith(data.provenance.cpu)), 'the footnote');
  const vl = JSON.parse(readFileSync(join(RESULTS, 'sizes.vl.json'), 'utf8'));
  assert.is((await renderSvg(vl)).svg, svg, 'the .vl.json draws the same SVG');
  const rows = vl.vconcat[0].data.values;
  assert.is(rows.length, 13, 'one row per finite point');
  assert.equal(rows[0], { series: 'copy', x: 4, value: 1, min: 0.5, max: 1.5 });
});

test('without git the footnote names the package version, and the chart is still drawn', () => {
  const script = "const { provenance, footnote } = await import('./src/charts/provenance.ts'); process.stdout.write(footnote(provenance()));";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: BENCH_DIR, encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' }, timeout: 60_000,
  });
  assert.is(r.status, 0, r.stderr);
  const { version } = JSON.parse(readFileSync(join(BENCH_DIR, 'package.json'), 'utf8'));
  assert.match(r.stdout, new RegExp(`cores?\\), .* · @kvtier/bench ${version.replaceAll('.', '\\.')}$`));
});

test('a spec that cannot be drawn is refused, naming the chart and the field, and nothing is written', async () => {
  const refused = async (spec: ChartSpec, message: string) => {
    try {
      await saveChart('refused', [BARS, spec]);
      assert.unreachable('saveChart accepted a bad spec');
    } catch (err) {
      assert.instance(err, KvtierError);
      assert.is((err as KvtierError).code, 'KVT_ERR_INVALID_ARGUMENT');
      assert.is((err as Error).message, message);
    }
  };
  await refused({ ...BARS, series: [{ name: 'a', values: [1, 2] }] }, "chart 'load GB/s': series 'a' has 2 values for 3 x values");
  await refused({ ...BARS, series: [{ name: 'a', values: [1, 2, 3], spreads: [undefined] }] }, "chart 'load GB/s': series 'a' has 1 spreads for 3 x values");
  await refused({ ...BARS, series: [BARS.series[0], BARS.series[0]] }, "chart 'load GB/s': two series are named 'engine'");
  await refused({ ...BARS, series: [] }, "chart 'load GB/s': there is no series");
  await refused({ ...BARS, x: [], series: [{ name: 'a', values: [] }] }, "chart 'load GB/s': x has no values");
  const nine = Array.from({ length: 9 }, (_, i) => ({ name: `s${i}`, values: [1, 2, 3] }));
  await refused({ ...BARS, series: nine }, "chart 'load GB/s': 9 series are more than the 8 colours of the palette");
  await refused({ ...BARS, yMin: 2, yMax: 1 }, "chart 'load GB/s': yMin (2) must be below yMax (1)");
  await refused({ ...BARS, width: 0.5 }, "chart 'load GB/s': width must be a positive integer of pixels, got 0.5");
  assert.not.ok(existsSync(join(RESULTS, 'refused.svg')) || existsSync(join(RESULTS, 'refused.json')));
});

test.after(() => rmSync(RESULTS, { recursive: true, force: true }));

test.run();
