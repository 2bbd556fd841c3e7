/**
 * Validation of one adapter's config (docs/architecture.md §8, §11): the fields every adapter shares here,
 * the type-specific fields by the type's module. Messages name the field (`config.adapters[0].eviction.ratio`).
 */
import { configError } from '../errors.ts';
import { checkNumber, checkString, checkInteger, describe, isPlainObject } from '../validate.ts';
import type { AdapterConfig, L2EvictionConfig } from './adapter.ts';
import { registeredAdapterModule } from './registry.ts';

function validateEviction(eviction: unknown, field: string): asserts eviction is L2EvictionConfig {
  if (!isPlainObject(eviction)) configError(field, 'must be an object {policy?, watermark?, ratio?}');
  if (eviction.policy !== undefined) checkString(eviction.policy, `${field}.policy`);
  if (eviction.watermark !== undefined) checkNumber(eviction.watermark, `${field}.watermark`, 0, 1, true);
  if (eviction.ratio !== undefined) checkNumber(eviction.ratio, `${field}.ratio`, 0, 1, true);
  for (const key of Object.keys(eviction)) {
    if (key !== 'policy' && key !== 'watermark' && key !== 'ratio') configError(`${field}.${key}`, 'is not a known field (policy, watermark, ratio)');
  }
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
  if (!isPlainObject(config)) configError(field, `must be an object with a "type", got ${describe(config)}`);
  checkString(config.type, `${field}.type`);
  const module = registeredAdapterModule(config.type, field);
  if (config.capacityBytes !== undefined) checkInteger(config.capacityBytes, `${field}.capacityBytes`, 1);
  if (config.eviction !== undefined) {
    validateEviction(config.eviction, `${field}.eviction`);
    // Eviction compares usage with capacity: without one (usage reads -1) it would never evict.
    if (config.capacityBytes === undefined) configError(`${field}.eviction`, `needs ${field}.capacityBytes: an adapter of unknown capacity is never evicted`);
  }
  module?.validateConfig(config as AdapterConfig, field);
}
