/** A comlink endpoint over a `node:worker_threads` MessagePort (listens with `on`, which refs the port). */
import type { MessagePort } from 'node:worker_threads';
import type { Endpoint } from 'comlink';

type Listener = Parameters<Endpoint['addEventListener']>[1];
type Transfer = Parameters<Endpoint['postMessage']>[1];

/** Wraps `port` for `Comlink.wrap` / `Comlink.expose`. */
export function portEndpoint(port: MessagePort): Endpoint {
  const bound = new WeakMap<Listener, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: Transfer) => port.postMessage(message, transfer as never),
    addEventListener: (_type: string, listener: Listener) => {
      const onMessage = (data: unknown) => {
        const event = { data };
        if (typeof listener === 'function') listener(event as never);
        else (listener as { handleEvent(e: unknown): void }).handleEvent(event);
      };
      bound.set(listener, onMessage);
      port.on('message', onMessage);
    },
    removeEventListener: (_type: string, listener: Listener) => {
      const onMessage = bound.get(listener);
      if (onMessage === undefined) return;
      port.off('message', onMessage);
      bound.delete(listener);
    },
  };
}
