/**
 * The operations endpoint of a `KvCache` (`KvCache.serve`): a small `node:http` server with
 * `GET /metrics` (the Prometheus text exposition) and `GET /status` (the status tree as JSON), the
 * two things a scraper and a health check need. Each request renders fresh from the cache.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, KvtierError, invalidArgument } from '../errors.ts';

/** Options of `KvCache.serve`. */
export interface ServeOptions {
  /** TCP port; 0 (the default) picks a free one, read it from {@link MetricsServer.port}. */
  readonly port?: number;
  /** Interface to listen on; default `127.0.0.1` (pass `0.0.0.0` or `::` to expose it). */
  readonly host?: string;
}

/** What the server renders: the cache's own `metrics()` and `status()`. */
export interface MetricsSource {
  metrics(): Promise<string>;
  status(): Promise<unknown>;
}

/** The content type of the Prometheus text format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const ROUTES: Readonly<Record<string, (source: MetricsSource) => Promise<{ type: string; body: string }>>> = {
  '/metrics': async (source) => ({ type: PROMETHEUS_CONTENT_TYPE, body: await source.metrics() }),
  '/status': async (source) => ({ type: 'application/json; charset=utf-8', body: `${JSON.stringify(await source.status())}\n` }),
};

function checkOptions(opts: unknown): { port: number; host: string } {
  if (opts === undefined) return { port: 0, host: '127.0.0.1' };
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) invalidArgument(`serve options must be an object, got ${opts === null ? 'null' : typeof opts}`);
  const { port = 0, host = '127.0.0.1' } = opts as { port?: unknown; host?: unknown };
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    invalidArgument(`serve.port must be an integer in [0, 65535], got ${typeof port === 'number' ? port : typeof port}`);
  }
  if (typeof host !== 'string' || host.length === 0) invalidArgument(`serve.host must be a non-empty string, got ${typeof host === 'string' ? "''" : typeof host}`);
  return { port, host };
}

/** A listening operations server; {@link close} it (closing its cache does too). */
export class MetricsServer {
  /** The port it listens on (the one picked when 0 was asked for). */
  readonly port: number;
  /** The interface it listens on. */
  readonly host: string;
  readonly #server: Server;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, host: string) {
    this.#server = server;
    this.host = host;
    this.port = (server.address() as AddressInfo).port;
  }

  /**
   * Validates `opts` and listens.
   * @throws KvtierError `KVT_ERR_INVALID_ARGUMENT` naming a bad option; `KVT_ERR_CONFIG` when the
   * address cannot be bound (in use, not an address of this machine), naming it.
   */
  static async listen(source: MetricsSource, opts?: ServeOptions): Promise<MetricsServer> {
    const { port, host } = checkOptions(opts);
    const server = createServer((req, res) => { void respond(source, req, res); });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(new KvtierError(ErrorCode.CONFIG, `serve: cannot listen on ${host}:${port}: ${err.code ?? err.message}`, { cause: err }));
      });
      server.listen(port, host, () => resolve());
    });
    return new MetricsServer(server, host);
  }

  /** `http://host:port`, the base of `/metrics` and `/status`. */
  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Stops listening and ends open connections. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }
}

/** Answers one request: a route's body, 404 for an unknown path, 405 for a method but GET/HEAD, 503 when the cache cannot answer. */
async function respond(source: MetricsSource, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const route = ROUTES[path];
  const reply = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (route === undefined) return reply(404, 'text/plain; charset=utf-8', `not found: ${path} (try /metrics or /status)\n`);
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain; charset=utf-8', `method ${req.method} not allowed\n`, { allow: 'GET, HEAD' });
  try {
    const { type, body } = await route(source);
    reply(200, type, body);
  } catch (err) {
    const e = KvtierError.from(err);
    reply(503, 'text/plain; charset=utf-8', `${e.code}: ${e.message}\n`);
  }
}
