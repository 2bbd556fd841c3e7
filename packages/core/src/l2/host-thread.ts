/**
 * An adapter host in a worker thread of its own, driven from this thread over comlink: the
 * engine's L1 <-> L2 data path without the controllers (benchmarks, tests, tools).
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { ErrorCode, KvtierError } from '../errors.ts';
import { callOn, codedHostApi } from './coded-errors.ts';
import { portEndpoint } from './endpoint.ts';
import type { AdapterHostApi } from './host-api.ts';
import type { AdapterHostSpec } from './serve.ts';
import { workerEntry } from '../module-url.ts';

const WORKER_URL = workerEntry('./host-worker', import.meta.url);

/** A running adapter host thread; start one with {@link AdapterHostThread.start}. */
export class AdapterHostThread {
  /** The host; its rejections are KvtierErrors with their original codes. */
  readonly api: AdapterHostApi;
  readonly #port: MessagePort;
  readonly #exited: Promise<number>;
  #closing: Promise<void> | undefined;

  private constructor(worker: Worker, port: MessagePort) {
    this.#port = port;
    this.#exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const failed = new Promise<never>((_, reject) => worker.once('error', (err) => reject(KvtierError.from(err))));
    failed.catch(() => {});
    // `api` holds the comlink proxy through `remote`: a collected proxy would hang its calls.
    const remote = callOn(Comlink.wrap<AdapterHostApi>(portEndpoint(port)) as unknown as AdapterHostApi);
    // A call the dead thread will never answer rejects with the thread's error instead.
    this.api = codedHostApi('decode', (method, args) => {
      if (this.#closing !== undefined) return Promise.reject(new KvtierError(ErrorCode.CLOSED, 'the adapter host thread was closed'));
      return Promise.race([remote(method, args), failed]);
    });
  }

  /**
   * Starts a worker that hosts the adapter of `spec` (host-worker.ts) and connects to it.
   * Resolves once the host answered a first call (the adapter exists); otherwise rejects with the
   * adapter's creation error after the thread ended.
   */
  static async start(spec: AdapterHostSpec): Promise<AdapterHostThread> {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_URL, { workerData: { ...spec, port: port2 }, transferList: [port2], execArgv: [] });
    const thread = new AdapterHostThread(worker, port1);
    try {
      await thread.api.pinCount();
    } catch (err) {
      await thread.close();
      throw err;
    }
    return thread;
  }

  /** Closes the host (its adapter, its pins) and waits for the thread to end. Idempotent. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      const closeHost = this.api.close();
      this.#closing = closeHost.catch(() => {}).then(async () => {
        this.#port.close();
        await this.#exited;
      });
    }
    return this.#closing;
  }
}
