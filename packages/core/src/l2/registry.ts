/**
 * Adapter type registry. Core never imports `@kvtier/adapters`: an adapter package registers its
 * types when it is imported (`@kvtier/adapters` registers `mock`, `fs` and `fault`), giving each
 * type the URL of its module and the module itself.
 *
 * Threads: the registry is per thread. The main thread validates configs with the registered
 * modules (synchronously) and hands each adapter worker the module URL
 * (`adapterModuleUrl(config.type)`) plus a snapshot of the registry
 * (`registeredAdapterTypes()`, for adapters that wrap others, like `fault`); the worker imports
 * the module by URL (`importAdapterModule`) and calls its `createAdapter`.
 */
import { ErrorCode, KvtierError, invalidArgument } from '../errors.ts';
import type { AdapterModule } from './adapter.ts';

interface Registration {
  readonly moduleUrl: string;
  readonly module: AdapterModule | undefined;
}

const TYPE_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
const registrations = new Map<string, Registration>();

function assertModule(module: unknown, moduleUrl: string): asserts module is AdapterModule {
  const m = module as Partial<AdapterModule> | null;
  if (m === null || typeof m !== 'object' || typeof m.createAdapter !== 'function' || typeof m.validateConfig !== 'function') {
    throw new KvtierError(ErrorCode.ADAPTER, `adapter module ${moduleUrl} must export functions createAdapter and validateConfig`);
  }
}

/**
 * Registers adapter `type`, implemented by the module at `moduleUrl` (a `file:` URL a worker can
 * `import()`). Pass `module` (the same module, already imported) where it is at hand so that
 * configs of this type can be validated synchronously on this thread. Registering a type again
 * with the same URL is harmless (it fills in `module` if given); with another URL it throws.
 */
export function registerAdapterType(type: string, moduleUrl: string, module?: AdapterModule): void {
  if (typeof type !== 'string' || !TYPE_NAME.test(type)) invalidArgument(`adapter type must match ${TYPE_NAME}, got ${JSON.stringify(type)}`);
  if (typeof moduleUrl !== 'string' || !URL.canParse(moduleUrl)) invalidArgument(`adapter type '${type}': moduleUrl must be a URL, got ${JSON.stringify(moduleUrl)}`);
  if (module !== undefined) assertModule(module, moduleUrl);
  const previous = registrations.get(type);
  if (previous !== undefined && previous.moduleUrl !== moduleUrl) {
    invalidArgument(`adapter type '${type}' is already registered with module ${previous.moduleUrl}`);
  }
  registrations.set(type, { moduleUrl, module: module ?? previous?.module });
}

/**
 * Registers every `type -> moduleUrl` of a {@link registeredAdapterTypes} snapshot taken on
 * another thread (types registered here already are kept).
 */
export function registerAdapterTypes(types: Readonly<Record<string, string>>): void {
  for (const [type, moduleUrl] of Object.entries(types)) {
    if (!registrations.has(type)) registerAdapterType(type, moduleUrl);
  }
}

/** `type -> moduleUrl` of every registered type: plain data to post to a worker. */
export function registeredAdapterTypes(): Record<string, string> {
  return Object.fromEntries([...registrations].map(([type, r]) => [type, r.moduleUrl]));
}

function unknownType(type: unknown, field: string): never {
  const known = [...registrations.keys()].sort();
  throw new KvtierError(
    ErrorCode.CONFIG,
    `config.${field}.type: unknown adapter type ${JSON.stringify(type)} (registered: ${known.length ? known.join(', ') : 'none'}; ` +
      `import '@kvtier/adapters' to register the built-in types)`,
  );
}

/** The module URL of a registered type; throws CONFIG naming `${field}.type` for an unknown type. */
export function adapterModuleUrl(type: string, field = 'adapter'): string {
  return registrations.get(type)?.moduleUrl ?? unknownType(type, field);
}

/**
 * The module of a registered type: the one given at registration, else imported from its URL.
 * Throws CONFIG naming `${field}.type` for an unknown type.
 */
export async function adapterModule(type: string, field = 'adapter'): Promise<AdapterModule> {
  const r = registrations.get(type) ?? unknownType(type, field);
  return r.module ?? importAdapterModule(r.moduleUrl);
}

/** The module of a registered type when it was registered with one (for synchronous validation). */
export function registeredAdapterModule(type: string, field = 'adapter'): AdapterModule | undefined {
  return (registrations.get(type) ?? unknownType(type, field)).module;
}

/** Imports an adapter module by URL and checks that it exports the {@link AdapterModule} functions. */
export async function importAdapterModule(moduleUrl: string): Promise<AdapterModule> {
  let module: unknown;
  try {
    module = await import(moduleUrl);
  } catch (err) {
    throw new KvtierError(ErrorCode.ADAPTER, `cannot import adapter module ${moduleUrl}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  assertModule(module, moduleUrl);
  return module;
}
