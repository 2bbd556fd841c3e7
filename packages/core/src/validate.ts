/**
 * The one set of config rules every validator of kvtier uses — the engine's config, each
 * adapter's block (built-in adapters and your own) — so a field is checked, and its error worded,
 * one way. Every failure is a `KVT_ERR_CONFIG` error whose message starts `config.<field>:`.
 */
import { configError } from './errors.ts';

/** A config block as parsed JSON. */
export type Raw = Record<string, unknown>;

/** A value as config messages show it: strings quoted, objects and arrays by kind. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
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
    configError(field, `must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  }
}

/** Throws CONFIG naming `field` unless `value` is a finite number in [min, max] (`minOpen`: (min, max]). */
export function checkNumber(value: unknown, field: string, min: number, max: number, minOpen = false): asserts value is number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (minOpen ? value > min : value >= min) && value <= max;
  if (!ok) configError(field, `must be a number in ${minOpen ? '(' : '['}${min}, ${max}], got ${JSON.stringify(value)}`);
}

/** Throws CONFIG naming `field` unless `value` is a non-empty string. */
export function checkString(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) configError(field, `must be a non-empty string, got ${JSON.stringify(value)}`);
}
