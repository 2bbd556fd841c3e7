/**
 * The engine's threads, seen from the main thread: ONE Piscina pool with one long-running task
 * per controller and per adapter, their comlink control ports, prefetch routing and ordered stop.
 *
 * A task that ends while its kind is not being stopped crashed: supervisor.ts handles that and
 * restarts it through this pool — a controller task with fresh ports to every adapter host.
 */
import { randomBytes } from 'node:crypto';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { Piscina } from 'piscina';
import type { EvictionStatus } from '../controllers/eviction.ts';
import type { PrefetchRequest } from '../controllers/prefetch.ts';
import { withDeadline } from '../deadline.ts';
import { ErrorCode, KvtierError } from '../errors.ts';
import type { AdapterHostApi } from '../l2/host-api.ts';
import { adapterModuleUrl, registeredAdapterTypes } from '../l2/registry.ts';
import { callOn, codedHostApi } from '../l2/coded-errors.ts';
import { registeredPolicyModules } from '../policies/modules.ts';
import { portEndpoint } from '../l2/endpoint.ts';
import { L2EventRing } from '../l2/event-ring.ts';
import { workerEntry } from '../module-url.ts';
import { Control } from './layout.ts';
import { abandonStart, newStartClaim } from './start-claim.ts';
import {
  TASK_KINDS, type AdapterControlApi, type ControllerControlApi, type EvictionControlApi, type EngineTask, type PrefetchControlApi, type TaskBase, type TaskControlApi,
} from './tasks.ts';
import { Supervisor, type SupervisedTask, type SupervisorOptions } from './supervisor.ts';

/** Records per L2 event ring. */
const L2_RING_RECORDS = 16_384;

type ControllerKind = 'store' | 'prefetch' | 'eviction';

/**
 * Why adapter `index` of `type` could not start, as `open` reports it: a config error stays one
 * (its message names the field); anything else (the machine refused, the module failed, the host
 * was not ready in time) is `KVT_ERR_ADAPTER` naming the adapter and the cause.
 */
function adapterStartError(index: number, type: string, err: unknown): KvtierError {
  const cause = KvtierError.from(err);
  if (cause.code === ErrorCode.CONFIG) return cause;
  return new KvtierError(ErrorCode.ADAPTER, `adapters[${index}] (type '${type}') could not start: ${cause.message}`, { cause });
}


/** One running task. */
interface Running extends SupervisedTask {
  readonly control: Comlink.Remote<TaskControlApi>;
  threadId: number;
  ownerId: number;
}

/** What {@link EngineWorkers.start} needs. */
export interface EngineWorkersOptions extends SupervisorOptions {
  readonly prefetchTable: SharedArrayBuffer;
}

