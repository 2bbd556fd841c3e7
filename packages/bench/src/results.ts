/**
 * Where benchmark charts go: `bench-results/` at the repository root (git-ignored), or the
 * directory in `KVTIER_BENCH_RESULTS` (the tests point it at a temp dir). Each chart is three
 * files: `<name>.svg` (the picture), `<name>.json` (its data and provenance) and `<name>.vl.json`
 * (the vega-lite specification that drew it, to open in any vega-lite tool).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkChartSpec, type ChartSpec } from './charts/chart-spec.ts';
import { footnote, provenance } from './charts/provenance.ts';
import { renderSvg } from './charts/render.ts';
import { toVegaLite } from './charts/vega-lite.ts';

/** The repository root. */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RESULTS_DIR = process.env.KVTIER_BENCH_RESULTS ?? join(REPO_ROOT, 'bench-results');

/**
 * Renders `spec` (several specs: panels side by side) to `bench-results/<name>.svg`, writes its
 * data to `<name>.json` and its vega-lite specification to `<name>.vl.json` beside it, says where
 * on stderr (with any rendering warning), and resolves to the SVG's path. A spec that cannot be
 * drawn is refused with `KVT_ERR_INVALID_ARGUMENT` before anything is written.
 */
export async function saveChart(name: string, spec: ChartSpec | readonly ChartSpec[]): Promise<string> {
  const specs: readonly ChartSpec[] = Array.isArray(spec) ? spec : [spec as ChartSpec];
  specs.forEach(checkChartSpec);
  const made = provenance();
  const vegaLite = toVegaLite(specs, footnote(made));
  const { svg, warnings } = await renderSvg(vegaLite);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.svg`);
  writeFileSync(path, svg);
  // NaN (no point) is written as null.
  writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify({ name, provenance: made, charts: specs }, null, 2)}\n`);
  writeFileSync(join(RESULTS_DIR, `${name}.vl.json`), `${JSON.stringify(vegaLite, null, 2)}\n`);
  for (const w of warnings) process.stderr.write(`chart ${name}: ${w}\n`);
  process.stderr.write(`chart: ${relative(process.cwd(), path) || path}\n`);
  return path;
}
