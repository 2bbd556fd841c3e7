/**
 * Flag parsing for `kvtier-bench` commands, on `node:util` `parseArgs`: `--name value`,
 * `--name=value`, `--flag`. Every mistake in a command line throws a {@link UsageError} (the CLI
 * exits 2 for it, 1 for a run that fails), naming the flag and, for a mistyped one, the closest known.
 */
import { parseArgs } from 'node:util';

/** Parsed flags: string values, `true` for bare flags. */
export type Flags = Record<string, string | true>;

/** A bad command line (unknown command or flag, bad value): exit code 2, not 1. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Runs `check` (a validation of values that came from flags): what it throws is a {@link UsageError}. */
export function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw err instanceof UsageError ? err : new UsageError((err as Error).message);
  }
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** ` (did you mean X?)` for the known name closest to `name`, when one is close (at most 2 edits, or a prefix); else ''. */
export function didYouMean(name: string, known: readonly string[], prefix = ''): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = k.startsWith(name) || name.startsWith(k) ? 1 : distance(name, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= 2 ? ` (did you mean ${prefix}${best}?)` : '';
}

/**
 * Parses `argv` against the `known` flag names. A value is the token after a flag (or after `=`)
 * unless that token is itself a flag; a flag without one is `true`.
 */
export function parseFlags(argv: string[], known: readonly string[]): Flags {
  let tokens: ReturnType<typeof parseArgs>['tokens'];
  try {
    ({ tokens } = parseArgs({ args: argv, strict: false, allowPositionals: true, tokens: true }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const flags: Flags = {};
  let pending: string | undefined;
  for (const token of tokens ?? []) {
    if (token.kind === 'option') {
      if (!known.includes(token.name)) {
        throw new UsageError(`unknown flag ${token.rawName}${didYouMean(token.name, known, '--')} (known: ${known.map((k) => `--${k}`).join(', ')})`);
      }
      flags[token.name] = token.value ?? true;
      pending = token.value === undefined ? token.name : undefined;
    } else if (token.kind === 'positional') {
      if (pending === undefined) throw new UsageError(`unexpected argument '${token.value}'`);
      flags[pending] = token.value;
      pending = undefined;
    } else {
      pending = undefined;
    }
  }
  return flags;
}

/** A comma-separated list of positive numbers, e.g. `--capacity 2000,5000`. */
export function numberList(value: string | true | undefined, flag: string, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  if (value === true) throw new UsageError(`--${flag} needs a value`);
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isFinite(n) || n <= 0)) throw new UsageError(`--${flag}: '${value}' is not a list of positive numbers`);
  return list;
}

/** A positive integer flag, e.g. `--runs 30`; `fallback` when absent. */
export function positiveInteger(value: string | true | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value === true || !Number.isInteger(n) || n <= 0) throw new UsageError(`--${flag} must be a positive integer, got ${value === true ? 'nothing' : `'${value}'`}`);
  return n;
}

/** A flag that takes one of `allowed` (the first when absent), e.g. `--adapter fs`. */
export function oneOf<T extends string>(value: string | true | undefined, flag: string, allowed: readonly T[]): T {
  const v = value ?? allowed[0];
  if (!allowed.includes(v as T)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got ${String(value)}${typeof value === 'string' ? didYouMean(value, allowed) : ''}`);
  return v as T;
}
