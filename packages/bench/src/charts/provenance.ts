/**
 * Where a chart's figures were measured: the machine (CPU model, cores, OS) and the code (the git
 * commit, or the package version outside a checkout). Printed as every chart's footnote and kept
 * in its data file, because a figure without its machine and commit cannot be compared with another.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, release, type } from 'node:os';
import { fileURLToPath } from 'node:url';

/** The machine and the code a chart's figures come from. */
export interface Provenance {
  /** CPU model as the OS reports it (`unknown CPU` when it reports none). */
  readonly cpu: string;
  /** Cores this process may run on. */
  readonly cores: number;
  /** OS name, kernel release and architecture, e.g. `Linux 6.1.0-18-amd64 x64`. */
  readonly os: string;
  /** Node.js version, e.g. `v20.20.2`. */
  readonly node: string;
  /** `commit 1a2b3c4` in a git checkout, else `@kvtier/bench 0.1.0`. */
  readonly code: string;
}

const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

/** `commit <short hash>` of the checkout this package sits in; undefined without git or a checkout. */
function gitCommit(): string | undefined {
  try {
    const hash = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: fileURLToPath(new URL('.', PACKAGE_JSON)), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000,
    }).trim();
    return hash === '' ? undefined : `commit ${hash}`;
  } catch {
    // No git binary, not a checkout, or a broken one: the package version says what ran.
    return undefined;
  }
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { name: string; version: string };
  return `${pkg.name} ${pkg.version}`;
}

let cached: Provenance | undefined;

/** The provenance of this process's figures (looked up once). */
export function provenance(): Provenance {
  cached ??= {
    cpu: cpus()[0]?.model.trim() || 'unknown CPU',
    cores: availableParallelism(),
    os: `${type()} ${release()} ${arch()}`,
    node: process.version,
    code: gitCommit() ?? packageVersion(),
  };
  return cached;
}

/** The footnote line: `<cpu> (<n> cores), <os>, node <v> · <code>`. */
export function footnote(p: Provenance): string {
  return `${p.cpu} (${p.cores} ${p.cores === 1 ? 'core' : 'cores'}), ${p.os}, node ${p.node} · ${p.code}`;
}
