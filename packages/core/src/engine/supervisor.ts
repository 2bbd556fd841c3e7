/**
 * Crash supervision of the engine's tasks, on the main thread: health per task, and what follows
 * a task's thread dying — reported (status and the restart metric), the L1 locks its thread held
 * reclaimed, the prefetch pins of its requests released (the caller's `onPrefetchLost`), and the
 * task started again. It also serves the controllers' requests to terminate an adapter host.
 *
 * The pool (engine-workers.ts) launches the tasks and routes to them; it hands each launched task
 * to {@link Supervisor.watch} and reacts to a death through {@link SupervisorHooks}.
 */
import type { KvCacheConfig } from '../config.ts';
import { KvtierError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { L1Manager } from '../l1/l1-manager.ts';
import { AdapterCounter, WorkerKind, type Metrics } from '../metrics.ts';
import { clearSlotCalls, hasSlotCalls, hostGone, takeTerminationRequests } from './host-generations.ts';
import { Control } from './layout.ts';
import { TASK_KINDS, type EngineTask } from './tasks.ts';
import { bumpWord, waitWord } from '../shm/wake.ts';

const KIND_METRIC = { store: WorkerKind.STORE, prefetch: WorkerKind.PREFETCH, eviction: WorkerKind.EVICTION, adapter: WorkerKind.ADAPTER } as const;

/** What supervision knows of one running task. */
export interface SupervisedTask {
  readonly name: string;
  readonly kind: EngineTask['kind'];
  /** The adapter index of an adapter task, -1 for a controller. */
  readonly adapter: number;
  /** Settles when the task ends. */
  readonly done: Promise<void>;
  /** The L1 owner id of its thread once it reported ready, -1 before. */
  readonly ownerId: number;
  /** Its thread's `worker_threads` threadId once it reported ready, -1 before (`reclaimThread` checks the owner id is still that thread's). */
  readonly threadId: number;
}

/** What {@link Supervisor} needs of the engine. */
export interface SupervisorOptions {
  readonly config: KvCacheConfig;
  readonly l1: L1Manager;
  readonly control: SharedArrayBuffer;
  readonly metrics: Metrics;
  /** Where restarts and host terminations are reported (warnings). */
  readonly logger: Logger;
  /**
   * Called after the prefetch worker died, before it restarts (and again, with nothing queued,
   * if it cannot restart): fail the requests it had — every pending one but those `queued`
   * (they wait for its successor) — and release their pins.
   */
  readonly onPrefetchLost: (queued: (requestId: number) => boolean) => Promise<void>;
}

/** The pool's side of supervision: what only the pool can do or know. */
export interface SupervisorHooks {
  /** Terminates the thread running task `name` as a crash would; rejects when none runs it. */
  terminate(name: string): Promise<void>;
  /**
   * Called synchronously when `task` is seen dead, before any of its handling awaits: nothing
   * may be routed to it from then on.
   */
  died(task: SupervisedTask): void;
  /** Whether prefetch request `requestId` waits for the prefetch worker's successor. */
  isQueued(requestId: number): boolean;
  /**
   * After the prefetch worker failed to restart: if no successor runs, drops the requests
   * waiting for one, so that later submits throw, and returns true.
   */
  dropPrefetchQueue(): boolean;
}

/** Health, crash handling and restarts of the pool's tasks, and host terminations. */
export class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #hooks: SupervisorHooks;
  readonly #control: Int32Array;
  readonly #health = new Map<string, boolean>();
  #stopped = false;

  constructor(options: SupervisorOptions, hooks: SupervisorHooks) {
    this.#options = options;
    this.#hooks = hooks;
    this.#control = new Int32Array(options.control);
  }

  /** Health per task name (`store`, `prefetch`, `eviction`, `adapter[i]`). */
  get health(): ReadonlyMap<string, boolean> {
    return this.#health;
  }

  /** Whether {@link Supervisor.stop} ran. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Records whether task `name` is healthy. */
  setHealthy(name: string, healthy: boolean): void {
    this.#health.set(name, healthy);
  }

  /**
   * Supervises the end of `task`: unless its kind is being stopped, it crashed, and is handled
   * and then started again by `restart`. A crash whose handling fails (its L1 locks could not be
   * reclaimed: the mutex stayed held) is logged as an error and leaves the task down and unhealthy.
   */
  watch(task: SupervisedTask, restart: () => Promise<void>): void {
    const ended = (err: unknown) => {
      if (this.stopping(task.kind)) return;
      this.#crashed(task, err, restart).catch(async (failure: unknown) => {
        this.#health.set(task.name, false);
        await this.#stayDown(task, `the ${task.name} worker died and its death could not be handled (${KvtierError.from(failure).message}); it stays down`);
      });
    };
    task.done.then(() => ended(new Error('the task returned')), ended);
  }

  /** Whether tasks of `kind` are being stopped (their stop word is set, or supervision stopped). */
  stopping(kind: EngineTask['kind']): boolean {
    return this.#stopped || Atomics.load(this.#control, Control.STOP + TASK_KINDS.indexOf(kind)) !== 0;
  }

  /**
   * Ends supervision once every task was stopped: a task that ends from now on did not crash, and
   * {@link Supervisor.serveTerminationRequests} returns.
   */
  stop(): void {
    this.#stopped = true;
    bumpWord(this.#control, Control.TERMINATE_WAKE);
  }

  /**
   * Terminates the adapter hosts controllers asked to end (an abandoned call of theirs did not
   * answer within its grace period): supervision then reclaims and restarts them, and the
   * generation bump tells the controllers the old host can no longer touch L1. Runs until stop.
   */
  async serveTerminationRequests(): Promise<void> {
    while (!this.#stopped) {
      const seen = Atomics.load(this.#control, Control.TERMINATE_WAKE);
      for (const a of takeTerminationRequests(this.#control, this.#options.config.adapters.length)) {
        await this.#terminateHost(a, 'an abandoned call did not answer within its grace period');
      }
      await waitWord(this.#control, Control.TERMINATE_WAKE, seen, Infinity);
    }
  }

  /**
   * Handles the death of `task`. The order is what keeps L1 consistent:
   * - the pool stops routing to it first (synchronously, before anything awaits), so no request
   *   goes to the dead worker's port while it is handled;
   * - a dead controller is forgotten by the pool (a restarting adapter host must not wait on it;
   *   its successor gets fresh ports), and the hosts a store or prefetch controller still had
   *   slot-touching calls on are ended BEFORE its locks are reclaimed: those calls may still read
   *   or write its slots, and reclaiming first would let the slots be reused under them;
   * - only then are its thread's L1 locks reclaimed;
   * - the prefetch requests it had are failed (their pins released) before it restarts, all but
   *   those queued for its successor, which are sent to it once it is ready;
   * - a stop that came while this awaited wins over the restart.
   */
  async #crashed(task: SupervisedTask, err: unknown, restart: () => Promise<void>): Promise<void> {
    this.#hooks.died(task);
    this.#health.set(task.name, false);
    this.#options.metrics.countRestart(KIND_METRIC[task.kind]);
    this.#options.logger.warn(`the ${task.name} worker died (${KvtierError.from(err).message}); restarting it`);
    if (task.kind === 'store' || task.kind === 'prefetch') await this.#endHostsWithSlotCalls(task.kind);
    if (task.ownerId >= 0) this.#options.l1.reclaimThread(task.ownerId, task.threadId);
    // The host's thread has exited: calls still pending on it can no longer touch L1.
    if (task.kind === 'adapter') hostGone(this.#control, task.adapter);
    if (task.kind === 'prefetch') await this.#options.onPrefetchLost((id) => this.#hooks.isQueued(id));
    if (this.stopping(task.kind)) return;
    try {
      await restart();
    } catch (restartErr) {
      // close() stopped the successor before it was ready: nothing failed.
      if (this.stopping(task.kind)) return;
      await this.#stayDown(task, `the ${task.name} worker could not restart: ${KvtierError.from(restartErr).message}`);
    }
  }

  /**
   * `task` died and no successor will run: `message` is logged as an error; for the prefetch worker the
   * requests queued for a successor fail too (their pins released), and later submits throw.
   * Never rejects: it runs where nothing awaits it.
   */
  async #stayDown(task: SupervisedTask, message: string): Promise<void> {
    this.#options.logger.error(message);
    if (task.kind !== 'prefetch' || !this.#hooks.dropPrefetchQueue()) return;
    await this.#options.onPrefetchLost(() => false).catch((err: unknown) => {
      this.#options.logger.error(`the requests queued for the prefetch worker could not be failed: ${KvtierError.from(err).message}`);
    });
  }

  /**
   * A dead controller's calls still running on adapter hosts may read or write the slots it held;
   * reclaiming its locks would let those slots be reused under them. So each host it had such a
   * call on is terminated first (counted; its supervision restarts it), and this waits until that
   * host's thread is gone and its successor serves, so the controller restarts against it.
   */
  async #endHostsWithSlotCalls(caller: 'store' | 'prefetch'): Promise<void> {
    const control = this.#control;
    await Promise.all(this.#options.config.adapters.map(async (_, a) => {
      if (!hasSlotCalls(control, caller, a)) return;
      const generation = Atomics.load(control, Control.HOST_GENERATION + a);
      await this.#terminateHost(a, `the dead ${caller} worker had calls on it that may still touch L1`);
      const until = performance.now() + this.#options.config.workerReadyTimeoutMs;
      while (!this.stopping('adapter') && performance.now() < until
        && (Atomics.load(control, Control.HOST_GENERATION + a) <= generation || this.#health.get(`adapter[${a}]`) !== true)) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }));
    clearSlotCalls(control, caller);
  }

  /** Terminates adapter `a`'s host (counted, warned with `reason`); its supervision restarts it. */
  async #terminateHost(a: number, reason: string): Promise<void> {
    this.#options.metrics.countAdapter(a, AdapterCounter.HOST_TERMINATIONS);
    this.#options.logger.warn(`terminating the adapter[${a}] worker: ${reason}`);
    // Already gone (a crash raced this): its supervision handles it.
    await this.#hooks.terminate(`adapter[${a}]`).catch(() => {});
  }
}
