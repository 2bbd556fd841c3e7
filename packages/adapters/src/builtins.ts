/**
 * Registers the built-in adapter types with core's registry. Each type's module is the file that
 * implements it; adapter workers import it by URL.
 */
import { registerAdapterType, siblingModule } from '@kvtier/core/authoring';
import * as fault from './fault.ts';
import * as fs from './fs.ts';
import * as mock from './mock.ts';
import * as redis from './redis/adapter.ts';

/** Module URL of each built-in adapter type. */
export const BUILTIN_ADAPTER_MODULES = {
  mock: siblingModule('./mock.ts', import.meta.url).href,
  fs: siblingModule('./fs.ts', import.meta.url).href,
  fault: siblingModule('./fault.ts', import.meta.url).href,
  redis: siblingModule('./redis/adapter.ts', import.meta.url).href,
} as const;

/** Registers `mock`, `fs`, `fault` and `redis` on this thread (idempotent). */
export function registerBuiltinAdapters(): void {
  registerAdapterType('mock', BUILTIN_ADAPTER_MODULES.mock, mock);
  registerAdapterType('fs', BUILTIN_ADAPTER_MODULES.fs, fs);
  registerAdapterType('fault', BUILTIN_ADAPTER_MODULES.fault, fault);
  registerAdapterType('redis', BUILTIN_ADAPTER_MODULES.redis, redis);
}
