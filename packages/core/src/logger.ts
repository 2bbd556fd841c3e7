/**
 * Where kvtier reports what is not the result of a call: a worker that died and restarts, an
 * adapter host it had to terminate, a lost GPU device, the native GPU stack's own warnings. Every
 * part that reports takes a {@link Logger}; without one it uses {@link stderrLogger}, quiet but
 * for warnings and errors.
 */
import { invalidArgument } from './errors.ts';

/** Severities, lowest first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A sink of log records, one method per level; `console` is one. */
export interface Logger {
  /** Detail for whoever debugs kvtier (known-harmless native warnings land here). */
  debug(message: string): void;
  /** Normal operation worth a line. */
  info(message: string): void;
  /** Something degraded and recovered, or will: a worker restarted, a host terminated. */
  warn(message: string): void;
  /** Something failed that nothing will retry. */
  error(message: string): void;
}

/**
 * A logger that writes each record at `level` or above to stderr as one line, `kvtier <level>:
 * <message>`, and drops the rest. `stderrLogger()` (level `warn`) is the default everywhere.
 */
export function stderrLogger(level: LogLevel = 'warn'): Logger {
  const from = LOG_LEVELS.indexOf(level);
  if (from < 0) invalidArgument(`stderrLogger level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  const write = (at: LogLevel) => (message: string) => {
    if (LOG_LEVELS.indexOf(at) >= from) process.stderr.write(`kvtier ${at}: ${message}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/**
 * The logger a `logger` option names: {@link stderrLogger} when `value` is undefined, else
 * `value` itself once it has the four methods.
 * @throws KvtierError `KVT_ERR_INVALID_ARGUMENT` naming `field` when it is not a logger.
 */
export function resolveLogger(value: unknown, field: string): Logger {
  if (value === undefined) return stderrLogger();
  const missing = value !== null && typeof value === 'object'
    ? LOG_LEVELS.filter((m) => typeof (value as Record<string, unknown>)[m] !== 'function')
    : LOG_LEVELS;
  if (missing.length > 0) {
    invalidArgument(`${field} must be a logger with methods ${LOG_LEVELS.join(', ')} (console is one), got ${value === null ? 'null' : typeof value}${missing.length < LOG_LEVELS.length ? ` without ${missing.join(', ')}` : ''}`);
  }
  return value as Logger;
}

/** A logger that keeps every record, for tests: `records` in order, each with its level. */
export function recordingLogger(): Logger & { readonly records: { readonly level: LogLevel; readonly message: string }[] } {
  const records: { level: LogLevel; message: string }[] = [];
  const keep = (level: LogLevel) => (message: string) => { records.push({ level, message }); };
  return { records, debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}
