/** Minimal flag parsing for `kvtier-bench` commands: `--name value`, `--name=value`, `--flag`. */

/** Parsed flags: string values, `true` for bare flags. */
export type Flags = Record<string, string | true>;

/** Parses `argv`; throws naming the flag when one is not in `known`. */
export function parseFlags(argv: string[], known: readonly string[]): Flags {
  const flags: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (!known.includes(name)) throw new Error(`unknown flag --${name} (known: ${known.map((k) => `--${k}`).join(', ')})`);
    if (eq !== -1) flags[name] = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags[name] = argv[++i];
    else flags[name] = true;
  }
  return flags;
}

/** A comma-separated list of positive numbers, e.g. `--capacity 2000,5000`. */
export function numberList(value: string | true | undefined, flag: string, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  if (value === true) throw new Error(`--${flag} needs a value`);
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`--${flag}: '${value}' is not a list of positive numbers`);
  return list;
}

/** A positive integer flag, e.g. `--runs 30`; `fallback` when absent. */
export function positiveInteger(value: string | true | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value === true || !Number.isInteger(n) || n <= 0) throw new Error(`--${flag} must be a positive integer, got ${value === true ? 'nothing' : `'${value}'`}`);
  return n;
}

/** A flag that takes one of `allowed` (the first when absent), e.g. `--adapter fs`. */
export function oneOf<T extends string>(value: string | true | undefined, flag: string, allowed: readonly T[]): T {
  const v = value ?? allowed[0];
  if (!allowed.includes(v as T)) throw new Error(`--${flag} must be one of ${allowed.join(', ')}, got ${String(value)}`);
  return v as T;
}
