/**
 * The prefetch request table (engine/layout.ts), both sides of it: the main thread allocates
 * records, reads each result once and waits without blocking the event loop; the prefetch worker
 * (attached to the same buffer) publishes results. Nothing else touches a record's words.
 */
import { ErrorCode, KvtierError, type ErrorCodeString } from '../errors.ts';
import { PREFETCH_ERROR_CODES, PREFETCH_RECORDS, Record, RECORD_WORDS, RequestState } from './layout.ts';
import { waitWord } from '../shm/wake.ts';

/** A finished request's figures. */
export interface PrefetchResult {
  readonly l1PrefixHits: number;
  /** Keys past the L1 prefix made readable from L2 (read-locked for the caller), error or not. */
  readonly l2PrefixHits: number;
  /** The code of the request's first error (an adapter call failed, the worker died), if any. */
  readonly error: ErrorCodeString | undefined;
}

/** Request ids are kept below 2^31 so they fit an Int32 word. */
const ID_MASK = 0x7fffffff;

/** Where a result's state word is published: the target of an `Atomics.store` (or of L1's handOverReads). */
export interface StateWord {
  readonly words: Int32Array;
  readonly index: number;
  readonly value: number;
}

/** The request table over its SharedArrayBuffer. */
export class PrefetchTable {
  /** The shared buffer, for the prefetch worker. */
  readonly buffer: SharedArrayBuffer;
  readonly #words: Int32Array;
  #nextId = 1;

  /** @param buffer - the main thread's table, to attach to (in the prefetch worker); none: a new table */
  constructor(buffer = new SharedArrayBuffer(PREFETCH_RECORDS * RECORD_WORDS * 4)) {
    this.buffer = buffer;
    this.#words = new Int32Array(buffer);
  }

  /**
   * Allocates a record for a new request and returns its id. The record index is `id % records`,
   * so ids whose record is still in use are skipped.
   */
  allocate(keyCount: number, l1PrefixHits: number): number {
    for (let tries = 0; tries < PREFETCH_RECORDS; tries++) {
      const id = this.#nextId;
      this.#nextId = (this.#nextId + 1) & ID_MASK || 1;
      const at = this.#at(id);
      if (Atomics.load(this.#words, at + Record.STATE) !== RequestState.FREE) continue;
      this.#words[at + Record.KEY_COUNT] = keyCount;
      this.#words[at + Record.L1_PREFIX_HITS] = l1PrefixHits;
      this.#words[at + Record.L2_PREFIX_HITS] = 0;
      this.#words[at + Record.ERROR] = 0;
      Atomics.store(this.#words, at + Record.REQUEST_ID, id);
      Atomics.store(this.#words, at + Record.STATE, RequestState.PENDING);
      return id;
    }
    throw new KvtierError(ErrorCode.CAPACITY, `all ${PREFETCH_RECORDS} prefetch records are in use: consume results with queryPrefetch or waitPrefetch`);
  }

  /**
   * Publishes request `id`'s result, from either thread: the result fields, then the state word
   * (with `commit` when given — the worker hands its read locks over in the same step — else an
   * `Atomics.store`, which orders the plain writes before it), then a notify. An error code
   * outside {@link PREFETCH_ERROR_CODES} is published as `KVT_ERR_WORKER`.
   * @returns false when the record no longer belongs to `id` (nobody will read this result)
   */
  publish(id: number, l2PrefixHits: number, error?: string, commit?: (state: StateWord) => void): boolean {
    const at = this.#at(id);
    if (Atomics.load(this.#words, at + Record.REQUEST_ID) !== id) return false;
    this.#words[at + Record.L2_PREFIX_HITS] = l2PrefixHits;
    this.#words[at + Record.ERROR] = error === undefined ? 0 : 1 + Math.max(0, PREFETCH_ERROR_CODES.indexOf(error as never));
    const state: StateWord = { words: this.#words, index: at + Record.STATE, value: error === undefined ? RequestState.DONE : RequestState.FAILED };
    if (commit === undefined) Atomics.store(state.words, state.index, state.value);
    else commit(state);
    Atomics.notify(state.words, state.index);
    return true;
  }

  /** Frees request `id`'s record without a result (its submit failed before anyone could wait on it). */
  discard(id: number): void {
    const at = this.#at(id);
    if (Atomics.load(this.#words, at + Record.REQUEST_ID) !== id) return;
    Atomics.store(this.#words, at + Record.REQUEST_ID, 0);
    Atomics.store(this.#words, at + Record.STATE, RequestState.FREE);
  }

  /** Whether request `id` is still waiting for the worker. */
  isPending(id: number): boolean {
    const at = this.#at(id);
    return Atomics.load(this.#words, at + Record.REQUEST_ID) === id && Atomics.load(this.#words, at + Record.STATE) === RequestState.PENDING;
  }

  /** The result of request `id` if finished, consuming its record; null while pending or unknown. */
  take(id: number): PrefetchResult | null {
    if (!Number.isInteger(id) || id <= 0 || id > ID_MASK) return null;
    const at = this.#at(id);
    if (Atomics.load(this.#words, at + Record.REQUEST_ID) !== id) return null;
    const state = Atomics.load(this.#words, at + Record.STATE);
    if (state !== RequestState.DONE && state !== RequestState.FAILED) return null;
    const error = this.#words[at + Record.ERROR];
    const result: PrefetchResult = {
      l1PrefixHits: this.#words[at + Record.L1_PREFIX_HITS],
      l2PrefixHits: this.#words[at + Record.L2_PREFIX_HITS],
      error: state === RequestState.FAILED ? PREFETCH_ERROR_CODES[error - 1] ?? ErrorCode.WORKER : undefined,
    };
    Atomics.store(this.#words, at + Record.REQUEST_ID, 0);
    Atomics.store(this.#words, at + Record.STATE, RequestState.FREE);
    return result;
  }

  /**
   * Waits (with `Atomics.waitAsync` and a ref'd keep-alive timer, never blocking) until request
   * `id` finished or `timeoutMs` passed. Resolves true when it finished.
   */
  async wait(id: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    const at = this.#at(id);
    while (this.isPending(id)) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await waitWord(this.#words, at + Record.STATE, RequestState.PENDING, left, true);
    }
    return true;
  }

  #at(id: number): number {
    return (id % PREFETCH_RECORDS) * RECORD_WORDS;
  }
}
