/**
 * Worker entry that hosts one adapter for `AdapterHostThread.start` (host-thread.ts): `workerData`
 * is its {@link AdapterHostSpec} plus the port to serve on (in the transfer list). The thread ends
 * once the host was closed over that port. If the adapter cannot be created, every call on the
 * port rejects with that error until `close()`, and the thread then fails with it.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { L1Manager } from '../l1/l1-manager.ts';
import { portEndpoint } from './endpoint.ts';
import { ServedAdapterHost, type AdapterHostSpec } from './serve.ts';

const { port, ...spec } = workerData as AdapterHostSpec & { readonly port: MessagePort };
const l1 = L1Manager.attach(spec.l1Handle);
let failure: unknown;
const served = await ServedAdapterHost.open(spec, l1).catch((err: unknown) => {
  failure = err;
  return ServedAdapterHost.failed(err);
});
Comlink.expose(served.api, portEndpoint(port));
await served.closed;
// Let comlink post close()'s answer before the port goes.
await new Promise((resolve) => setImmediate(resolve));
port.close();
l1.detach();
if (failure !== undefined) throw failure;
