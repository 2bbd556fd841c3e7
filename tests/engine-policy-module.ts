/**
 * A policy module for tests/engine-policies.test.ts: the engine's workers import it by URL. Its
 * store policy stores to the last adapter only, so a test can see which policy a worker used.
 */
import type { PolicyModule, StorePolicy } from '@kvtier/core/authoring';

const lastAdapterOnly: StorePolicy = {
  name: 'last_adapter_only',
  targets: (keys, adapterCount) => new Map(adapterCount === 0 ? [] : [[adapterCount - 1, keys.slice()]]),
  deleteFromL1: () => [],
};

export const storePolicies: PolicyModule['storePolicies'] = { last_adapter_only: () => lastAdapterOnly };
