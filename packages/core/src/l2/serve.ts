/**
 * The one way a thread hosts an adapter, for an engine pool task and an `AdapterHostThread`
 * alike: create the adapter from its config and module URL, wrap it in an {@link AdapterHost}
 * over the L1 attached in this thread, and give it the coded API that thread exposes on its
 * comlink ports.
 */
import type { L1Handle } from '../l1/api.ts';
import type { AdapterConfig } from './adapter.ts';
import { callOn, codedHostApi, type HostCall } from './coded-errors.ts';
import { L2EventRing } from './event-ring.ts';
import type { AdapterHostApi } from './host-api.ts';
import { AdapterHost, type SlotViews } from './host.ts';
import { importAdapterModule, registerAdapterTypes } from './registry.ts';

/**
 * What hosting one adapter takes: plain data the main thread posts to the hosting thread, which
 * imports the module by URL itself (a fresh worker has no registry of its own).
 */
export interface AdapterHostSpec {
  /** `L1Manager.handle` of the engine's L1; the hosting thread attaches to it to view slots. */
  readonly l1Handle: L1Handle;
  /** The adapter's index in the config's adapter list (metrics label, error messages). */
  readonly adapterIndex: number;
  /** The adapter's config, already validated on the main thread. */
  readonly config: AdapterConfig;
  /** `adapterModuleUrl(config.type)` from the main thread. */
  readonly moduleUrl: string;
  /** `registeredAdapterTypes()` from the main thread, for adapters that wrap others (`fault`). */
  readonly adapterTypes?: Readonly<Record<string, string>>;
  /** The buffer of this adapter's `L2EventRing` (the host is its producer); no events when absent. */
  readonly events?: SharedArrayBuffer;
  /** Hosts of this adapter that ran before this one (the engine restarts a dead host); 0 when absent. */
  readonly generation?: number;
  /** `AdapterContext.lineage`: the same for every host generation of this adapter; absent outside an engine. */
  readonly lineage?: string;
}

/** Creates the adapter of `spec` and wraps it in a host; resolves once the adapter is ready (an fs adapter has scanned its directory). */
async function openAdapterHost(spec: AdapterHostSpec, l1: SlotViews): Promise<AdapterHost> {
  if (spec.adapterTypes !== undefined) registerAdapterTypes(spec.adapterTypes);
  const module = await importAdapterModule(spec.moduleUrl);
  const index = spec.adapterIndex;
  const adapter = await module.createAdapter(spec.config, { index, field: `adapters[${index}]`, generation: spec.generation, lineage: spec.lineage });
  const events = spec.events === undefined ? undefined : new L2EventRing(spec.events);
  return new AdapterHost({ adapter, index, type: spec.config.type, l1, events });
}

/** An adapter host as its thread serves it: expose {@link api} on each port; {@link closed} says when to end. */
export class ServedAdapterHost {
  /** The host's API with errors coded for comlink (coded-errors.ts); its `close` is {@link close}. */
  readonly api: AdapterHostApi;
  /** Resolves once the host was closed, by {@link close} or by a caller over a port. */
  readonly closed: Promise<void>;
  readonly #call: HostCall;
  #resolveClosed!: () => void;

  private constructor(call: HostCall) {
    this.#call = call;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.api = codedHostApi('encode', (method, args) => (method === 'close' ? this.close() : call(method, args)));
  }

  /** Creates the adapter of `spec` over `l1` (as attached in this thread); rejects with its creation error. */
  static async open(spec: AdapterHostSpec, l1: SlotViews): Promise<ServedAdapterHost> {
    return new ServedAdapterHost(callOn(await openAdapterHost(spec, l1)));
  }

  /**
   * A host whose adapter could not be created: every call but `close` rejects with `err`, so a
   * caller that can only reach it over a port learns why.
   */
  static failed(err: unknown): ServedAdapterHost {
    return new ServedAdapterHost((method) => (method === 'close' ? Promise.resolve() : Promise.reject(err)));
  }

  /** Closes the adapter (releasing every pin) and resolves {@link closed}; rejects as the adapter's close does. */
  close(): Promise<void> {
    return (this.#call('close', []) as Promise<void>).finally(this.#resolveClosed);
  }
}
