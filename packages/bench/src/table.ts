/** Plain-text tables for benchmark output. */
import type { Spread } from './spread.ts';

/** A table cell: text (left-aligned), a number, or a spread shown as `median (min–max)`. */
export type Cell = string | number | Spread;

/** Formats rows as an aligned table with a header rule; numbers are right-aligned. */
export function formatTable(headers: string[], rows: Cell[][]): string {
  const cells = rows.map((r) => r.map(formatCell));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const numeric = headers.map((_, i) => rows.every((r) => typeof r[i] !== 'string'));
  const line = (r: string[]) =>
    r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n') + '\n';
}

/** Three significant figures, with thousands separators for large values. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(3)).toString();
}

function formatCell(c: Cell): string {
  if (typeof c === 'string') return c;
  if (typeof c === 'number') return formatNumber(c);
  return `${formatNumber(c.median)} (${formatNumber(c.min)}–${formatNumber(c.max)})`;
}
