/**
 * Worker entry that hosts one adapter: `workerData` is a {@link ServeAdapterHostOptions} (its
 * port in the transfer list). The thread ends once the host was closed over that port.
 * Started by `AdapterHostThread.start` (host-thread.ts).
 */
import { workerData } from 'node:worker_threads';
import type { ServeAdapterHostOptions } from './host-api.ts';
import { serveAdapterHost } from './serve.ts';

await serveAdapterHost(workerData as ServeAdapterHostOptions);