/** The pool, its tasks and the main thread's proxies to them. */
export class EngineWorkers {
  readonly #options: EngineWorkersOptions;
  readonly #pool: Piscina;
  readonly #control: Int32Array;
  /** Each adapter's L2 event ring: its host writes it, the eviction controller reads it. */
  readonly #rings: L2EventRing[];
  readonly #running = new Map<string, Running>();
  readonly #supervisor: Supervisor;
  /** Proxies kept in fields for the engine's life: a collected proxy hangs its call. */
  readonly #adapterControls: Comlink.Remote<AdapterControlApi>[] = [];
  /** The main thread's view of each host (it holds its proxy): its rejections are KvtierErrors with the host's codes. */
  readonly #adapterHosts: AdapterHostApi[] = [];
  /** Per adapter, what rejects every call still pending on (or later sent to) its current host once that host dies. */
  readonly #hostDied: (() => void)[] = [];
  /**
   * Per adapter, why its latest start failed (`adapterStartError`); undefined once a start
   * succeeded. A controller that connects after a failed restart ends with it instead of asking
   * the dead host for a port.
   */
  readonly #hostStartFailures: (KvtierError | undefined)[] = [];
  /** Per adapter, `AdapterContext.lineage`: one for all its host generations. */
  readonly #lineages: string[];
  /** Per adapter, the generation of its running host (host-generations.ts). */
  readonly #hostGenerations: number[] = [];
  /**
   * Per adapter whose host died and restarts, what resolves once the restart ended: a controller
   * that connects meanwhile waits for the new host (a call on the dead one's port never answers).
   */
  readonly #hostRestarts = new Map<number, { readonly done: Promise<void>; readonly end: () => void }>();
  /** The running prefetch worker's control proxy; undefined from its death until its successor is ready. */
  #prefetch: Comlink.Remote<PrefetchControlApi> | undefined;
  /** Requests submitted while the prefetch worker restarts; null while none restarts. */
  #prefetchQueue: PrefetchRequest[] | null = null;
  /** The running eviction worker's control proxy (policy status); undefined from its death until its successor is ready. */
  #eviction: Comlink.Remote<EvictionControlApi> | undefined;
  /** Each running controller's control proxy, to hand it a restarted adapter host. */
  readonly #controllers = new Map<ControllerKind, Comlink.Remote<ControllerControlApi>>();
  /**
   * Per task name whose start is not ready yet: `giveUp` gives it up now (stop does), and `ended`
   * resolves once it became ready or was given up (its thread ended, its L1 owner reclaimed).
   */
  readonly #notReady = new Map<string, { readonly giveUp: () => void; readonly ended: Promise<void> }>();

