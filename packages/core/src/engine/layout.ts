/**
 * Every SharedArrayBuffer field the engine's own threads share (L1's buffers are laid out by L1,
 * the metric cells by metrics.ts). All fields are Int32 words so they can be waited on; each is
 * declared through shm/region.ts, so its index is where it was declared.
 */
import { MAX_ADAPTERS } from '../limits.ts';
import { WordLayout } from '../shm/region.ts';

/** The controllers whose adapter calls read or write L1 slots, in SLOT_CALLS order. */
export const SLOT_CALLERS = ['store', 'prefetch'] as const;

const control = new WordLayout();
/** Control block: one Int32Array of {@link CONTROL_WORDS} words. */
export const Control = {
  /**
   * Stop words, one per task kind at `STOP + TASK_KINDS.indexOf(kind)` (prefetch, store, eviction,
   * adapter): 0 while running, 1 once close() stops that kind; tasks return at their next check.
   */
  STOP: control.words(4),
  /**
   * Bumped and notified by a controller that asked for an adapter host to be terminated (an
   * abandoned call of it did not answer within its grace period); the main thread waits on it.
   */
  TERMINATE_WAKE: control.words(),
  /**
   * Host generations, one word per adapter at `HOST_GENERATION + index`: bumped (and notified) by
   * the main thread once the thread of that adapter's current host has exited, so a call sent to
   * generation g can no longer touch L1 once the word is past g.
   */
  HOST_GENERATION: control.words(MAX_ADAPTERS),
  /** Termination requests, one word per adapter at `TERMINATE + index`: the generation to end, plus 1; 0 for none. */
  TERMINATE: control.words(MAX_ADAPTERS),
  /**
   * Calls that may still read or write L1 slots, per caller and adapter at
   * `SLOT_CALLS + SLOT_CALLERS.indexOf(kind) * MAX_ADAPTERS + index`: counted by the controller,
   * read by the main thread when that controller dies (its slots must not be reused under them).
   */
  SLOT_CALLS: control.words(SLOT_CALLERS.length * MAX_ADAPTERS),
};
/** Words in the control block. */
export const CONTROL_WORDS = control.size;

/**
 * The prefetch request table: {@link PREFETCH_RECORDS} records of {@link RECORD_WORDS} words.
 * The main thread owns a record from submit until the result is consumed (queryPrefetch or
 * waitPrefetch); the prefetch worker writes the result fields, then the state word with
 * `Atomics.store` (which orders the earlier plain writes before it), then `Atomics.notify`s it.
 */
const record = new WordLayout();
export const Record = {
  /** One of {@link RequestState}; the word waiters wait on. */
  STATE: record.words(),
  /** The request id the record currently belongs to (low 31 bits), so stale handles are refused. */
  REQUEST_ID: record.words(),
  /** Keys in the request. */
  KEY_COUNT: record.words(),
  /** Keys of the contiguous prefix found in L1 at submit. */
  L1_PREFIX_HITS: record.words(),
  /** Keys of the rest of the prefix the worker made readable from L2. */
  L2_PREFIX_HITS: record.words(),
  /** 0 when no error; else 1 + the index into {@link PREFETCH_ERROR_CODES} of the request's first error. */
  ERROR: record.words(),
};
/** Words per prefetch record (a power of two; the rest is padding). */
export const RECORD_WORDS = 8;
if (record.size > RECORD_WORDS) throw new Error(`engine layout: a prefetch record declares ${record.size} words, more than RECORD_WORDS`);
/** Records in the prefetch request table (requests submitted and not yet consumed). */
export const PREFETCH_RECORDS = 4096;

/** Life of a prefetch record. */
export const RequestState = {
  /** Unused; the main thread may allocate it. */
  FREE: 0,
  /** Submitted; the worker has not published a result. */
  PENDING: 1,
  /** The result fields are valid. */
  DONE: 2,
  /**
   * The request ended with an error (ERROR says which); L2_PREFIX_HITS still counts the keys it
   * made readable (and handed over locked) before or despite it.
   */
  FAILED: 3,
} as const;

/** Error codes a failed prefetch publishes, by index. */
export const PREFETCH_ERROR_CODES = ['KVT_ERR_WORKER', 'KVT_ERR_ADAPTER', 'KVT_ERR_TIMEOUT', 'KVT_ERR_CLOSED', 'KVT_ERR_CAPACITY', 'KVT_ERR_INTEGRITY'] as const;
