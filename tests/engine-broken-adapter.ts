/** An adapter type for engine-open-failures.test.ts whose start fails the way a machine refuses: not a config error. */
import type { AdapterConfig } from '@kvtier/core';
import type { L2Adapter } from '@kvtier/core/authoring';

/** Accepts any config: the failure is at start, not in validation. */
export function validateConfig(_config: AdapterConfig, _field: string): void {}

/** Fails like a device that went away while the adapter started. */
export async function createAdapter(): Promise<L2Adapter> {
  throw new Error('EIO: i/o error, open /dev/kvtier-broken');
}
