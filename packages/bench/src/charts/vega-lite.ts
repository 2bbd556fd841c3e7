/**
 * A {@link ChartSpec} as a vega-lite specification: one data row per point, a quantitative x axis
 * where x values are numbers (logarithmic over a decade or more), min–max error bars where a
 * point has a spread, a colour-blind-safe palette, the headline as subtitle, panels side by side
 * (`hconcat`) and the provenance footnote under them.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ChartSpec } from './chart-spec.ts';

/**
 * Okabe & Ito's palette, distinguishable with the common colour-vision deficiencies; yellow last,
 * since it is the faintest on white. One colour per series: `MAX_SERIES` of them.
 */
export const PALETTE: readonly string[] = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000', '#F0E442'];

const DEFAULT_HEIGHT = 300;
/** Space between the plot and its legend, and the longest legend label before it is cut. */
const LEGEND_GAP_PX = 16;
const LEGEND_LABEL_PX = 220;
const DEFAULT_QUANTITATIVE_WIDTH = 480;
/** Pixels per bar, and the narrowest plot area of a band axis. */
const BAR_STEP = 24;
const MIN_BAND_WIDTH = 240;
/** A numeric x axis is logarithmic when its largest value is this many times its smallest or more. */
const LOG_FROM_RATIO = 10;
/** Rough width of one character of an axis label, to slant labels wider than their band. */
const LABEL_CHAR_PX = 6.5;

/** One point of one series: the row vega-lite draws (and the `.vl.json` holds). */
interface Row {
  readonly series: string;
  readonly x: string | number;
  readonly value: number;
  readonly min?: number;
  readonly max?: number;
}

function rowsOf(spec: ChartSpec): Row[] {
  const rows: Row[] = [];
  for (const s of spec.series) {
    s.values.forEach((value, i) => {
      if (!Number.isFinite(value)) return;
      const spread = s.spreads?.[i];
      const bars = spread !== undefined && Number.isFinite(spread.min) && Number.isFinite(spread.max);
      rows.push({ series: s.name, x: spec.x[i], value, ...(bars ? { min: spread.min, max: spread.max } : {}) });
    });
  }
  return rows;
}

/** Whether `spec` gets a quantitative x axis, and whether it is logarithmic. */
function xScale(spec: ChartSpec): { quantitative: boolean; log: boolean } {
  const numeric = spec.kind === 'line' && spec.x.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (!numeric) return { quantitative: false, log: false };
  const xs = spec.x as readonly number[];
  const lo = Math.min(...xs);
  return { quantitative: true, log: lo > 0 && Math.max(...xs) / lo >= LOG_FROM_RATIO };
}

function xEncoding(spec: ChartSpec, width: number) {
  const { quantitative, log } = xScale(spec);
  if (quantitative) {
    // A log axis is labelled at the measured values (sizes, capacities), not at powers of ten.
    const axis = log ? { scale: { type: 'log', nice: false, padding: 14 }, axis: { values: spec.x.slice(), grid: true } } : { scale: { zero: false } };
    return { field: 'x', type: 'quantitative', title: spec.xLabel, ...axis } as const;
  }
  const slant = Math.max(...spec.x.map((v) => String(v).length)) * LABEL_CHAR_PX > width / spec.x.length;
  return { field: 'x', type: 'ordinal', title: spec.xLabel, sort: spec.x.slice(), axis: { labelAngle: slant ? -35 : 0 } } as const;
}

function yScale(spec: ChartSpec) {
  if (spec.yMin === undefined && spec.yMax === undefined && spec.yLog !== true) return {};
  return {
    scale: {
      ...(spec.yLog === true ? { type: 'log' } : {}),
      ...(spec.yMin === undefined ? {} : { domainMin: spec.yMin }),
      ...(spec.yMax === undefined ? {} : { domainMax: spec.yMax }),
    },
  };
}

/** One chart as a vega-lite unit (layered: the marks, then the error bars), without the footnote. */
function unitOf(spec: ChartSpec) {
  const names = spec.series.map((s) => s.name);
  const rows = rowsOf(spec);
  const { quantitative } = xScale(spec);
  const width = spec.width ?? (quantitative ? DEFAULT_QUANTITATIVE_WIDTH : Math.max(MIN_BAND_WIDTH, BAR_STEP * spec.x.length * (spec.kind === 'bar' ? names.length + 1 : 2)));
  const x = xEncoding(spec, width);
  // The legend sits just right of the plot, placed by hand: `orient: 'right'` places it past the
  // title, so a long headline pushed it far from its plot. One series needs no legend.
  const legend = names.length === 1 ? null : { orient: 'none', legendX: width + LEGEND_GAP_PX, legendY: 0, title: null };
  const color = { field: 'series', type: 'nominal', legend, sort: names, scale: { domain: names, range: PALETTE.slice(0, names.length) } } as const;
  const offset = spec.kind === 'bar' ? { xOffset: { field: 'series', sort: names } } : {};
  const y = { field: 'value', type: 'quantitative', title: spec.yLabel, ...yScale(spec) } as const;
  const main = spec.kind === 'bar'
    ? { mark: { type: 'bar' }, encoding: { x, y, color, ...offset } }
    // Point shapes differ per series too, so lines stay apart where colours are hard to tell.
    : { mark: { type: 'line', point: { size: 45 } }, encoding: { x, y, color, shape: { field: 'series', type: 'nominal', legend, sort: names } } };
  const layers: object[] = [main];
  if (rows.some((r) => r.min !== undefined)) {
    layers.push({
      // Rows without a spread draw no rule: vega-lite drops rows whose y is missing. (No `name`:
      // two panels with one name share vega-lite's components, and one panel's rows reach the other's scale.)
      mark: { type: 'rule', strokeWidth: 1.5 },
      encoding: {
        x, ...offset,
        y: { field: 'min', type: 'quantitative' },
        y2: { field: 'max' },
        ...(spec.kind === 'bar' ? { color: { value: '#222' } } : { color }),
      },
    });
  }
  return {
    title: { text: spec.title, ...(spec.headline === undefined ? {} : { subtitle: spec.headline }) },
    width,
    height: spec.height ?? DEFAULT_HEIGHT,
    data: { values: rows },
    layer: layers,
  };
}

/**
 * The vega-lite specification of `specs` (one chart, or panels side by side) with `footnote` under
 * them. Each panel keeps its own scales and legend.
 */
export function toVegaLite(specs: readonly ChartSpec[], footnote: string): TopLevelSpec {
  // The footnote is the bottom title of a concat around the chart(s), which keeps each chart's
  // own title on top; a text view in a vconcat instead pushes the legends away from their plots.
  const layout = specs.length === 1
    ? { vconcat: [unitOf(specs[0])] }
    : { hconcat: specs.map(unitOf), resolve: { scale: { color: 'independent', shape: 'independent' }, legend: { color: 'independent', shape: 'independent' } } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 12,
    title: { text: footnote, orient: 'bottom', anchor: 'start', offset: 16, fontSize: 10, fontWeight: 'normal', color: '#555' },
    config: { font: 'sans-serif', title: { anchor: 'start', fontSize: 14, subtitleFontSize: 12, subtitleColor: '#333' }, legend: { labelLimit: LEGEND_LABEL_PX } },
    ...layout,
  } as TopLevelSpec;
}
