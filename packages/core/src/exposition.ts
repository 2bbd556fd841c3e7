/**
 * Merging Prometheus text expositions (the engine's and each adapter host's) into one that strict
 * parsers accept: every metric family once, its `# HELP` and `# TYPE` lines first, then all of its
 * samples, whichever input they came from.
 */

interface Family {
  help: string | undefined;
  type: string | undefined;
  readonly samples: string[];
}

/** Sample-name suffixes that belong to the family without them, for these family types. */
const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

function familyOf(families: ReadonlyMap<string, Family>, sampleName: string): string {
  if (families.has(sampleName)) return sampleName;
  for (const [name, family] of families) {
    const suffixes = SUFFIXES[family.type ?? ''] ?? [];
    if (suffixes.some((s) => sampleName === name + s)) return name;
  }
  return sampleName;
}

/**
 * One exposition of every family in `texts`, in order of first appearance. The first `# HELP` and
 * `# TYPE` of a family win; samples keep their order within the family.
 */
export function mergeExpositions(texts: readonly string[]): string {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (f === undefined) families.set(name, (f = { help: undefined, type: undefined, samples: [] }));
    return f;
  };
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (line.trim().length === 0) continue;
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (meta !== null) {
        const f = family(meta[2]);
        if (meta[1] === 'HELP') f.help ??= meta[3];
        else f.type ??= meta[3];
        continue;
      }
      if (line.startsWith('#')) continue;
      const name = /^[^\s{]+/.exec(line)![0];
      family(familyOf(families, name)).samples.push(line);
    }
  }
  const out: string[] = [];
  for (const [name, f] of families) {
    if (f.help !== undefined) out.push(`# HELP ${name} ${f.help}`);
    if (f.type !== undefined) out.push(`# TYPE ${name} ${f.type}`);
    out.push(...f.samples);
  }
  return out.join('\n') + '\n';
}
