/**
 * Request traces: JSONL, one request per line, its `hash_ids` the prompt's blocks in prefix order
 * (equal ids mean an equal prefix up to and including that block). The Mooncake trace ships in
 * `packages/bench/data/` (source and licence in the README there).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The bundled trace. */
export const DEFAULT_TRACE = fileURLToPath(new URL('../data/mooncake_synthetic.jsonl', import.meta.url));

/** Parses a trace into each request's block ids; every line must be an object with an array of integer `hash_ids`. */
export function loadTrace(path: string): number[][] {
  if (!existsSync(path)) throw new Error(`trace file not found: ${path} (pass --trace FILE)`);
  const trace: number[][] = [];
  readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let ids: unknown;
    try {
      ids = (JSON.parse(line) as { hash_ids?: unknown }).hash_ids;
    } catch (err) {
      throw new Error(`${path}:${i + 1}: not JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(ids) || !ids.every(Number.isSafeInteger)) {
      throw new Error(`${path}:${i + 1}: "hash_ids" must be an array of integers`);
    }
    trace.push(ids as number[]);
  });
  return trace;
}
