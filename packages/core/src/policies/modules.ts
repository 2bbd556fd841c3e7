/**
 * Policy modules: custom policies that also exist in the engine's worker threads. Each registry is
 * per thread, and the store, prefetch and eviction controllers build their policies in workers,
 * so a policy registered on the main thread alone cannot be used in a cache config. A policy
 * module (a `file:` URL a worker can `import()`) exports its factories by name; registering the
 * module registers them here, and every controller task imports the same modules before it builds
 * its policies. `validateConfig` accepts only built-in policies and those of policy modules.
 */
import { ErrorCode, KvtierError, invalidArgument } from '../errors.ts';
import type { EvictionPolicyFactory } from './eviction.ts';
import { evictionPolicyNames, registerEvictionPolicy } from './eviction-policies.ts';
import { prefetchPolicyNames, registerPrefetchPolicy, type PrefetchPolicyFactory } from './prefetch.ts';
import { registerStorePolicy, storePolicyNames, type StorePolicyFactory } from './store.ts';

/** What a policy module exports: factories by policy name, of any of the three kinds. */
export interface PolicyModule {
  readonly evictionPolicies?: Readonly<Record<string, EvictionPolicyFactory>>;
  readonly storePolicies?: Readonly<Record<string, StorePolicyFactory>>;
  readonly prefetchPolicies?: Readonly<Record<string, PrefetchPolicyFactory>>;
}

/** The kinds of policy, as config fields name them. */
export type PolicyKind = 'eviction' | 'store' | 'prefetch';

const REGISTER = {
  eviction: (name: string, f: unknown) => registerEvictionPolicy(name, f as EvictionPolicyFactory),
  store: (name: string, f: unknown) => registerStorePolicy(name, f as StorePolicyFactory),
  prefetch: (name: string, f: unknown) => registerPrefetchPolicy(name, f as PrefetchPolicyFactory),
} as const;
const EXPORT = { eviction: 'evictionPolicies', store: 'storePolicies', prefetch: 'prefetchPolicies' } as const;

/** Names every thread has: registered by core itself (this file is evaluated before any user code). */
const BUILT_IN: Readonly<Record<PolicyKind, ReadonlySet<string>>> = {
  eviction: new Set(evictionPolicyNames()),
  store: new Set(storePolicyNames()),
  prefetch: new Set(prefetchPolicyNames()),
};
/** Registered modules by URL (the promise of their import and registration). */
const modules = new Map<string, Promise<void>>();
/** Names registered from modules, per kind. */
const fromModules: Record<PolicyKind, Set<string>> = { eviction: new Set(), store: new Set(), prefetch: new Set() };

async function load(moduleUrl: string): Promise<void> {
  let module: PolicyModule;
  try {
    module = await import(moduleUrl) as PolicyModule;
  } catch (err) {
    throw new KvtierError(ErrorCode.CONFIG, `cannot import policy module ${moduleUrl}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  const kinds = (Object.keys(EXPORT) as PolicyKind[]).filter((kind) => module[EXPORT[kind]] !== undefined);
  if (kinds.length === 0) {
    throw new KvtierError(ErrorCode.CONFIG, `policy module ${moduleUrl} exports none of evictionPolicies, storePolicies, prefetchPolicies`);
  }
  for (const kind of kinds) {
    for (const [name, factory] of Object.entries(module[EXPORT[kind]]!)) {
      REGISTER[kind](name, factory);
      fromModules[kind].add(name);
    }
  }
}

/**
 * Imports the policy module at `moduleUrl` and registers its policies on this thread; the engine's
 * workers import it too. Registering a URL again is harmless; a policy name taken already throws.
 * @throws KvtierError `KVT_ERR_CONFIG` when the module cannot be imported or exports no policies.
 */
export function registerPolicyModule(moduleUrl: string): Promise<void> {
  if (typeof moduleUrl !== 'string' || !URL.canParse(moduleUrl)) invalidArgument(`policy moduleUrl must be a URL, got ${JSON.stringify(moduleUrl)}`);
  let loading = modules.get(moduleUrl);
  if (loading === undefined) {
    loading = load(moduleUrl);
    modules.set(moduleUrl, loading);
    loading.catch(() => modules.delete(moduleUrl));
  }
  return loading;
}

/** URLs of the registered policy modules: plain data to post to a worker. */
export function registeredPolicyModules(): string[] {
  return [...modules.keys()];
}

/** Whether worker threads can build policy `name` of `kind`: a built-in, or from a policy module. */
export function isWorkerPolicy(kind: PolicyKind, name: string): boolean {
  return BUILT_IN[kind].has(name) || fromModules[kind].has(name);
}

/** Registers every module of a {@link registeredPolicyModules} list taken on another thread (a worker's side). */
export async function loadPolicyModules(moduleUrls: readonly string[]): Promise<void> {
  await Promise.all(moduleUrls.map(registerPolicyModule));
}
