/**
 * Error codes across a comlink port. Comlink keeps only a rejected error's message, so the host's
 * side puts the code in it (`KVT_ERR_ADAPTER: …`) and a caller's side rebuilds the KvtierError
 * from it with `KvtierError.from`. Every forwarding of {@link AdapterHostApi} goes through
 * {@link codedHostApi}, so both sides code every method the same way.
 */
import { KvtierError } from '../errors.ts';
import { ADAPTER_HOST_METHODS, type AdapterHostApi, type AdapterHostMethod } from './host-api.ts';

/** `encode`: the host's side of a port (before `Comlink.expose`); `decode`: a caller's side (after `Comlink.wrap`). */
export type ErrorCoding = 'encode' | 'decode';

/** Runs one method call of a forwarded host. */
export type HostCall = (method: AdapterHostMethod, args: readonly unknown[]) => Promise<unknown>;

function encode(err: unknown): never {
  const e = KvtierError.from(err);
  throw new Error(`${e.code}: ${e.message}`);
}

function decode(err: unknown): never {
  throw KvtierError.from(err);
}

/**
 * An {@link AdapterHostApi} whose every method runs `call` and codes its rejection as `coding`
 * says: `encode` rejects with a plain Error whose message starts with the code, `decode` with a
 * {@link KvtierError} carrying the code again.
 */
export function codedHostApi(coding: ErrorCoding, call: HostCall): AdapterHostApi {
  const onError = coding === 'encode' ? encode : decode;
  const api: Record<string, unknown> = {};
  for (const method of ADAPTER_HOST_METHODS) {
    // `call` runs synchronously, as a direct call would; a throw is coded like a rejection.
    api[method] = async (...args: unknown[]) => {
      try {
        return await call(method, args);
      } catch (err) {
        return onError(err);
      }
    };
  }
  return api as unknown as AdapterHostApi;
}

/**
 * The {@link HostCall} that calls `target`'s own method. `Reflect.apply` because `target` may be a
 * comlink proxy, whose `method.apply` would be a remote property, not `Function.prototype.apply`.
 */
export function callOn(target: AdapterHostApi): HostCall {
  return (method, args) => Reflect.apply(target[method] as (...a: unknown[]) => Promise<unknown>, target, args);
}
