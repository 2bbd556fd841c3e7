/**
 * The long-running tasks of the engine's Piscina pool, as plain data posted to the worker (ports
 * are transferred), and the control APIs each task exposes on its control port with comlink.
 */
import type { MessagePort } from 'node:worker_threads';
import type { KvCacheConfig } from '../config.ts';
import type { AdapterHostSpec } from '../l2/serve.ts';
import type { EvictionStatus } from '../controllers/eviction.ts';
import type { PrefetchRequest } from '../controllers/prefetch.ts';

/** What every task receives. */
export interface TaskBase {
  /** L1's handle, to attach in the worker. */
  readonly l1Handle: unknown;
  /** The control block (layout.ts). */
  readonly control: SharedArrayBuffer;
  /** The metric cells (metrics.ts). */
  readonly metrics: SharedArrayBuffer;
  /** The prefetch request table (layout.ts). */
  readonly prefetchTable: SharedArrayBuffer;
  /** The validated engine config. */
  readonly config: KvCacheConfig;
  /** URLs of the policy modules registered on the main thread (a controller imports them before building its policies). */
  readonly policyModules: readonly string[];
  /** The task exposes its control API here. */
  readonly controlPort: MessagePort;
  /** This start's claim word (start-claim.ts): the task claims it before it attaches to L1. */
  readonly startClaim: SharedArrayBuffer;
}

/** What a controller that loads or stores slots receives: a port to each adapter host and its generation. */
interface SlotControllerTask extends TaskBase {
  readonly adapterPorts: readonly MessagePort[];
  /** Per adapter, the generation of the host its port reaches (host-generations.ts). */
  readonly adapterGenerations: readonly number[];
}

/** Store controller task. */
export interface StoreTask extends SlotControllerTask {
  readonly kind: 'store';
}

/** Prefetch controller task. */
export interface PrefetchTask extends SlotControllerTask {
  readonly kind: 'prefetch';
  /** L1 owner id of the thread that submits requests: a request's read locks are handed to it. */
  readonly clientOwnerId: number;
}

/** Eviction controller task: ports and event rings of the adapters that have an eviction block. */
export interface EvictionTask extends TaskBase {
  readonly kind: 'eviction';
  readonly l2: readonly { readonly index: number; readonly port: MessagePort; readonly ring: SharedArrayBuffer }[];
}

/** Adapter host task: hosts one adapter; controllers connect through its control API. */
export interface AdapterTask extends TaskBase {
  readonly kind: 'adapter';
  /** The adapter to host, as an `AdapterHostThread` gets it too (its events: this adapter's L2 event ring). */
  readonly host: AdapterHostSpec;
  /** The host is served on each of these (the controllers' and the main thread's ends). */
  readonly hostPorts: readonly MessagePort[];
}

/** Any engine task. */
export type EngineTask = StoreTask | PrefetchTask | EvictionTask | AdapterTask;
/** The kinds of task, in the order close() stops them. */
export const TASK_KINDS = ['prefetch', 'store', 'eviction', 'adapter'] as const;

/** What every task answers on its control port. */
export interface TaskControlApi {
  /** Resolves once the task runs: its thread and its L1 owner id (for lock reclamation). */
  ready(): Promise<{ threadId: number; ownerId: number }>;
}

/** What a controller task (store, prefetch, eviction) answers on its control port. */
export interface ControllerControlApi extends TaskControlApi {
  /** Talks to adapter `index` through `port`, which reaches host `generation`, from now on (its host restarted). */
  replaceAdapter(index: number, port: MessagePort, generation: number): void;
}

/** The prefetch task's control API. */
export interface PrefetchControlApi extends ControllerControlApi {
  /** Queues a request; its result is published in the prefetch table. */
  submit(request: PrefetchRequest): void;
}

/** The eviction task's control API. */
export interface EvictionControlApi extends ControllerControlApi {
  /** Each tier's eviction policy report (name, tracked keys, state, estimated curve, sizing advice). */
  status(): EvictionStatus;
}

/** The adapter task's control API. */
export interface AdapterControlApi extends TaskControlApi {
  /** Serves the adapter host on one more port (a controller that restarted). */
  connect(port: MessagePort): void;
}
