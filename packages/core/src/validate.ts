/**
 * The one set of config rules every validator of kvtier uses — the engine's config, each
 * adapter's block (built-in adapters and your own) — so a field is checked, and its error worded,
 * one way. Every failure is a `KVT_ERR_CONFIG` error whose message starts `config.<field>:`.
 */
import { configError } from './errors.ts';

/** A config block as parsed JSON. */
export type Raw = Record<string, unknown>;

/** Longest string a config message quotes whole; longer ones are cut and their length given. */
const MAX_QUOTED = 100;

/**
 * A value as config messages show it: strings quoted, BigInts as `10n`, symbols as `Symbol(x)`,
 * functions, arrays and objects by kind. Total: it never throws, whatever `value` is.
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value.length <= MAX_QUOTED ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, MAX_QUOTED))}… (${value.length} characters)`;
    case 'bigint': return `${value}n`;
    case 'symbol': return `Symbol(${value.description ?? ''})`;
    case 'function': return 'a function';
    case 'object':
      if (value === null) return 'null';
      try {
        return Array.isArray(value) ? 'an array' : 'an object';
      } catch {
        return 'an object'; // a revoked Proxy
      }
    default: return String(value); // number, boolean, undefined
  }
}

/** What a thrown value says, for a message: its `message` when it is an Error; never throws. */
export function thrownText(err: unknown): string {
  try {
    if (err instanceof Error) return String(err.message);
  } catch {
    // a Proxy or a throwing `message` getter: fall through
  }
  return describe(err);
}

/** Deepest nesting of arrays and objects a config may have. */
export const MAX_CONFIG_DEPTH = 32;
/** Most values (every nested one counted) a config may hold. */
export const MAX_CONFIG_VALUES = 100_000;

const JSON_KINDS = 'a string, number, boolean, null, array or plain object';

function read<T>(field: string, get: () => T): T {
  try {
    return get();
  } catch (err) {
    configError(field, `could not be read: ${thrownText(err)}`);
  }
}

function sub(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * A plain-data copy of the config `value` at `field` ('' for the root), read once, so that
 * validation and use see the same values. Own enumerable string keys of plain objects (prototype
 * `Object.prototype` or null) and array elements are copied; strings, numbers, booleans, null and
 * undefined (an absent field) are kept. Anything else — a BigInt, a symbol, a function, a class
 * instance, a cycle, a getter or Proxy trap that throws, nesting deeper than
 * {@link MAX_CONFIG_DEPTH} or more than {@link MAX_CONFIG_VALUES} values — throws CONFIG naming
 * the field, so no validator ever meets a value it cannot describe.
 */
export function plainData(field: string, value: unknown): unknown {
  const budget = { left: MAX_CONFIG_VALUES };
  const open = new Set<object>();
  const copy = (path: string, v: unknown, depth: number): unknown => {
    const at = path === '' ? '(root)' : path;
    if (--budget.left < 0) configError(at, `the config holds more than ${MAX_CONFIG_VALUES} values`);
    switch (typeof v) {
      case 'string': case 'number': case 'boolean': case 'undefined': return v;
      case 'bigint': case 'symbol': case 'function':
        configError(at, `must be JSON data (${JSON_KINDS}), got ${typeof v === 'function' ? 'a function' : `the ${typeof v === 'bigint' ? 'BigInt' : 'symbol'} ${describe(v)}`}`);
    }
    if (v === null) return null;
    const obj = v as object;
    if (depth >= MAX_CONFIG_DEPTH) configError(at, `nests deeper than ${MAX_CONFIG_DEPTH} levels`);
    if (open.has(obj)) configError(at, 'is a cyclic reference to an enclosing value (a config is JSON data, a tree)');
    open.add(obj);
    let out: unknown;
    if (read(at, () => Array.isArray(obj))) {
      const length = read(`${at}.length`, () => (obj as unknown[]).length);
      if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) configError(at, `is an array whose length reads ${describe(length)}`);
      if (length > budget.left) configError(at, `the config holds more than ${MAX_CONFIG_VALUES} values (this array has ${length})`);
      const arr: unknown[] = [];
      for (let i = 0; i < length; i++) {
        const p = `${path}[${i}]`;
        arr.push(copy(p, read(p, () => (obj as unknown[])[i]), depth + 1));
      }
      out = arr;
    } else {
      const proto = read(at, () => Object.getPrototypeOf(obj) as unknown);
      if (proto !== Object.prototype && proto !== null) {
        const kind = read(at, () => Object.prototype.toString.call(obj).slice(8, -1));
        configError(at, `must be JSON data (${JSON_KINDS}), got ${kind === 'Object' ? 'a class instance (a non-plain object)' : `a ${kind}`}`);
      }
      const rec: Record<string, unknown> = {};
      for (const key of read(at, () => Object.keys(obj))) {
        const p = sub(path, key);
        // defineProperty, not assignment: a key `__proto__` stays an own field (and is refused as unknown).
        Object.defineProperty(rec, key, { value: copy(p, read(p, () => (obj as Record<string, unknown>)[key]), depth + 1), enumerable: true, writable: true, configurable: true });
      }
      out = rec;
    }
    open.delete(obj);
    return out;
  };
  return copy(field, value, 0);
}

/** The block at `field` as a {@link Raw}; throws CONFIG unless it is a plain object. */
export function object(field: string, value: unknown): Raw {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    configError(field, `must be an object, got ${describe(value)}`);
  }
  return value as Raw;
}

/** An integer in [min, max] at `field` (`fallback` when absent and one is given); throws CONFIG naming the field otherwise. */
export function integer(field: string, value: unknown, min: number, max: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    configError(field, `must be an integer in [${min}, ${max}], got ${describe(value)}`);
  }
  return value;
}

/** A number in (0, 1] at `field`, `fallback` when absent. */
export function fraction(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    configError(field, `must be a number in (0, 1], got ${describe(value)}`);
  }
  return value;
}

/** A registry name (1 to 64 of [a-z0-9_]) at `field`, `fallback` when absent. */
export function name(field: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[a-z0-9_]{1,64}$/.test(value)) {
    configError(field, `must be a name of 1 to 64 characters [a-z0-9_], got ${describe(value)}`);
  }
  return value;
}

/** Throws CONFIG naming the first field of `raw` (a block at `field`, '' for the root) not in `known`, and listing them. */
export function onlyKnown(field: string, raw: Raw, known: readonly string[]): void {
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) configError(field === '' ? key : `${field}.${key}`, `is not a known field (known: ${known.join(', ')})`);
  }
}

/** True for a non-null, non-array object. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Throws CONFIG naming `field` unless `value` is an integer in [min, Number.MAX_SAFE_INTEGER]. */
export function checkInteger(value: unknown, field: string, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    configError(field, `must be an integer ≥ ${min}, got ${describe(value)}`);
  }
}

/** Throws CONFIG naming `field` unless `value` is a finite number in [min, max] (`minOpen`: (min, max]). */
export function checkNumber(value: unknown, field: string, min: number, max: number, minOpen = false): asserts value is number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (minOpen ? value > min : value >= min) && value <= max;
  if (!ok) configError(field, `must be a number in ${minOpen ? '(' : '['}${min}, ${max}], got ${describe(value)}`);
}

/** Throws CONFIG naming `field` unless `value` is a non-empty string. */
export function checkString(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) configError(field, `must be a non-empty string, got ${describe(value)}`);
}
