/**
 * Where benchmark charts go: `bench-results/` at the repository root (git-ignored), or the
 * directory in `KVTIER_BENCH_RESULTS` (the tests point it at a temp dir).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderChart, renderPanels, type ChartSpec } from './svg-chart.ts';

/** The repository root. */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RESULTS_DIR = process.env.KVTIER_BENCH_RESULTS ?? join(REPO_ROOT, 'bench-results');

/**
 * Renders `spec` (several specs: panels side by side) to `bench-results/<name>.svg`, says where on
 * stderr, and returns the path.
 */
export function saveChart(name: string, spec: ChartSpec | readonly ChartSpec[]): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.svg`);
  writeFileSync(path, Array.isArray(spec) ? renderPanels(spec) : renderChart(spec as ChartSpec));
  process.stderr.write(`chart: ${relative(process.cwd(), path) || path}\n`);
  return path;
}
