// The public API of @kvtier/adapters. Importing it registers the built-in adapter types.
import { registerBuiltinAdapters } from './builtins.ts';

registerBuiltinAdapters();

export { BUILTIN_ADAPTER_MODULES, registerBuiltinAdapters } from './builtins.ts';
export { MockAdapter, type MockAdapterConfig } from './mock.ts';
export { DEFAULT_IO_THREADS, FsAdapter, type FsAdapterConfig } from './fs.ts';
export { FaultAdapter, type FaultAdapterConfig, type FaultCounts, type FaultOptions } from './fault.ts';
export { RedisAdapter, type RedisAdapterConfig } from './redis/adapter.ts';
export { Prng } from './prng.ts';
