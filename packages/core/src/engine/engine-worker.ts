/**
 * The Piscina worker entry: runs one long-running engine task (store, prefetch or eviction
 * controller, or one adapter host) until its stop word is set. Comlink proxies and the adapter
 * host live in module-level fields for the task's whole life (a collected proxy hangs its call).
 */
import { threadId, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { EvictionController, type L2EvictionTarget } from '../controllers/eviction.ts';
import { PrefetchController } from '../controllers/prefetch.ts';
import { runStoreController } from '../controllers/store.ts';
import { rangeKeys } from '../digest-batch.ts';
import { ErrorCode, KvtierError } from '../errors.ts';
import type { AdapterHostApi } from '../l2/host-api.ts';
import { ServedAdapterHost } from '../l2/serve.ts';
import { Metrics } from '../metrics.ts';
import { createEvictionPolicy } from '../policies/eviction-policies.ts';
import { createPrefetchPolicy } from '../policies/prefetch.ts';
import { loadPolicyModules } from '../policies/modules.ts';
import { createStorePolicy } from '../policies/store.ts';
import { portEndpoint } from '../l2/endpoint.ts';
import type { L1Handle } from '../l1/api.ts';
import { L1Manager } from '../l1/l1-manager.ts';
import { HostGenerations } from './host-generations.ts';
import { L2EventRing } from '../l2/event-ring.ts';
import { Control } from './layout.ts';
import { claimStart } from './start-claim.ts';
import { PrefetchTable, type StateWord } from './prefetch-table.ts';
import {
  TASK_KINDS, type AdapterControlApi, type AdapterTask, type ControllerControlApi, type EngineTask, type EvictionControlApi, type EvictionTask, type PrefetchControlApi,
  type PrefetchTask, type StoreTask, type TaskControlApi,
} from './tasks.ts';
import { waitWord } from '../shm/wake.ts';

/** Everything this thread must keep referenced while its task runs (proxies, exposed APIs, the host). */
const live: unknown[] = [];
/** The task's ports, closed when it ends so the thread holds nothing of a finished task. */
const ports: MessagePort[] = [];
/** The task's L1 attachment, detached when it ends: every lock it still holds is released. */
let attached: L1Manager | undefined;

function wrapAdapter(port: MessagePort): AdapterHostApi {
  const proxy = Comlink.wrap<AdapterHostApi>(portEndpoint(port));
  live.push(proxy);
  ports.push(port);
  return proxy as unknown as AdapterHostApi;
}

function expose(api: object, port: MessagePort): void {
  live.push(api);
  ports.push(port);
  Comlink.expose(api, portEndpoint(port));
}

interface TaskRuntime {
  readonly l1: L1Manager;
  readonly control: Int32Array;
  readonly metrics: Metrics;
  stopped(): boolean;
  /** Resolves once this task's stop word is set. */
  untilStopped(): Promise<void>;
}

function runtime(task: EngineTask): TaskRuntime {
  // Claimed first: a start the main thread gave up never attaches, and one it gives up later is
  // known to be this thread's, so its owner id is reclaimed (start-claim.ts).
  if (!claimStart(task.startClaim, threadId)) throw new KvtierError(ErrorCode.WORKER, `the ${task.kind} task was given up before it attached to L1`);
  const l1 = L1Manager.attach(task.l1Handle as L1Handle);
  attached = l1;
  const control = new Int32Array(task.control);
  const stopWord = Control.STOP + TASK_KINDS.indexOf(task.kind);
  return {
    l1,
    control,
    metrics: new Metrics(task.metrics),
    stopped: () => Atomics.load(control, stopWord) !== 0,
    untilStopped: async () => {
      while (Atomics.load(control, stopWord) === 0) await waitWord(control, stopWord, 0, Infinity);
    },
  };
}

function readyApi(rt: TaskRuntime): TaskControlApi {
  return { ready: async () => ({ threadId, ownerId: rt.l1.ownerId }) };
}

/** The control API of a controller over its (mutable) list of adapter proxies and their host generations. */
function controllerApi(rt: TaskRuntime, adapters: AdapterHostApi[], hosts: HostGenerations): ControllerControlApi {
  return {
    ...readyApi(rt),
    replaceAdapter: (index, port, generation) => {
      adapters[index] = wrapAdapter(port);
      hosts.connect(index, generation);
    },
  };
}

async function storeTask(task: StoreTask): Promise<void> {
  await loadPolicyModules(task.policyModules);
  const rt = runtime(task);
  const adapters = task.adapterPorts.map(wrapAdapter);
  const hosts = new HostGenerations(rt.control, task.adapterGenerations, 'store');
  expose(controllerApi(rt, adapters, hosts), task.controlPort);
  const { store, adapterCallTimeoutMs } = task.config;
  await runStoreController({
    l1: rt.l1,
    adapters,
    hosts,
    policy: createStorePolicy(task.config.storePolicy),
    metrics: rt.metrics,
    adapterCallTimeoutMs,
    ...store,
    waitDirty: async (ms) => { await rt.l1.waitDirtyAsync(ms); },
    stopped: rt.stopped,
  });
}

async function prefetchTask(task: PrefetchTask): Promise<void> {
  await loadPolicyModules(task.policyModules);
  const rt = runtime(task);
  const table = new PrefetchTable(task.prefetchTable);
  const adapters = task.adapterPorts.map(wrapAdapter);
  const hosts = new HostGenerations(rt.control, task.adapterGenerations, 'prefetch');
  const controller = new PrefetchController({
    l1: rt.l1,
    adapters,
    hosts,
    policy: createPrefetchPolicy(task.config.prefetchPolicy),
    metrics: rt.metrics,
    adapterCallTimeoutMs: task.config.adapterCallTimeoutMs,
    maxInFlight: task.config.prefetchMaxInFlight,
    publish({ requestId, keys, extraCount }, l2PrefixHits, error) {
      const held = rangeKeys(keys, 0, l2PrefixHits);
      // The locks become the engine thread's in the same step as the result: if this worker dies,
      // its reclamation neither drops locks the user was told about nor leaves any it was not.
      const handOver = l2PrefixHits > 0 ? (state: StateWord) => { rt.l1.handOverReads(held, task.clientOwnerId, { extraCount, publish: state }); } : undefined;
      // Not published: no one will read this result, so its locks are nobody's.
      if (!table.publish(requestId, l2PrefixHits, error?.code, handOver) && l2PrefixHits > 0) rt.l1.finishRead(held, { extraCount });
    },
  });
  const api: PrefetchControlApi = {
    ...controllerApi(rt, adapters, hosts),
    submit: (request) => controller.submit(request),
  };
  expose(api, task.controlPort);
  await rt.untilStopped();
  await controller.stop();
}

async function evictionTask(task: EvictionTask): Promise<void> {
  await loadPolicyModules(task.policyModules);
  const rt = runtime(task);
  const { config } = task;
  const l2: L2EvictionTarget[] = task.l2.map(({ index, port, ring }) => {
    const eviction = config.adapters[index].eviction!;
    const events = new L2EventRing(ring);
    live.push(events);
    return {
      index,
      adapter: wrapAdapter(port),
      policy: createEvictionPolicy<string>(eviction.policy),
      watermark: eviction.watermark,
      ratio: eviction.ratio,
      drainEvents: (visit: Parameters<L2EventRing['drain']>[0]) => { events.drain(visit); },
    };
  });
  const controller = new EvictionController({
    l1: rt.l1,
    l1Policy: createEvictionPolicy<string>(config.l1Eviction.policy, { capacity: rt.l1.usage().totalSlots }),
    l1Eviction: config.l1Eviction,
    l2,
    metrics: rt.metrics,
    adapterCallTimeoutMs: config.adapterCallTimeoutMs,
    intervalMs: config.evictionIntervalMs,
    reconcileIntervalMs: config.reconcileIntervalMs,
    wait: async (ms) => { await rt.l1.waitEmergencyAsync(rt.l1.emergencySeq(), ms); },
    stopped: rt.stopped,
  });
  expose({
    ...readyApi(rt),
    replaceAdapter: (index, port) => {
      const target = l2.find((t) => t.index === index);
      if (target !== undefined) target.adapter = wrapAdapter(port);
    },
    status: () => controller.status(),
  } satisfies EvictionControlApi, task.controlPort);
  await controller.run();
}

async function adapterTask(task: AdapterTask): Promise<void> {
  const rt = runtime(task);
  const served = await ServedAdapterHost.open(task.host, rt.l1);
  live.push(served);
  // One coded API on every port: each caller sees the host's error codes (comlink keeps only messages).
  for (const port of task.hostPorts) expose(served.api, port);
  const api: AdapterControlApi = {
    ...readyApi(rt),
    connect: (port) => expose(served.api, port),
  };
  expose(api, task.controlPort);
  await rt.untilStopped();
  await served.close();
}

/** Runs one engine task to its end. Errors leave as `{code, message}`-bearing Errors. */
export default async function runEngineTask(task: EngineTask): Promise<void> {
  try {
    switch (task.kind) {
      case 'store': return await storeTask(task);
      case 'prefetch': return await prefetchTask(task);
      case 'eviction': return await evictionTask(task);
      case 'adapter': return await adapterTask(task);
    }
  } catch (err) {
    const e = KvtierError.from(err);
    throw new Error(`${e.code}: ${e.message} (in the ${task.kind} task)`);
  } finally {
    for (const port of ports.splice(0)) port.close();
    live.length = 0;
    attached?.detach();
    attached = undefined;
  }
}
