// loadConfig(path): a config from a real JSON file, validated like any config; a file it cannot
// read, one that is not JSON (with the line and column) and a bad field all answer KVT_ERR_CONFIG
// naming the file; a relative fs baseDir is resolved against the file's directory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import '@kvtier/adapters';
import { ErrorCode, KvCache, KvtierError, L1Error, loadConfig, objectKeys } from '@kvtier/core';
import { withDeadline } from '@kvtier/core/testing';

const DIR = mkdtempSync(join(tmpdir(), 'kvtier-config-file-'));
const L1 = { slotBytes: 4096, slotCount: 8 };

/** Writes `text` to `name` under the test's directory and returns its path. */
function file(name: string, text: string): string {
  const path = join(DIR, name);
  writeFileSync(path, text);
  return path;
}

/** The CONFIG error loadConfig(path) rejects with. */
async function refused(path: unknown): Promise<string> {
  const err = await withDeadline(loadConfig(path as string).then(() => undefined, (e: unknown) => e), 10_000, 'loadConfig');
  assert.ok(err instanceof KvtierError, `expected a KvtierError, got ${String(err)}`);
  assert.is(err.code, ErrorCode.CONFIG, err.message);
  return err.message;
}

test('loadConfig reads, validates and defaults a JSON file, given as a path or a file: URL, $schema allowed', async () => {
  const path = file('plain.json', JSON.stringify({ $schema: './kvtier.config.schema.json', l1: L1, store: { batchKeys: 64 } }));
  for (const where of [path, pathToFileURL(path)]) {
    const config = await withDeadline(loadConfig(where), 10_000, 'loadConfig');
    assert.equal(config.l1, L1);
    assert.is(config.store.batchKeys, 64);
    assert.is(config.store.maxRetries, 3);
  }
});

test('a relative fs baseDir is resolved against the file\'s directory, also inside a fault adapter', async () => {
  const path = file('relative.json', JSON.stringify({
    l1: L1,
    adapters: [{ type: 'fs', baseDir: 'tier' }, { type: 'fault', inner: { type: 'fs', baseDir: '../elsewhere/tier' } }, { type: 'fs', baseDir: '/abs/tier' }],
  }));
  const config = await withDeadline(loadConfig(path), 10_000, 'loadConfig');
  assert.equal(config.adapters.map((a) => (a.baseDir ?? (a.inner as { baseDir: string }).baseDir)), [join(DIR, 'tier'), join(DIR, '..', 'elsewhere', 'tier'), '/abs/tier']);
});

test('a config from a file opens a KvCache whose fs tier lives beside the file', () => withDeadline((async () => {
  const path = file('open.json', JSON.stringify({ l1: { slotBytes: 4096, slotCount: 16 }, adapters: [{ type: 'fs', baseDir: 'kv' }] }));
  const cache = await KvCache.open(await loadConfig(path));
  try {
    const keys = objectKeys('m', 0, Array.from({ length: 256 }, (_, i) => i));
    const r = cache.reserveWrite(keys, 4096);
    assert.equal([...r.codes], [L1Error.SUCCESS]);
    cache.view(r.slots[0], 4096).fill(7);
    cache.finishWrite(keys);
    await cache.flush({ timeoutMs: 30_000 });
  } finally {
    await cache.close();
  }
  const files = readdirSync(join(DIR, 'kv'), { recursive: true }).map(String).filter((f) => f.endsWith('.kv'));
  assert.is(files.length, 1, `one object file under ${join(DIR, 'kv')}: ${files.join(', ')}`);
})(), 90_000, 'open from a file'));

test('a file that cannot be read is named', async () => {
  assert.match(await refused(join(DIR, 'missing.json')), new RegExp(`^config\\.\\(file\\): cannot read ${join(DIR, 'missing.json')}: ENOENT`));
  assert.match(await refused(DIR), /^config\.\(file\): cannot read .*EISDIR/);
});

test('a JSON syntax error names the file, the line and the column', async () => {
  const path = file('broken.json', '{\n  "l1": { "slotBytes": 4096, "slotCount": 8 },\n}\n');
  // The wording between is V8's; where is ours.
  const at = (p: string, where: string) => new RegExp(`^config\\.\\(file\\): ${p} is not valid JSON: \\S.* at ${where}$`);
  assert.match(await refused(path), at(path, 'line 3, column 1'));
  // Input that ends too early: the error is at its end.
  const cut = file('cut.json', '{\n  "l1": 4');
  assert.match(await refused(cut), at(cut, 'line 2, column 10'));
});

test('a bad field keeps its config.<field>: message and names the file', async () => {
  const path = file('bad.json', JSON.stringify({ l1: L1, store: { batchKeys: 0 } }));
  assert.is(await refused(path), `config.store.batchKeys: must be an integer in [1, 65536], got 0 (file ${path})`);
  const unknownType = file('type.json', JSON.stringify({ l1: L1, adapters: [{ type: 'tape' }] }));
  assert.match(await refused(unknownType), /^config\.adapters\[0\]\.type: unknown adapter type "tape".*\(file .*type\.json\)$/);
});

test('a path that is neither a string nor a URL is an invalid argument', async () => {
  const err = await loadConfig(42 as unknown as string).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof KvtierError && err.code === ErrorCode.INVALID_ARGUMENT, String(err));
  assert.is(err.message, 'loadConfig: path must be a string or a file: URL, got 42');
});

test.after(() => rmSync(DIR, { recursive: true, force: true }));

test.run();
