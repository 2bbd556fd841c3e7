/**
 * One pipelined RESP connection with a zero-copy data path.
 *
 * - Writes: a batch of commands is written corked, so the socket sends the encoded text and the
 *   caller's value views (L1 slots) with one `writev`; values are never copied.
 * - Reads: the socket reads into a buffer this connection chooses for every read (`onread`
 *   with a buffer function): its scratch buffer, or, while a bulk body bound for a caller's
 *   parts is expected, the next range of those parts, so the kernel writes the body in place.
 * - Timeouts: a batch not answered within its timeout destroys the connection before its promise
 *   rejects. After that no read can happen, so late reply bytes can never land in a slot the
 *   caller reuses once the rejection reached it. Every other batch in flight fails with it.
 */
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { encodeCommand, ProtocolError, ReplyParser, type Command, type PlacementCounts, type Reply } from './resp.ts';

/** Bytes of the scratch buffer that reply headers and small replies are read into. */
const SCRATCH_BYTES = 256 * 1024;
/**
 * Bytes read at most into scratch while a reply that places its bulks is due: enough for its
 * headers (`*2\r\n$4194240\r\n`), little of the body that should be read in place.
 */
const HEADER_READ_BYTES = 64;

/** A connection-level failure (refused, reset, timed out, closed): every command in flight on it failed. */
export class ConnectionError extends Error {}

interface Batch {
  readonly replies: Reply[];
  left: number;
  readonly resolve: (replies: Reply[]) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface Pending {
  readonly command: Command;
  readonly batch: Batch;
}

/** A connected RESP2 connection to one server; see the file comment. */
export class RespConnection {
  readonly #socket: Socket;
  readonly #address: string;
  readonly #scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  readonly #headerScratch = this.#scratch.subarray(0, HEADER_READ_BYTES);
  readonly #parser: ReplyParser;
  /** Commands sent and not answered yet, oldest at `#head`. */
  #pending: Pending[] = [];
  #head = 0;
  #failure: ConnectionError | undefined;

  private constructor(host: string, port: number, counts: PlacementCounts) {
    this.#address = `${host}:${port}`;
    this.#parser = new ReplyParser(() => this.#pending[this.#head]?.command, (reply) => this.#answer(reply), counts);
    const onread: OnReadOpts = {
      buffer: () => this.#readTarget(),
      callback: (n, buf) => {
        this.#onRead(n, buf);
        return true;
      },
    };
    // The constructor honours `onread` as `connect()` does; @types/node lists it for connect only.
    const options: SocketConstructorOpts = { onread } as SocketConstructorOpts;
    this.#socket = new Socket(options);
  }

  /**
   * Connects to `host:port`, failing with a {@link ConnectionError} after `timeoutMs`. `counts`
   * adds up where the bulk bytes placed into callers' parts came from.
   */
  static open(host: string, port: number, timeoutMs: number, counts: PlacementCounts): Promise<RespConnection> {
    const conn = new RespConnection(host, port, counts);
    const socket = conn.#socket;
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        conn.destroy(new ConnectionError(`connect to ${conn.#address} ${why}`));
        reject(conn.#failure);
      };
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      socket.once('error', (err) => fail(`failed: ${err.message}`));
      socket.connect({ host, port }, () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        // From now on a socket error is followed by 'close', which fails what is in flight.
        socket.removeAllListeners('error');
        socket.on('error', () => {});
        resolve(conn);
      });
      socket.on('close', () => conn.destroy(new ConnectionError(`connection to ${conn.#address} closed`)));
    });
  }

  /** `host:port` of the server. */
  get address(): string {
    return this.#address;
  }

  /** Whether the connection failed or was closed (it is then never used again). */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /**
   * Sends `commands` pipelined and resolves to their replies in order (error replies are values).
   * Rejects with a {@link ConnectionError} when the connection fails or `timeoutMs` passes first;
   * on timeout the connection is destroyed before the rejection.
   */
  send(commands: readonly Command[], timeoutMs: number): Promise<Reply[]> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (commands.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.destroy(new ConnectionError(`${this.#address}: no reply within ${timeoutMs} ms`)), timeoutMs);
      const batch: Batch = { replies: [], left: commands.length, resolve, reject, timer };
      const chunks: Buffer[] = [];
      for (const command of commands) {
        this.#pending.push({ command, batch });
        encodeCommand(command.args, chunks);
      }
      this.#socket.cork();
      for (const chunk of chunks) this.#socket.write(chunk);
      this.#socket.uncork();
    });
  }

  /** Destroys the socket, then fails every batch in flight with `reason`. Idempotent. */
  destroy(reason: ConnectionError): void {
    if (this.#failure !== undefined) return;
    this.#failure = reason;
    this.#socket.destroy();
    const pending = this.#pending.slice(this.#head);
    this.#pending = [];
    this.#head = 0;
    const batches = new Set(pending.map((p) => p.batch));
    for (const batch of batches) {
      clearTimeout(batch.timer);
      batch.reject(reason);
    }
  }

  /** Closes the connection; batches in flight fail. */
  close(): void {
    this.destroy(new ConnectionError(`connection to ${this.#address} closed`));
  }

  #readTarget(): Uint8Array {
    if (this.#failure !== undefined) return this.#scratch;
    return this.#parser.directTarget() ?? (this.#parser.expectsPlacement() ? this.#headerScratch : this.#scratch);
  }

  #onRead(n: number, buf: Uint8Array): void {
    if (this.#failure !== undefined) return;
    try {
      if (buf === this.#scratch || buf === this.#headerScratch) this.#parser.feed(this.#scratch.subarray(0, n));
      else this.#parser.advanceDirect(n);
    } catch (err) {
      const what = err instanceof ProtocolError ? `protocol error: ${err.message}` : String(err);
      this.destroy(new ConnectionError(`${this.#address}: ${what}`));
    }
  }

  #answer(reply: Reply): void {
    const pending = this.#pending[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
    const batch = pending.batch;
    batch.replies.push(reply);
    if (--batch.left > 0) return;
    clearTimeout(batch.timer);
    batch.resolve(batch.replies);
  }
}
