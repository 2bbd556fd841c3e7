// docs/behaviours.md lists what the tests check, one line per test under its file's heading: this
// keeps it from drifting. Every test file has its section, every test title written in a file
// (titles built at run time excepted) is a line of its section and every line a title; no section
// names a missing file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOC = readFileSync(join(ROOT, 'docs/behaviours.md'), 'utf8');

function testFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
}

const FILES = [...readdirSync(join(ROOT, 'packages')).flatMap((p) => testFiles(join(ROOT, 'packages', p, 'test'))), ...testFiles(join(ROOT, 'tests'))];

/** The doc's sections: file -> its `- ` lines. */
function sections(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  let lines: Set<string> | undefined;
  for (const line of DOC.split('\n')) {
    const heading = /^### `([^`]+)`/.exec(line);
    if (heading) out.set(heading[1], (lines = new Set()));
    else if (line.startsWith('## ')) lines = undefined;
    else if (line.startsWith('- ') && lines) lines.add(line.slice(2));
  }
  return out;
}

/** The titles written as string literals in a test file's `test(` / `uvuTest(` calls, and whether some title is built at run time. */
function titlesOf(file: string): { titles: string[]; dynamic: boolean } {
  const source = readFileSync(join(ROOT, file), 'utf8');
  const re = /\b(?:test|uvuTest)\(\s*(?:'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`)\s*,/g;
  const titles: string[] = [];
  let dynamic = false;
  for (const m of source.matchAll(re)) {
    const title = m[1] ?? m[2] ?? m[3];
    if (title.includes('${')) dynamic = true;
    else titles.push(title);
  }
  return { titles, dynamic };
}

test('every test file has its section in docs/behaviours.md, with a line for each of its tests', () => {
  const doc = sections();
  const missing: string[] = [];
  for (const file of FILES) {
    const lines = doc.get(file);
    if (lines === undefined) {
      missing.push(`no section for ${file}`);
      continue;
    }
    for (const title of titlesOf(file).titles) if (!lines.has(title)) missing.push(`${file}: - ${title}`);
  }
  assert.equal(missing, [], `docs/behaviours.md is missing:\n${missing.join('\n')}`);
});

test('every line of a section is a test of its file (files with titles built at run time excepted)', () => {
  const stale: string[] = [];
  for (const [file, lines] of sections()) {
    if (!FILES.includes(file)) continue;
    const { titles, dynamic } = titlesOf(file);
    if (!dynamic) for (const line of lines) if (!titles.includes(line)) stale.push(`${file}: - ${line}`);
  }
  assert.equal(stale, [], `docs/behaviours.md lists tests that are gone:\n${stale.join('\n')}`);
});

test('every section of docs/behaviours.md names a test file that exists', () => {
  const gone = [...sections().keys()].filter((file) => !FILES.includes(file));
  assert.equal(gone, []);
});

test.run();
