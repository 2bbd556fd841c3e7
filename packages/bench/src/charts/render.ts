/**
 * Renders a vega-lite specification to a standalone SVG document in Node: compiled by `vega-lite`,
 * laid out and drawn by `vega` with no renderer attached (`renderer: 'none'`), so neither a canvas
 * nor a browser nor the network is needed.
 */
import { parse, View, Warn } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** An SVG document and the warnings vega-lite and vega gave on the way (none for a sound spec). */
export interface Rendered {
  readonly svg: string;
  readonly warnings: readonly string[];
}

/** Collects warnings instead of printing them: benchmark output stays quiet, and tests can assert none. */
function collector(warnings: string[]) {
  let level = Warn;
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: readonly unknown[]): never {
      throw new Error(args.map(String).join(' '));
    },
    warn(...args: readonly unknown[]) {
      if (level >= Warn) warnings.push(args.map(String).join(' '));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger;
}

/** Renders `spec` to SVG. */
export async function renderSvg(spec: TopLevelSpec): Promise<Rendered> {
  const warnings: string[] = [];
  const logger = collector(warnings);
  const view = new View(parse(compile(spec, { logger }).spec), { renderer: 'none', logger });
  try {
    return { svg: await view.toSVG(), warnings };
  } finally {
    view.finalize();
  }
}
