/**
 * A config from a JSON file (docs/core/config.md): read, parsed, relative `fs` paths resolved
 * against the file's directory, and validated like any config, every error naming the file.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig, type KvCacheConfig } from './config.ts';
import { ErrorCode, KvtierError, configError, invalidArgument } from './errors.ts';
import { describe, thrownText } from './validate.ts';

/** Where in `text` the offset `at` is, 1-based. */
function lineAndColumn(text: string, at: number): { line: number; column: number } {
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  return { line, column: at - before.lastIndexOf('\n') };
}

/** `text` parsed as JSON; a syntax error answers CONFIG naming the file, the line and the column. */
function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = thrownText(err);
    // V8 says where as an offset (`… in JSON at position 12`, newer ones add `(line 3 column 2)`);
    // an input that ends too early has no offset: it is the end.
    const position = /at position (\d+)/.exec(message);
    const { line, column } = lineAndColumn(text, position === null ? text.length : Number(position[1]));
    const what = message.replace(/ in JSON at position \d+.*$/s, '').replace(/ JSON input$/, '');
    configError('(file)', `${file} is not valid JSON: ${what} at line ${line}, column ${column}`);
  }
}

/**
 * Resolves, in place, a relative `baseDir` of every `fs` adapter block (also one wrapped as a
 * `fault` adapter's `inner`) against `dir`, the config file's directory.
 */
function resolveFsPaths(config: unknown, dir: string): void {
  const adapters = (config as { adapters?: unknown } | null)?.adapters;
  if (!Array.isArray(adapters)) return;
  for (const item of adapters) {
    for (let entry: unknown = item; entry !== null && typeof entry === 'object'; entry = (entry as { inner?: unknown }).inner) {
      const block = entry as { type?: unknown; baseDir?: unknown };
      if (block.type === 'fs' && typeof block.baseDir === 'string' && block.baseDir !== '' && !isAbsolute(block.baseDir)) {
        block.baseDir = resolve(dir, block.baseDir);
      }
    }
  }
}

/**
 * Reads the JSON config file at `path` (a path or a `file:` URL) and validates it
 * ({@link validateConfig}): `KvCache.open(await loadConfig('kvtier.json'))`. A `"$schema"` key
 * (the published JSON Schema, for editors) is allowed and ignored. A relative `baseDir` of an `fs`
 * adapter is resolved against the file's directory, not the working directory. Adapter types must
 * be registered first, as for `KvCache.open` (import `@kvtier/adapters`).
 * @throws KvtierError `KVT_ERR_CONFIG` naming the file: one it cannot read, one that is not JSON
 * (with the line and column), or the first bad field (`config.<field>: … (file <path>)`).
 */
export async function loadConfig(path: string | URL): Promise<KvCacheConfig> {
  if (typeof path !== 'string' && !(path instanceof URL)) invalidArgument(`loadConfig: path must be a string or a file: URL, got ${describe(path)}`);
  const file = resolve(path instanceof URL ? fileURLToPath(path) : path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    configError('(file)', `cannot read ${file}: ${thrownText(err)}`);
  }
  const raw = parseJson(text.replace(/^\uFEFF/, ''), file);
  resolveFsPaths(raw, dirname(file));
  try {
    return validateConfig(raw);
  } catch (err) {
    if (err instanceof KvtierError && err.code === ErrorCode.CONFIG) throw new KvtierError(ErrorCode.CONFIG, `${err.message} (file ${file})`, { cause: err });
    throw err;
  }
}
