/**
 * The one set of config rules every validator of kvtier uses — the engine's config, L1's options,
 * each adapter's block (built-in adapters and your own) — so a field is checked, and its error
 * worded, one way. Fields and blocks are valibot schemas (one library behind every validator, and
 * the source of the published JSON Schema); {@link parseBlock} runs one and answers its first
 * issue as a `KVT_ERR_CONFIG` error whose message starts `config.<field>:`. Values that are not
 * JSON data never reach a schema: {@link plainData} copies a config first.
 */
import * as v from 'valibot';
import { configError } from './errors.ts';

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

/** A schema of one config field or block, as {@link parseBlock} runs it. */
export type FieldSchema<T = unknown> = v.GenericSchema<unknown, T>;

/** An issue's message from the value it is about, described by `show`. */
function says(problem: (got: string) => string, show: (value: unknown) => string = describe): (issue: v.BaseIssue<unknown>) => string {
  return (issue) => problem(show(issue.input));
}

/** An integer in [min, max]; `show` describes a wrong value in the message (default {@link describe}). */
export function integerIn(min: number, max: number, show: (value: unknown) => string = describe): FieldSchema<number> {
  const m = says((got) => `must be an integer in [${min}, ${max}], got ${got}`, show);
  return v.pipe(v.number(m), v.integer(m), v.minValue(min, m), v.maxValue(max, m));
}

/** An integer in [min, Number.MAX_SAFE_INTEGER]. */
export function integerFrom(min: number): FieldSchema<number> {
  const m = says((got) => `must be an integer ≥ ${min}, got ${got}`);
  return v.pipe(v.number(m), v.safeInteger(m), v.minValue(min, m));
}

/** An integer in [1, Number.MAX_SAFE_INTEGER], worded `must be a positive integer`. */
export const positiveInteger: FieldSchema<number> = (() => {
  const m = says((got) => `must be a positive integer, got ${got}`);
  return v.pipe(v.number(m), v.safeInteger(m), v.minValue(1, m));
})();

/** One of `values`. */
export function oneOf<T extends string>(values: readonly T[]): FieldSchema<T> {
  return v.picklist(values, says((got) => `must be one of ${values.join(', ')}, got ${got}`));
}

/** A finite number in [min, max] (`minOpen`: (min, max]). */
export function numberIn(min: number, max: number, minOpen = false): FieldSchema<number> {
  const m = says((got) => `must be a number in ${minOpen ? '(' : '['}${min}, ${max}], got ${got}`);
  return v.pipe(v.number(m), minOpen ? v.gtValue(min, m) : v.minValue(min, m), v.maxValue(max, m));
}

/** A number in (0, 1]: a watermark or a ratio. */
export const fraction: FieldSchema<number> = numberIn(0, 1, true);

/** A non-empty string. */
export const nonEmptyString: FieldSchema<string> = v.pipe(
  v.string(says((got) => `must be a non-empty string, got ${got}`)),
  v.minLength(1, says((got) => `must be a non-empty string, got ${got}`)),
);

/** A boolean. */
export const boolean: FieldSchema<boolean> = v.boolean(says((got) => `must be a boolean, got ${got}`));

/** A registry name: 1 to 64 of [a-z0-9_]. */
export const registryName: FieldSchema<string> = v.pipe(
  v.string(says((got) => `must be a name of 1 to 64 characters [a-z0-9_], got ${got}`)),
  v.regex(/^[a-z0-9_]{1,64}$/, says((got) => `must be a name of 1 to 64 characters [a-z0-9_], got ${got}`)),
);

/** How a {@link block} words its two object-level problems. */
export interface BlockMessages {
  /** The problem of an unknown field, given the known fields (default `is not a known field (known: a, b)`). */
  readonly unknown?: (known: readonly string[]) => string;
  /** The problem of a value that is not an object, given it described (default `must be an object, got …`). */
  readonly notObject?: (got: string) => string;
}

/** The message of an object-level issue of a block of `entries`. */
function blockMessage(entries: v.ObjectEntries, messages: BlockMessages): (issue: v.ObjectIssue | v.StrictObjectIssue) => string {
  const known = Object.keys(entries);
  const unknown = messages.unknown ?? ((k) => `is not a known field (known: ${k.join(', ')})`);
  const notObject = messages.notObject ?? ((got) => `must be an object, got ${got}`);
  return (issue) => {
    if (issue.expected === 'never') return unknown(known);
    if (issue.expected === 'Object') return notObject(describe(issue.input));
    // A required field is missing: its own schema says what it must be.
    const key = issue.path?.at(-1)?.key as string;
    return v.safeParse(entries[key], undefined).issues?.[0].message ?? 'is required';
  };
}

/**
 * A block of named fields that refuses unknown ones, naming the first and listing the known ones.
 * A required field that is missing is answered by its own schema's message for `undefined`.
 */
export function block<E extends v.ObjectEntries>(entries: E, messages: BlockMessages = {}): v.StrictObjectSchema<E, (issue: v.StrictObjectIssue) => string> {
  return v.strictObject(entries, blockMessage(entries, messages));
}

/** A {@link block} that drops unknown fields instead (options read by name, where another layer refuses the rest). */
export function lenientBlock<E extends v.ObjectEntries>(entries: E, messages: BlockMessages = {}): v.ObjectSchema<E, (issue: v.ObjectIssue) => string> {
  return v.object(entries, blockMessage(entries, messages));
}

/** Where an issue is: `field` ('' for the root) followed by the issue's path, as `a.b[2].c`. */
function issueField(field: string, path: readonly { key: unknown }[] | undefined): string {
  let at = field;
  for (const { key } of path ?? []) at = typeof key === 'number' ? `${at}[${key}]` : at === '' ? String(key) : `${at}.${String(key)}`;
  return at === '' ? '(root)' : at;
}

/**
 * `value` validated by `schema` (a block at `field`, '' for the root) and its output (defaults
 * filled in); throws CONFIG naming the first bad field, with its schema's message. `value` must be
 * plain data ({@link plainData}), or a value the caller read itself.
 */
export function parseBlock<S extends FieldSchema<unknown>>(schema: S, value: unknown, field: string): v.InferOutput<S> {
  const result = v.safeParse(schema, value, { abortEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  configError(issueField(field, issue.path), issue.message);
}

/** Throws CONFIG naming `field` unless `value` is an integer in [min, Number.MAX_SAFE_INTEGER]. */
export function checkInteger(value: unknown, field: string, min: number): asserts value is number {
  parseBlock(integerFrom(min), value, field);
}

/** Throws CONFIG naming `field` unless `value` is a finite number in [min, max] (`minOpen`: (min, max]). */
export function checkNumber(value: unknown, field: string, min: number, max: number, minOpen = false): asserts value is number {
  parseBlock(numberIn(min, max, minOpen), value, field);
}

/** Throws CONFIG naming `field` unless `value` is a non-empty string. */
export function checkString(value: unknown, field: string): asserts value is string {
  parseBlock(nonEmptyString, value, field);
}
