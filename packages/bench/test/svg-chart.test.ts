import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderChart } from '../src/svg-chart.ts';

const SPEC = {
  title: 'hit ratio <by> capacity',
  kind: 'line' as const,
  x: [2000, 5000, 10000],
  xLabel: 'capacity',
  yLabel: 'hit ratio',
  series: [{ name: 'lru', values: [0.1, 0.2, 0.4] }, { name: 'arc & co', values: [0.15, 0.3, NaN] }],
};

test('a standalone SVG with the title, axis labels, every x category and a legend entry per series', () => {
  const svg = renderChart(SPEC);
  assert.match(svg, /^<\?xml|^<svg/);
  assert.match(svg, /<\/svg>\s*$/);
  for (const text of ['capacity', 'hit ratio', '2000', '5000', '10000', 'lru']) assert.ok(svg.includes(text), text);
});

test('text is escaped, so titles and names cannot break the document', () => {
  const svg = renderChart(SPEC);
  assert.not.ok(svg.includes('<by>'));
  assert.not.ok(svg.includes('arc & co'));
  assert.ok(svg.includes('arc &#38; co'));
});

test('a NaN value leaves a gap instead of a point at NaN', () => {
  assert.not.ok(renderChart(SPEC).includes('NaN'));
});

test('bars: one rect per series and category', () => {
  const svg = renderChart({ ...SPEC, kind: 'bar', series: [{ name: 'a', values: [1, 2, 3] }, { name: 'b', values: [3, 2, 1] }] });
  const bars = svg.match(/<rect [^>]*class="bar"/g) ?? svg.match(/<rect /g) ?? [];
  assert.ok(bars.length >= 6, `${bars.length} rects`);
});

test.run();
