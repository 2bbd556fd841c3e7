/**
 * Errors that cross threads. Classes do not survive `postMessage` (Piscina and comlink keep only
 * name, message and stack), so every error carries a stable string `code` and is rebuilt from it
 * on the receiving side with {@link KvtierError.from}.
 */

/** Every error code kvtier raises. Stable: tests, callers and metrics match on these strings. */
export const ErrorCode = {
  /** A configuration value is missing, of the wrong type or out of range; the message names the field. */
  CONFIG: 'KVT_ERR_CONFIG',
  /** An argument to a public call is invalid (bad size, bad key, slot reference not ours…). */
  INVALID_ARGUMENT: 'KVT_ERR_INVALID_ARGUMENT',
  /** A model name, salt or key failed validation. */
  INVALID_KEY: 'KVT_ERR_INVALID_KEY',
  /** The GPU device was lost; host copies stay valid, reopen the device. */
  DEVICE_LOST: 'KVT_ERR_DEVICE_LOST',
  /** No usable GPU adapter; the message names the packages to install. */
  NO_GPU: 'KVT_ERR_NO_GPU',
  /** A GPU operation failed (validation, out of memory). */
  GPU: 'KVT_ERR_GPU',
  /** An L2 adapter failed; the message names the adapter. */
  ADAPTER: 'KVT_ERR_ADAPTER',
  /** A call had a deadline and did not complete before it. */
  TIMEOUT: 'KVT_ERR_TIMEOUT',
  /** A worker thread died or could not be started. */
  WORKER: 'KVT_ERR_WORKER',
  /** The object was closed; no further calls are accepted. */
  CLOSED: 'KVT_ERR_CLOSED',
  /** Stored bytes failed their integrity check. */
  INTEGRITY: 'KVT_ERR_INTEGRITY',
  /** A fixed-capacity shared structure is full. */
  CAPACITY: 'KVT_ERR_CAPACITY',
} as const;

/** One of the {@link ErrorCode} strings. */
export type ErrorCodeString = (typeof ErrorCode)[keyof typeof ErrorCode];

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

/** The error kvtier throws. Match on {@link KvtierError.code}, not on the class. */
export class KvtierError extends Error {
  /** A stable {@link ErrorCode} string. */
  readonly code: ErrorCodeString;

  /**
   * @param code - the stable error code
   * @param message - what is wrong, naming the field, key or component at fault
   * @param options - the underlying cause, if any
   */
  constructor(code: ErrorCodeString, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KvtierError';
    this.code = code;
  }

  /**
   * Rebuilds a KvtierError from anything that crossed a thread boundary: a KvtierError, a plain
   * `{code, message}` object, or an Error whose message starts with a code (`KVT_ERR_X: …`).
   * Anything else becomes `fallback` with the original as its cause.
   */
  static from(err: unknown, fallback: ErrorCodeString = ErrorCode.WORKER): KvtierError {
    if (err instanceof KvtierError) return err;
    if (err !== null && typeof err === 'object') {
      const { code, message } = err as { code?: unknown; message?: unknown };
      if (typeof code === 'string' && KNOWN_CODES.has(code)) {
        return new KvtierError(code as ErrorCodeString, String(message ?? code), { cause: err });
      }
      if (typeof message === 'string') {
        const m = /^(KVT_ERR_[A-Z_]+): ?(.*)$/s.exec(message);
        if (m && KNOWN_CODES.has(m[1])) return new KvtierError(m[1] as ErrorCodeString, m[2], { cause: err });
        return new KvtierError(fallback, message, { cause: err });
      }
    }
    return new KvtierError(fallback, String(err), { cause: err });
  }

  /** A plain object that survives structured clone; rebuild with {@link KvtierError.from}. */
  toJSON(): { code: ErrorCodeString; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Throws a {@link ErrorCode.CONFIG} error naming `field`. */
export function configError(field: string, problem: string): never {
  throw new KvtierError(ErrorCode.CONFIG, `config.${field}: ${problem}`);
}

/** Throws a {@link ErrorCode.INVALID_ARGUMENT} error. */
export function invalidArgument(message: string): never {
  throw new KvtierError(ErrorCode.INVALID_ARGUMENT, message);
}
