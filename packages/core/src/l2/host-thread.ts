/**
 * An adapter host in a worker thread of its own, driven from this thread over comlink: the
 * engine's L1 <-> L2 data path without the controllers (benchmarks, tests, tools).
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { ErrorCode, KvtierError } from '../errors.ts';
import { portEndpoint } from './endpoint.ts';
import { ADAPTER_HOST_METHODS, type AdapterHostApi, type ServeAdapterHostOptions } from './host-api.ts';

const WORKER_URL = new URL('./host-worker.mjs', import.meta.url);

/** A running adapter host thread; start one with {@link AdapterHostThread.start}. */
export class AdapterHostThread {
  /** The host; its rejections are KvtierErrors with their original codes. */
  readonly api: AdapterHostApi;
  // The comlink proxy must outlive every call (a collected proxy hangs its calls): held here.
  readonly #remote: Comlink.Remote<AdapterHostApi>;
  readonly #port: MessagePort;
  readonly #exited: Promise<number>;
  #closing: Promise<void> | undefined;

  private constructor(worker: Worker, port: MessagePort) {
    this.#port = port;
    this.#exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const failed = new Promise<never>((_, reject) => worker.once('error', (err) => reject(KvtierError.from(err))));
    failed.catch(() => {});
    this.#remote = Comlink.wrap<AdapterHostApi>(portEndpoint(port));
    const api: Record<string, unknown> = {};
    for (const method of ADAPTER_HOST_METHODS) {
      api[method] = (...args: unknown[]) => {
        if (this.#closing !== undefined) return Promise.reject(new KvtierError(ErrorCode.CLOSED, 'the adapter host thread was closed'));
        const call = (this.#remote[method] as unknown as (...a: unknown[]) => Promise<unknown>)(...args);
        return Promise.race([call, failed]).catch((err: unknown) => {
          throw KvtierError.from(err);
        });
      };
    }
    this.api = api as unknown as AdapterHostApi;
  }

  /**
   * Starts a worker that serves one adapter host (see `serveAdapterHost`) and connects to it.
   * Resolves once the host answered a first call (the adapter exists); otherwise rejects with the
   * adapter's creation error after the thread ended.
   */
  static async start(options: Omit<ServeAdapterHostOptions, 'port'>): Promise<AdapterHostThread> {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_URL, { workerData: { ...options, port: port2 }, transferList: [port2], execArgv: [] });
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
