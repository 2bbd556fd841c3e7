// The packages as another project gets them: `pnpm pack` each library package, `npm install` the
// tarballs into an empty project (offline: their runtime dependencies are packed from the
// workspace's pnpm store, which set-up filled, so nothing is downloaded), type-check the
// getting-started examples of docs/README.md with a default node16 tsconfig, and run the emitted
// JavaScript with plain `node` (no tsx anywhere in that project).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDeadline } from '@kvtier/core/testing';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LIBRARIES = ['core', 'adapters', 'gpu'];
const STEP_MS = 180_000;
const WORK = mkdtempSync(join(tmpdir(), 'kvtier-pack-'));
const TARBALLS = join(WORK, 'tarballs');
const PROJECT = join(WORK, 'project');
mkdirSync(TARBALLS);
mkdirSync(PROJECT);

interface Run { code: number | null; stdout: string; stderr: string }
let runs = 0;

/**
 * Runs `cmd` in `cwd` with no loader flags inherited (a consumer's plain environment), its stderr
 * on a file as a terminal or a redirect gives it (Node's own 'pipe' is a socket, see native-stderr.ts in @kvtier/gpu).
 */
async function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, NODE_OPTIONS: undefined };
  const stderrPath = join(WORK, `stderr-${++runs}.txt`);
  const stderrFd = openSync(stderrPath, 'w+');
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', stderrFd] });
  closeSync(stderrFd);
  let stdout = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  const done = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  try {
    const code = await withDeadline(done, STEP_MS, `${cmd} ${args.join(' ')}`);
    return { code, stdout, stderr: readFileSync(stderrPath, 'utf8') };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

async function ok(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await run(cmd, args, cwd);
  assert.is(r.code, 0, `${cmd} ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** The installed directory of package `name` as Node would find it from `fromDir` (pnpm's store layout). */
function packageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/** Every third-party package `roots` need at run time (optional ones where set-up installed them). */
function dependencyClosure(roots: Array<[name: string, fromDir: string]>): string[] {
  const found = new Map<string, string>();
  const visit = (name: string, fromDir: string, optional: boolean) => {
    if (name.startsWith('@kvtier/') || found.has(name)) return;
    const dir = packageDir(name, fromDir);
    if (dir === undefined) {
      assert.ok(optional, `${name} (needed from ${fromDir}) is not installed in the workspace`);
      return;
    }
    found.set(name, dir);
    const m = manifest(dir);
    for (const dep of Object.keys(m.dependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys(m.optionalDependencies ?? {})) visit(dep, dir, true);
  };
  for (const [name, fromDir] of roots) visit(name, fromDir, false);
  return [...found.values()];
}

/** The ```ts blocks of docs/README.md, in order: the getting-started example, then the GPU path. */
function readmeExamples(): string[] {
  const text = readFileSync(join(ROOT, 'docs', 'README.md'), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

test('pnpm pack: dist JavaScript, declarations and source maps, an exports map into dist, no tests, no tsx', async () => {
  await ok(process.execPath, [createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc'), '-b'], ROOT);
  for (const lib of LIBRARIES) {
    await ok('pnpm', ['pack', '--pack-destination', TARBALLS], join(ROOT, 'packages', lib));
    const tarball = join(TARBALLS, `kvtier-${lib}-0.1.0.tgz`);
    const files = (await ok('tar', ['tzf', tarball], WORK)).trim().split('\n');
    for (const f of ['package/package.json', 'package/dist/src/index.js', 'package/dist/src/index.d.ts', 'package/dist/src/index.js.map']) {
      assert.ok(files.includes(f), `${lib}: ${f} is packed`);
    }
    assert.equal(files.filter((f) => /(^|\/)test\/|\.test\.|\.tsbuildinfo$|\.mjs$|(?<!\.d)\.ts$/.test(f)), [], `${lib}: no tests, sources or build state`);
    const packed = JSON.parse(await ok('tar', ['xzf', tarball, '-O', 'package/package.json'], WORK));
    for (const [path, entry] of Object.entries<{ types: string; default: string }>(packed.exports)) {
      assert.match(entry.default, /^\.\/dist\/src\/.*\.js$/, `${lib} ${path}`);
      assert.match(entry.types, /^\.\/dist\/src\/.*\.d\.ts$/, `${lib} ${path}`);
    }
    assert.not.ok(JSON.stringify(packed.dependencies ?? {}).includes('tsx'), `${lib} needs no tsx at run time`);
    assert.not.ok(JSON.stringify(packed.dependencies ?? {}).includes('workspace:'), `${lib}: workspace versions are resolved`);
  }
});

test('npm install of the tarballs into an empty project, offline', async () => {
  const roots: Array<[string, string]> = LIBRARIES.flatMap((lib) => {
    const dir = join(ROOT, 'packages', lib);
    return Object.keys(manifest(dir).dependencies ?? {}).map((name): [string, string] => [name, dir]);
  });
  // The consumer's own dev dependency: its tsc needs Node's types for the example's node: imports.
  roots.push(['@types/node', ROOT]);
  const deps = join(TARBALLS, 'deps');
  mkdirSync(deps);
  // Each packed from a copy: pnpm's store hard-links identical files (valibot's index.d.mts and
  // index.d.cts), npm pack writes the second as a tar hard-link entry, and npm install drops those.
  for (const [i, dir] of dependencyClosure(roots).entries()) {
    const copy = join(WORK, 'copies', String(i));
    cpSync(dir, copy, { recursive: true });
    await ok('npm', ['pack', '--ignore-scripts', '--pack-destination', deps, copy], WORK);
  }
  writeFileSync(join(PROJECT, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const tarballs = [
    ...readdirSync(TARBALLS).filter((f) => f.endsWith('.tgz')).map((f) => join(TARBALLS, f)),
    ...readdirSync(deps).map((f) => join(deps, f)),
  ];
  // A cache of its own: nothing cached by an earlier install can stand in for a tarball.
  await ok('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--cache', join(WORK, 'npm-cache'), ...tarballs], PROJECT);
  for (const lib of LIBRARIES) assert.ok(existsSync(join(PROJECT, 'node_modules', '@kvtier', lib, 'dist', 'src', 'index.js')), lib);
  assert.not.ok(existsSync(join(PROJECT, 'node_modules', 'tsx')), 'tsx is not installed');
});

test('the getting-started examples type-check with a default node16 tsconfig', async () => {
  const [start, gpu] = readmeExamples();
  assert.ok(start !== undefined && gpu !== undefined, 'docs/README.md has both examples');
  writeFileSync(join(PROJECT, 'getting-started.mts'), start);
  writeFileSync(join(PROJECT, 'gpu-path.mts'), gpu);
  writeFileSync(join(PROJECT, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'es2022', module: 'node16', strict: true } }));
  await ok(process.execPath, [createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc'), '-p', PROJECT], PROJECT);
  assert.ok(existsSync(join(PROJECT, 'getting-started.mjs')) && existsSync(join(PROJECT, 'gpu-path.mjs')), 'tsc emitted both');
});

test('plain node runs the getting-started example: an fs tier, workers from dist/', async () => {
  const r = await run(process.execPath, ['getting-started.mjs'], PROJECT);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '[ 1, 2, 3, 4 ]\ntrue\n');
  assert.is(r.stderr, '');
});

test('plain node runs the GPU path example on the device, with nothing on stderr', async () => {
  const r = await run(process.execPath, ['gpu-path.mjs'], PROJECT);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '4 { chunks: 4, fromL1: 0, fromL2: 4 }\n');
  assert.is(r.stderr, '');
});

test.after(() => rmSync(WORK, { recursive: true, force: true }));

test.run();
