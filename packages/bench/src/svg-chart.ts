/**
 * A small, dependency-free SVG chart for benchmark results: one or more named series over shared
 * x categories, drawn as lines (a trend over a numeric parameter) or grouped bars (a comparison),
 * with axes, ticks, a legend and a title. The output is a standalone SVG document.
 */
import type { Spread } from './spread.ts';

/** One named series: y values, one per x category (NaN = no point). */
export interface ChartSeries {
  readonly name: string;
  readonly values: readonly number[];
  /** The spread of each value over repetitions, one per x (drawn as error bars). */
  readonly spreads?: readonly (Spread | undefined)[];
}

/** What to draw. */
export interface ChartSpec {
  readonly title: string;
  /** The figure the chart exists to show (e.g. `store 0.86× the write baseline`), printed on it. */
  readonly headline?: string;
  /** `line` joins each series' points; `bar` groups one bar per series at each x. */
  readonly kind: 'line' | 'bar';
  /** x categories, in display order (numbers are printed as given). */
  readonly x: readonly (string | number)[];
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  /** y axis range; defaults to 0 .. a rounded-up maximum of the data. */
  readonly yMin?: number;
  readonly yMax?: number;
  readonly width?: number;
  readonly height?: number;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const MARGIN = { top: 40, left: 70 };
/** Rough width of one character at font size 12, for laying out labels without a text engine. */
const CHAR_W = 7;
const Y_TICKS = 5;

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A "nice" step (1, 2 or 5 × 10^k) so that about `count` steps cover `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / magnitude;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * magnitude;
}

function formatTick(v: number): string {
  return Number(v.toPrecision(6)).toString();
}

/** Renders `spec` as an SVG document. */
export function renderChart(spec: ChartSpec): string {
  // Room for the legend's longest name on the right; long x labels are slanted and get room below.
  const right = 40 + CHAR_W * Math.max(8, ...spec.series.map((s) => s.name.length));
  const longestX = Math.max(1, ...spec.x.map((l) => String(l).length));
  const width = spec.width ?? Math.max(720, MARGIN.left + right + spec.x.length * 56);
  const slant = (width - MARGIN.left - right) / Math.max(1, spec.x.length) < CHAR_W * longestX + 8;
  const bottom = slant ? 44 + CHAR_W * 0.72 * longestX : 50;
  const height = spec.height ?? 420 + (slant ? bottom - 50 : 0);
  const plotW = width - MARGIN.left - right;
  const plotH = height - MARGIN.top - bottom;
  const finite = spec.series.flatMap((s) => s.values.filter(Number.isFinite));
  const yMin = spec.yMin ?? 0;
  const dataMax = finite.length > 0 ? Math.max(...finite) : 1;
  const step = niceStep(Math.max((spec.yMax ?? dataMax) - yMin, Number.EPSILON), Y_TICKS);
  const yMax = spec.yMax ?? yMin + Math.max(1, Math.ceil((dataMax - yMin) / step)) * step;
  const band = plotW / Math.max(1, spec.x.length);
  const xAt = (i: number): number => MARGIN.left + band * (i + 0.5);
  const yAt = (v: number): number => MARGIN.top + plotH * (1 - (v - yMin) / (yMax - yMin));

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`,
  ];
  for (let v = yMin; v <= yMax + step / 1e6; v += step) {
    const y = yAt(v).toFixed(1);
    out.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(v)}</text>`);
  }
  spec.x.forEach((label, i) => {
    const x = xAt(i).toFixed(1);
    const y = MARGIN.top + plotH + 18;
    out.push(slant
      ? `<text transform="translate(${x} ${y - 6}) rotate(-40)" text-anchor="end">${escapeXml(String(label))}</text>`
      : `<text x="${x}" y="${y}" text-anchor="middle">${escapeXml(String(label))}</text>`);
  });
  out.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="black"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="black"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`,
  );

  const barW = (band * 0.8) / Math.max(1, spec.series.length);
  spec.series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length];
    const points = s.values.map((v, i) => [i, v] as const).filter(([, v]) => Number.isFinite(v));
    if (spec.kind === 'line') {
      const path = points.map(([i, v]) => `${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}`).join(' ');
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${path}"/>`);
      for (const [i, v] of points) out.push(`<circle cx="${xAt(i).toFixed(1)}" cy="${yAt(v).toFixed(1)}" r="3.5" fill="${color}"/>`);
    } else {
      for (const [i, v] of points) {
        const x = xAt(i) - (band * 0.8) / 2 + k * barW;
        const top = yAt(Math.max(v, yMin));
        out.push(`<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${(yAt(yMin) - top).toFixed(1)}" fill="${color}"/>`);
      }
    }
    const ly = MARGIN.top + 10 + k * 20;
    const lx = MARGIN.left + plotW + 16;
    out.push(`<rect x="${lx}" y="${ly - 6}" width="14" height="12" fill="${color}"/>`);
    out.push(`<text x="${lx + 20}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Renders several charts side by side in one SVG document (one figure, several panels). */
export function renderPanels(specs: readonly ChartSpec[]): string {
  const panels = specs.map((spec) => {
    const svg = renderChart(spec);
    const [, w, h] = /width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"/.exec(svg) ?? [];
    return { svg, width: Number(w), height: Number(h) };
  });
  const width = panels.reduce((sum, p) => sum + p.width, 0);
  const height = Math.max(...panels.map((p) => p.height));
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`];
  let x = 0;
  for (const p of panels) {
    out.push(`<g transform="translate(${x} 0)">`, p.svg.trimEnd(), '</g>');
    x += p.width;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
