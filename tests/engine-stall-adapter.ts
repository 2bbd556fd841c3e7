/**
 * An adapter type for engine-restart-failures.test.ts: its first host is a working mock, every
 * restarted one hangs in `createAdapter` (a mount that stopped answering while the host restarted).
 */
import { MockAdapter, type MockAdapterConfig } from '@kvtier/adapters';
import type { AdapterConfig } from '@kvtier/core';
import type { AdapterContext, L2Adapter } from '@kvtier/core/authoring';

/** Accepts any config: the failure is at restart, not in validation. */
export function validateConfig(_config: AdapterConfig, _field: string): void {}

/** A mock for the first host; a promise that never settles for any later one. */
export async function createAdapter(config: AdapterConfig, ctx: AdapterContext): Promise<L2Adapter> {
  if ((ctx.generation ?? 0) === 0) return new MockAdapter({ ...config, type: 'mock' } as MockAdapterConfig);
  return new Promise<never>(() => {});
}
