/**
 * Hosting an adapter in a worker thread: create the adapter from its config and module URL, wrap
 * it in an {@link AdapterHost} over the attached L1, and serve it over comlink.
 */
import * as Comlink from 'comlink';
import { KvtierError } from '../errors.ts';
import { L1Manager } from '../l1/l1-manager.ts';
import { portEndpoint } from './endpoint.ts';
import { L2EventRing } from './event-ring.ts';
import type { AdapterConfig } from './adapter.ts';
import type { L2EventSink } from './events.ts';
import { ADAPTER_HOST_METHODS, type AdapterHostApi, type ServeAdapterHostOptions } from './host-api.ts';
import { AdapterHost, type SlotViews } from './host.ts';
import { importAdapterModule, registerAdapterTypes } from './registry.ts';

/** Options of {@link openAdapterHost}. */
export interface OpenAdapterHostOptions {
  readonly adapterIndex: number;
  readonly config: AdapterConfig;
  /** The module implementing `config.type` (`adapterModuleUrl(config.type)` on the main thread). */
  readonly moduleUrl: string;
  /** A registry snapshot from the main thread, for adapters that wrap others. */
  readonly adapterTypes?: Readonly<Record<string, string>>;
  /** L1 as attached in this thread. */
  readonly l1: SlotViews;
  readonly events?: L2EventSink;
}

/**
 * Creates the adapter of `config` from its module (imported by URL, so it works in a fresh
 * worker) and wraps it in a host. Resolves once the adapter is ready (an fs adapter has scanned
 * its directory).
 */
export async function openAdapterHost(options: OpenAdapterHostOptions): Promise<AdapterHost> {
  if (options.adapterTypes !== undefined) registerAdapterTypes(options.adapterTypes);
  const module = await importAdapterModule(options.moduleUrl);
  const field = `adapters[${options.adapterIndex}]`;
  const adapter = await module.createAdapter(options.config, { index: options.adapterIndex, field });
  return new AdapterHost({ adapter, index: options.adapterIndex, type: options.config.type, l1: options.l1, events: options.events });
}

/**
 * `api` with every {@link AdapterHostApi} method rejecting with a plain Error whose message starts
 * with the code (`KVT_ERR_ADAPTER: …`): comlink keeps only an error's message, and
 * `KvtierError.from` rebuilds the code from it on the other side.
 */
export function withCodedErrors(api: AdapterHostApi): AdapterHostApi {
  const coded: Record<string, unknown> = {};
  for (const method of ADAPTER_HOST_METHODS) {
    const fn = api[method] as (...args: unknown[]) => Promise<unknown>;
    coded[method] = (...args: unknown[]) => fn.apply(api, args).catch((err: unknown) => {
      const e = KvtierError.from(err);
      throw new Error(`${e.code}: ${e.message}`);
    });
  }
  return coded as unknown as AdapterHostApi;
}

/**
 * The caller's side of {@link withCodedErrors}: `remote` (a comlink proxy of a coded host) with
 * every method rejecting with a {@link KvtierError} that carries the host's original code.
 */
export function fromCodedErrors(remote: AdapterHostApi): AdapterHostApi {
  const api: Record<string, unknown> = {};
  for (const method of ADAPTER_HOST_METHODS) {
    const fn = remote[method] as (...args: unknown[]) => Promise<unknown>;
    api[method] = (...args: unknown[]) => fn(...args).catch((err: unknown) => {
      throw KvtierError.from(err);
    });
  }
  return api as unknown as AdapterHostApi;
}

/**
 * Hosts one adapter in this (worker) thread until a caller on `options.port` calls `close()`:
 * attaches L1, creates the adapter, exposes {@link AdapterHostApi} on the port with comlink
 * (errors coded as in {@link withCodedErrors}). Resolves after the adapter closed, L1 was
 * detached and the port closed. If the adapter cannot be created, every call on the port rejects
 * with that error until `close()`, and the returned promise rejects with it after that.
 */
export async function serveAdapterHost(options: ServeAdapterHostOptions): Promise<void> {
  const l1 = L1Manager.attach(options.l1Handle);
  let closed!: () => void;
  const untilClosed = new Promise<void>((resolve) => (closed = resolve));
  let failure: unknown;
  let api: AdapterHostApi;
  try {
    const host = await openAdapterHost({
      adapterIndex: options.adapterIndex, config: options.config, moduleUrl: options.moduleUrl, adapterTypes: options.adapterTypes,
      l1, events: options.events === undefined ? undefined : new L2EventRing(options.events),
    });
    api = host;
  } catch (err) {
    failure = err;
    api = failingApi(err);
  }
  const served = withCodedErrors(api);
  const close = served.close;
  served.close = () => close().finally(closed);
  Comlink.expose(served, portEndpoint(options.port));
  await untilClosed;
  // Let comlink post close()'s answer before the port goes.
  await new Promise((resolve) => setImmediate(resolve));
  options.port.close();
  l1.detach();
  if (failure !== undefined) throw failure;
}

/** An API whose every call but `close` rejects with `err`. */
function failingApi(err: unknown): AdapterHostApi {
  const api: Record<string, unknown> = {};
  for (const method of ADAPTER_HOST_METHODS) api[method] = method === 'close' ? async () => {} : () => Promise.reject(err);
  return api as unknown as AdapterHostApi;
}
