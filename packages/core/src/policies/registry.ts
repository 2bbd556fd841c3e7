/** A name -> factory table; one per kind of policy (eviction, store, prefetch). */
import { ErrorCode, KvtierError, invalidArgument } from '../errors.ts';

/** Policy factories by name, for one kind of policy. */
export class PolicyRegistry<F extends (...args: never[]) => unknown> {
  readonly #kind: string;
  readonly #factories = new Map<string, F>();

  /** @param kind - the kind of policy, used in messages (`eviction`, `store`, `prefetch`) */
  constructor(kind: string) {
    this.#kind = kind;
  }

  /** Adds `factory` under `name`; a name can be registered once. */
  register(name: string, factory: F): void {
    if (typeof name !== 'string' || name.length === 0) invalidArgument(`${this.#kind} policy name must be a non-empty string, got ${String(name)}`);
    if (typeof factory !== 'function') invalidArgument(`${this.#kind} policy '${name}': factory must be a function`);
    if (this.#factories.has(name)) invalidArgument(`${this.#kind} policy '${name}' is already registered`);
    this.#factories.set(name, factory);
  }

  /** The factory registered under `name`; a CONFIG error naming the known ones when there is none. */
  get(name: string): F {
    const factory = this.#factories.get(name);
    if (factory === undefined) {
      throw new KvtierError(ErrorCode.CONFIG, `unknown ${this.#kind} policy '${String(name)}' (known: ${this.names().join(', ')})`);
    }
    return factory;
  }

  /** Registered names, sorted. */
  names(): string[] {
    return [...this.#factories.keys()].sort();
  }
}