  private constructor(options: EngineWorkersOptions) {
    this.#options = options;
    const adapters = options.config.adapters.length;
    this.#control = new Int32Array(options.control);
    this.#rings = options.config.adapters.map(() => new L2EventRing(L2_RING_RECORDS));
    this.#lineages = options.config.adapters.map(() => randomBytes(8).toString('hex'));
    this.#supervisor = new Supervisor(options, {
      terminate: (name) => this.terminate(name),
      died: (task) => this.#died(task),
      isQueued: (requestId) => this.#prefetchQueue?.some((r) => r.requestId === requestId) ?? false,
      dropPrefetchQueue: () => {
        if (this.#prefetch !== undefined) return false;
        this.#prefetchQueue = null;
        return true;
      },
    });
    this.#pool = new Piscina({
      filename: workerEntry('./engine-worker', import.meta.url).href,
      minThreads: 3 + adapters,
      maxThreads: 3 + adapters,
      idleTimeout: Infinity,
      atomics: 'disabled',
      concurrentTasksPerWorker: 1,
      // From sources engine-worker.mjs registers tsx in the worker itself (see there): nothing to pass.
      execArgv: [],
    });
    // Piscina emits 'error' for a worker that died outside a task; the task's own rejection reports it.
    this.#pool.on('error', () => {});
  }

  /** Starts the adapter hosts, then the store, prefetch and eviction controllers. */
  static async start(options: EngineWorkersOptions): Promise<EngineWorkers> {
    const workers = new EngineWorkers(options);
    try {
      await Promise.all(options.config.adapters.map((_, i) => workers.#startAdapter(i)));
      await Promise.all((['store', 'prefetch', 'eviction'] as const).map((k) => workers.#startController(k)));
      void workers.#supervisor.serveTerminationRequests();
    } catch (err) {
      await workers.#abort();
      throw err;
    }
    return workers;
  }

  /** The main thread's proxy to each adapter host (status, metrics, pin counts, tests). */
  get adapters(): readonly AdapterHostApi[] {
    return this.#adapterHosts;
  }

  /** Health per task name (`store`, `prefetch`, `eviction`, `adapter[i]`). */
  get health(): ReadonlyMap<string, boolean> {
    return this.#supervisor.health;
  }

  /**
   * Each tier's eviction policy report from the eviction worker; undefined while none runs (it
   * died and its successor is not ready) or when it does not answer within `timeoutMs`.
   */
  async evictionStatus(timeoutMs: number): Promise<EvictionStatus | undefined> {
    const eviction = this.#eviction;
    if (eviction === undefined) return undefined;
    return await withDeadline(eviction.status(), timeoutMs, 'eviction status').catch(() => undefined);
  }

  /** Events each adapter's L2 ring dropped because it was full, in index order. */
  droppedL2Events(): number[] {
    return this.#rings.map((r) => r.dropped);
  }

  /** Thread id of the task named `name`, or undefined. */
  threadIdOf(name: string): number | undefined {
    return this.#running.get(name)?.threadId;
  }

  /**
   * Hands a prefetch request to the prefetch worker, or queues it for the worker's successor
   * while a dead one restarts. Throws `KVT_ERR_WORKER` when no prefetch worker runs or restarts.
   */
  submitPrefetch(request: PrefetchRequest): void {
    if (this.#prefetch !== undefined) this.#sendPrefetch(this.#prefetch, request);
    else if (this.#prefetchQueue !== null) this.#prefetchQueue.push(request);
    else throw new KvtierError(ErrorCode.WORKER, 'the prefetch worker is not running');
  }

  #sendPrefetch(prefetch: Comlink.Remote<PrefetchControlApi>, r: PrefetchRequest): void {
    // A worker that dies with the call unanswered: onPrefetchLost fails the request.
    void prefetch.submit(Comlink.transfer(r, [r.keys.buffer])).catch(() => {});
  }

  /** Supervision saw `task` dead: nothing is routed to it any more. */
  #died(task: SupervisedTask): void {
    if (task.kind === 'prefetch') {
      // From now on requests wait for the successor: none goes to the dead worker's port.
      this.#prefetch = undefined;
      this.#prefetchQueue ??= [];
    }
    if (task.kind === 'eviction') {
      this.#eviction = undefined;
      // Its thread is gone, its successor not started: a drain it died inside keeps no consumer out.
      for (const ring of this.#rings) ring.forgetConsumer();
    }
    if (task.kind === 'adapter') {
      this.#hostDied[task.adapter]?.();
      // Its thread is gone and its successor not started: what it claimed in its ring and never published is skipped.
      this.#rings[task.adapter].forgetProducer();
      let end = () => {};
      const done = new Promise<void>((resolve) => { end = resolve; });
      this.#hostRestarts.set(task.adapter, { done, end });
    } else {
      // A restarting adapter host must not wait on this dead controller; its successor gets fresh ports.
      this.#controllers.delete(task.kind);
    }
  }

  /**
   * Terminates the thread running task `name` (`store`, `prefetch`, `eviction`, `adapter[i]`), as
   * a crash would; supervision then reclaims and restarts it. For tests of crash handling.
   */
  async terminate(name: string): Promise<void> {
    const threadId = this.threadIdOf(name);
    const thread = this.#pool.threads.find((t) => t.threadId === threadId);
    if (thread === undefined) throw new KvtierError(ErrorCode.WORKER, `no thread runs the ${name} task`);
    await thread.terminate();
  }

  #base(controlPort: MessagePort): TaskBase {
    const o = this.#options;
    return {
      l1Handle: o.l1.handle, control: o.control, metrics: o.metrics.buffer, prefetchTable: o.prefetchTable, config: o.config,
      policyModules: registeredPolicyModules(), controlPort, startClaim: newStartClaim(),
    };
  }

  /**
   * Runs `task` and waits for it to report ready; supervises its end. A start that is not ready in
   * time, or that stop gives up, is abandoned (`#abandon`): one stuck before ready (an adapter
   * hanging in `createAdapter`) would otherwise never end, and whoever waits on its end —
   * `#connectAdapter`, `stop` — would wait forever.
   */
  async #launch<T extends TaskControlApi>(name: string, task: EngineTask, transfer: MessagePort[], controlEnd: MessagePort, restart: () => Promise<void>): Promise<Comlink.Remote<T>> {
    const control = Comlink.wrap<T>(portEndpoint(controlEnd));
    const notReady = new AbortController();
    const done = this.#pool.run(task, { transferList: [task.controlPort, ...transfer] as never, signal: notReady.signal }) as Promise<void>;
    const running: Running = { name, kind: task.kind, adapter: task.kind === 'adapter' ? task.host.adapterIndex : -1, done, control: control as unknown as Comlink.Remote<TaskControlApi>, threadId: -1, ownerId: -1 };
    this.#running.set(name, running);
    let ended = false;
    done.then(() => { ended = true; }, () => { ended = true; }); // supervised once ready; a task that fails before is this start's failure
    let timer: NodeJS.Timeout | undefined;
    let giveUp = () => {};
    const ms = this.#options.config.workerReadyTimeoutMs;
    const ready = Promise.race([
      control.ready(),
      done.then(() => { throw new KvtierError(ErrorCode.WORKER, `the ${name} task ended before it was ready`); }),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new KvtierError(ErrorCode.WORKER, `the ${name} task was not ready within ${ms} ms`)), ms); }),
      new Promise<never>((_, reject) => { giveUp = () => reject(new KvtierError(ErrorCode.WORKER, `the ${name} task was stopped before it was ready`)); }),
    ]).catch(async (err: unknown) => {
      // A task that ended by itself detached from L1 as it ended; its thread may already run another task.
      if (!ended) await this.#abandon(name, task.startClaim, notReady);
      // A run dropped from the queue never got its ports: open, the control end would keep the process alive.
      for (const port of [controlEnd, task.controlPort, ...transfer]) port.close();
      throw KvtierError.from(err);
    }).finally(() => {
      clearTimeout(timer);
      this.#notReady.delete(name);
    });
    this.#notReady.set(name, { giveUp, ended: ready.then(() => {}, () => {}) });
    // A stop that came while this start was on its way (a restart connecting to its hosts) gives it up at once.
    if (this.#supervisor.stopping(task.kind)) giveUp();
    const { threadId, ownerId } = await ready;
    running.threadId = threadId;
    running.ownerId = ownerId;
    this.#supervisor.watch(running, restart);
    this.#supervisor.setHealthy(name, true);
    return control;
  }

  /**
   * Gives up the start of task `name` that is not ready and has not ended: its thread is ended and
   * the L1 owner ids it registered reclaimed, as for a crashed task (else each such start leaks
   * one of `l1.maxThreads` and whatever locks it took). Its claim word says which thread that is;
   * a start no thread claimed yet never attaches, and the run's abort signal ends it.
   */
  async #abandon(name: string, claim: SharedArrayBuffer, notReady: AbortController): Promise<void> {
    const thread = abandonStart(claim);
    if (thread === undefined) {
      // No thread attached for it and none will: the abort drops it from the queue or ends its thread.
      notReady.abort();
      return;
    }
    // Found and terminated in this same turn: the pool cannot have handed that thread another task
    // meanwhile. Not found, it has exited already.
    await this.#pool.threads.find((t) => t.threadId === thread)?.terminate();
    // The thread has exited: the owner ids it registered are all it will ever have.
    const { l1, logger } = this.#options;
    for (const ownerId of l1.ownersOfThread(thread)) {
      try {
        l1.reclaimThread(ownerId, thread);
      } catch (err) {
        logger.error(`the L1 locks of the ${name} task that was not ready could not be reclaimed: ${KvtierError.from(err).message}`);
      }
    }
  }

  async #startAdapter(i: number): Promise<void> {
    const { config } = this.#options;
    const hostPorts: MessagePort[] = [];
    const main = new MessageChannel();
    hostPorts.push(main.port2);
    const controlChannel = new MessageChannel();
    const adapter = config.adapters[i];
    const generation = Atomics.load(this.#control, Control.HOST_GENERATION + i);
    const task: EngineTask = {
      ...this.#base(controlChannel.port2),
      kind: 'adapter',
      host: {
        l1Handle: this.#options.l1.handle,
        adapterIndex: i,
        config: adapter,
        moduleUrl: adapterModuleUrl(adapter.type, `adapters[${i}]`),
        adapterTypes: registeredAdapterTypes(),
        events: this.#rings[i].buffer,
        generation,
        lineage: this.#lineages[i],
      },
      hostPorts,
    };
    const control = await this.#launch<AdapterControlApi>(`adapter[${i}]`, task, hostPorts, controlChannel.port1, () => this.#restartAdapter(i))
      .catch((err: KvtierError) => { throw (this.#hostStartFailures[i] = adapterStartError(i, adapter.type, err)); });
    this.#hostStartFailures[i] = undefined;
    this.#adapterControls[i] = control;
    this.#hostGenerations[i] = generation;
    // A message port to a dead thread never answers: a call on this host settles when its thread dies.
    const call = callOn(Comlink.wrap<AdapterHostApi>(portEndpoint(main.port1)) as unknown as AdapterHostApi);
    const died = new Promise<never>((_, reject) => {
      this.#hostDied[i] = () => reject(new KvtierError(ErrorCode.WORKER, `the adapter[${i}] worker died before its host answered (generation ${generation})`));
    });
    died.catch(() => {});
    this.#adapterHosts[i] = codedHostApi('decode', (method, args) => Promise.race([call(method, args), died]));
  }

  /**
   * After adapter `i`'s worker died: starts a new host (its pins died with the old one) and hands
   * every controller that talks to it a port to the new one. Calls still pending on the old host
   * run into their deadline and are abandoned.
   */
  async #restartAdapter(i: number): Promise<void> {
    try {
      await this.#startAdapter(i);
    } finally {
      this.#hostRestarts.get(i)?.end();
      this.#hostRestarts.delete(i);
    }
    // Healthy again only once every controller talks to the new host.
    this.#supervisor.setHealthy(`adapter[${i}]`, false);
    for (const [kind, control] of this.#controllers) await this.#handOverAdapter(kind, control, i);
    this.#supervisor.setHealthy(`adapter[${i}]`, true);
  }

  /** Whether controller `kind` talks to adapter `i` (the eviction controller: only to adapters with an `eviction` block). */
  #talksTo(kind: ControllerKind, i: number): boolean {
    return kind !== 'eviction' || this.#options.config.adapters[i].eviction !== undefined;
  }

  /**
   * Hands controller `kind` a port to adapter `i`'s current host. Bounded by the controller's life:
   * one that dies meanwhile never answers, and its successor connects on its own.
   */
  async #handOverAdapter(kind: ControllerKind, control: Comlink.Remote<ControllerControlApi>, i: number): Promise<void> {
    if (!this.#talksTo(kind, i)) return;
    const { port, generation } = await this.#connectAdapter(i);
    const ended = this.#running.get(kind)?.done.then(() => {}, () => {});
    await Promise.race([control.replaceAdapter(i, Comlink.transfer(port, [port as never]), generation), ...(ended === undefined ? [] : [ended])]);
  }

  /**
   * A fresh port to adapter `i`'s host for a controller (the host end goes to the adapter task),
   * and the host's generation. Waits for a host that is restarting; a host that dies before it
   * answers never will, so the port is asked of its successor. Every wait ends: a restart ends
   * (its start is bounded by `workerReadyTimeoutMs`), a failed one ends this with its error
   * (`KVT_ERR_ADAPTER` naming the adapter and the cause), and a host that neither answers nor
   * dies within `workerReadyTimeoutMs` ends it with `KVT_ERR_TIMEOUT`.
   */
  async #connectAdapter(i: number): Promise<{ port: MessagePort; generation: number }> {
    for (;;) {
      await this.#hostRestarts.get(i)?.done;
      const failure = this.#hostStartFailures[i];
      if (failure !== undefined) throw failure;
      const generation = this.#hostGenerations[i];
      const host = this.#running.get(`adapter[${i}]`);
      const { port1, port2 } = new MessageChannel();
      const connected = this.#adapterControls[i].connect(Comlink.transfer(port2, [port2 as never])).then(() => true);
      // Supervision watched the host first: by the time this sees it dead, its restart is registered.
      const answered = Promise.race([connected, ...(host === undefined ? [] : [host.done.then(() => false, () => false)])]);
      if (await withDeadline(answered, this.#options.config.workerReadyTimeoutMs, `a port to the adapter[${i}] host`).catch((err: unknown) => {
        port1.close();
        throw err;
      })) return { port: port1, generation };
      port1.close();
      if (!this.#hostRestarts.has(i)) throw new KvtierError(ErrorCode.WORKER, `the adapter[${i}] worker ended and is not restarting`);
    }
  }

  /**
   * Registers a controller that just became ready, and hands it every host that restarted since
   * it connected: those restarts' hand-overs ran before it was registered and missed it.
   */
  async #register(kind: ControllerKind, control: Comlink.Remote<ControllerControlApi>, connected: ReadonlyMap<number, number>): Promise<void> {
    this.#controllers.set(kind, control);
    for (const [i, generation] of connected) {
      if (this.#hostGenerations[i] !== generation) await this.#handOverAdapter(kind, control, i);
    }
  }

  async #startController(kind: ControllerKind): Promise<void> {
    const { config } = this.#options;
    const controlChannel = new MessageChannel();
    const base = this.#base(controlChannel.port2);
    const restart = () => this.#startController(kind);
    const indices = config.adapters.map((_, i) => i).filter((i) => this.#talksTo(kind, i));
    const links = await Promise.all(indices.map((i) => this.#connectAdapter(i)));
    const connected = new Map(indices.map((i, j) => [i, links[j].generation]));
    const ports = links.map((l) => l.port);
    if (kind === 'eviction') {
      const l2 = indices.map((index, j) => ({ index, port: ports[j], ring: this.#rings[index].buffer }));
      this.#eviction = await this.#launch<EvictionControlApi>('eviction', { ...base, kind, l2 }, ports, controlChannel.port1, restart);
      await this.#register(kind, this.#eviction, connected);
      return;
    }
    const adapterGenerations = links.map((l) => l.generation);
    const task: EngineTask = kind === 'prefetch'
      ? { ...base, kind, adapterPorts: ports, adapterGenerations, clientOwnerId: this.#options.l1.ownerId }
      : { ...base, kind, adapterPorts: ports, adapterGenerations };
    const control = await this.#launch<PrefetchControlApi>(kind, task, ports, controlChannel.port1, restart);
    await this.#register(kind, control, connected);
    if (kind === 'prefetch') {
      this.#prefetch = control;
      for (const request of this.#prefetchQueue?.splice(0) ?? []) this.#sendPrefetch(control, request);
      this.#prefetchQueue = null;
    }
  }

  /**
   * Ends a start that failed: supervision first (a task ending now did not crash, nothing
   * restarts, nothing warns), then every thread, without waiting for tasks to finish: one that
   * never became ready (an adapter stuck in `createAdapter`) would never see its stop word.
   */
  async #abort(): Promise<void> {
    this.#supervisor.stop();
    await this.#pool.destroy();
  }

  /**
   * Stops every task in close() order — prefetch, store, eviction, adapters — each kind finishing
   * what it has in flight (bounded by the adapter call deadline), then ends the pool. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#supervisor.stopped) return;
    for (const kind of TASK_KINDS) {
      const word = Control.STOP + TASK_KINDS.indexOf(kind);
      Atomics.store(this.#control, word, 1);
      Atomics.notify(this.#control, word);
      // Controllers sleep on L1's wake channels between cycles: wake them to see the stop word now.
      if (kind === 'store' || kind === 'eviction') this.#options.l1.interruptWaits();
      const tasks = [...this.#running.values()].filter((r) => r.kind === kind);
      // A start not ready yet would see its stop word only once ready, if ever: it is given up now.
      const starts = tasks.flatMap((r) => {
        const start = this.#notReady.get(r.name);
        start?.giveUp();
        return start === undefined ? [] : [start.ended];
      });
      await Promise.allSettled([...tasks.map((r) => r.done), ...starts]);
    }
    this.#supervisor.stop();
    await this.#pool.destroy();
  }
}
