/**
 * Validation of one adapter's config (docs/architecture.md §8, §11): the fields every adapter shares here,
 * the type-specific fields by the type's module. Messages name the field (`config.adapters[0].eviction.ratio`).
 */
import * as v from 'valibot';
import { configError } from '../errors.ts';
import { block, describe, fraction, integerFrom, lenientBlock, nonEmptyString, parseBlock } from '../validate.ts';
import type { AdapterConfig } from './adapter.ts';
import { registeredAdapterModule } from './registry.ts';

/** The `eviction` block of an adapter; the engine's config fills in its defaults and checks the policy is registered. */
const evictionBlock = block({
  policy: v.optional(nonEmptyString),
  watermark: v.optional(fraction),
  ratio: v.optional(fraction),
}, { unknown: (known) => `is not a known field (${known.join(', ')})`, notObject: () => 'must be an object {policy?, watermark?, ratio?}' });

/** The fields every adapter block has, whatever its type. */
const COMMON_FIELDS = {
  capacityBytes: v.optional(integerFrom(1)),
  eviction: v.optional(evictionBlock),
};

const typed = lenientBlock({ type: nonEmptyString }, { notObject: (got) => `must be an object with a "type", got ${got}` });
const common = lenientBlock(COMMON_FIELDS);

/**
 * The schema of an adapter type's config block, for the type's module to export as `configSchema`
 * and check with {@link parseBlock} in its `validateConfig`: `type` (the literal `type`),
 * `capacityBytes` and `eviction` as every adapter has them, then the type's own `fields`; any
 * other field is refused as `is not a field of <noun> (type, capacityBytes, eviction, …)`.
 * @param type - the adapter type name, as registered
 * @param fields - schemas of the type's own fields (build them from the field schemas of `@kvtier/core/authoring` or valibot's)
 * @param noun - how messages name such an adapter; default `a <type> adapter`
 */
export function adapterBlock<E extends v.ObjectEntries>(type: string, fields: E, noun = `a ${type} adapter`) {
  return block({ type: v.literal(type, (issue) => `must be ${JSON.stringify(type)}, got ${describe(issue.input)}`), ...COMMON_FIELDS, ...fields }, {
    unknown: (known) => `is not a field of ${noun} (${known.join(', ')})`,
  });
}

/**
 * Throws a `KVT_ERR_CONFIG` error naming the first bad field of an adapter config at `field`
 * (e.g. `adapters[0]`): `type` must be registered; `capacityBytes`, when present, a positive
 * integer; `eviction`, when present, `{policy?: non-empty string, watermark?: (0, 1], ratio?: (0, 1]}`
 * (defaults `default`, 0.8, 0.2, applied by the engine's config) and only with `capacityBytes`;
 * then the type's own fields, when its module was registered on this thread.
 * Does not check that the eviction policy exists (the policy registry is the engine's).
 */
export function validateAdapterConfig(config: unknown, field = 'adapter'): asserts config is AdapterConfig {
  const { type } = parseBlock(typed, config, field);
  const module = registeredAdapterModule(type, field);
  const { capacityBytes, eviction } = parseBlock(common, config, field);
  // Eviction compares usage with capacity: without one (usage reads -1) it would never evict.
  if (eviction !== undefined && capacityBytes === undefined) configError(`${field}.eviction`, `needs ${field}.capacityBytes: an adapter of unknown capacity is never evicted`);
  module?.validateConfig(config as AdapterConfig, field);
}
