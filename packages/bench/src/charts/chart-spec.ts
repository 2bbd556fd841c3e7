/**
 * What a benchmark command asks to be drawn: named series over shared x values, as lines (a trend
 * over a parameter) or grouped bars (a comparison), with the spread of repeated runs and the one
 * figure the chart exists to show. {@link checkChartSpec} refuses a spec that cannot be drawn
 * truthfully (series of the wrong length, an empty chart) before anything is rendered.
 */
import { ErrorCode, KvtierError } from '@kvtier/core';
import type { Spread } from '../spread.ts';

/** Series one chart may hold: one colour of the renderer's palette each. */
export const MAX_SERIES = 8;

/** One named series: y values, one per x (NaN = no point). */
export interface ChartSeries {
  /** The legend entry; unique within its chart. */
  readonly name: string;
  /** One y value per x, in the order of {@link ChartSpec.x}. */
  readonly values: readonly number[];
  /** The spread of each value over repetitions, one per x (drawn as min–max error bars). */
  readonly spreads?: readonly (Spread | undefined)[];
}

/** What to draw. */
export interface ChartSpec {
  /** The question the chart answers, as its title. */
  readonly title: string;
  /** The figure the chart exists to show (e.g. `store 0.86× the write baseline`), its subtitle. */
  readonly headline?: string;
  /** `line` joins each series' points; `bar` groups one bar per series at each x. */
  readonly kind: 'line' | 'bar';
  /**
   * x values in display order. All numbers on a line chart: a quantitative axis (logarithmic when
   * the largest is 10× the smallest or more); otherwise one band per value, in this order.
   */
  readonly x: readonly (string | number)[];
  /** The x axis title. */
  readonly xLabel: string;
  /** The y axis title. */
  readonly yLabel: string;
  /** The series, in legend order. */
  readonly series: readonly ChartSeries[];
  /** A logarithmic y axis, for ratios that span decades (speed-ups); every value must be above 0. */
  readonly yLog?: boolean;
  /** Lower end of the y axis; defaults to 0 (or the data's minimum when it is below 0). */
  readonly yMin?: number;
  /** Upper end of the y axis; defaults to a rounded-up maximum of the data. */
  readonly yMax?: number;
  /**
   * Width of the plot area in pixels; defaults to 480 for a quantitative x, else 24 px per bar and
   * one bar's gap per x (240 at least).
   */
  readonly width?: number;
  /** Height of the plot area in pixels; defaults to 300. */
  readonly height?: number;
}

function fail(spec: ChartSpec, what: string): never {
  throw new KvtierError(ErrorCode.INVALID_ARGUMENT, `chart '${spec.title}': ${what}`);
}

function checkSize(spec: ChartSpec, field: 'width' | 'height'): void {
  const v = spec[field];
  if (v !== undefined && !(Number.isInteger(v) && v > 0)) fail(spec, `${field} must be a positive integer of pixels, got ${v}`);
}

/** Throws `KVT_ERR_INVALID_ARGUMENT`, naming the chart and the field, for a spec that cannot be drawn. */
export function checkChartSpec(spec: ChartSpec): void {
  if (spec.x.length === 0) fail(spec, 'x has no values');
  if (spec.series.length === 0) fail(spec, 'there is no series');
  if (spec.series.length > MAX_SERIES) fail(spec, `${spec.series.length} series are more than the ${MAX_SERIES} colours of the palette`);
  const names = new Set<string>();
  for (const s of spec.series) {
    if (names.has(s.name)) fail(spec, `two series are named '${s.name}'`);
    names.add(s.name);
    if (s.values.length !== spec.x.length) fail(spec, `series '${s.name}' has ${s.values.length} values for ${spec.x.length} x values`);
    if (s.spreads !== undefined && s.spreads.length !== spec.x.length) {
      fail(spec, `series '${s.name}' has ${s.spreads.length} spreads for ${spec.x.length} x values`);
    }
  }
  if (spec.yLog === true) {
    for (const s of spec.series) {
      const low = s.values.findIndex((v, i) => v <= 0 || (s.spreads?.[i]?.min ?? 1) <= 0);
      if (low >= 0) fail(spec, `series '${s.name}' has a value or spread at or below 0 at x ${spec.x[low]}, which a log y axis cannot show`);
    }
  }
  if (spec.yMin !== undefined && spec.yMax !== undefined && !(spec.yMin < spec.yMax)) {
    fail(spec, `yMin (${spec.yMin}) must be below yMax (${spec.yMax})`);
  }
  checkSize(spec, 'width');
  checkSize(spec, 'height');
}
