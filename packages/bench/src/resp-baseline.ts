/**
 * The baseline of `kvtier-bench l2 --adapter redis|redis-cluster`: the same bytes SET and GET
 * pipelined over one plain socket per server speaking RESP, no envelope, no workers, no parsing
 * beyond counting the reply bytes it expects (the fastest a client can be on that socket).
 */
import { connect, type Socket } from 'node:net';
import { cli } from '../../../scripts/redis-servers.mjs';

/** A server address. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** Bytes of the one buffer a baseline socket reads every reply into (reused, never parsed). */
const READ_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * One plain socket that counts reply bytes until a pipeline's replies are all in. It reads into
 * one large reusable buffer (`onread`), as a good client would: no allocation per read.
 */
class CountingSocket {
  readonly #socket: Socket;
  #expected = 0;
  #received = 0;
  #done: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
  }

  static open(address: Address): Promise<CountingSocket> {
    return new Promise((resolve, reject) => {
      let counting: CountingSocket | undefined = undefined;
      const socket = connect({
        host: address.host,
        port: address.port,
        noDelay: true,
        onread: {
          buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
          callback: (n) => {
            if (counting !== undefined) counting.#onRead(n);
            return true;
          },
        },
      }, () => {
        counting = new CountingSocket(socket);
        resolve(counting);
      });
      socket.once('error', reject);
    });
  }

  #onRead(n: number): void {
    this.#received += n;
    if (this.#done !== undefined && this.#received >= this.#expected) this.#done();
  }

  /** Writes `chunks` corked and waits for `replyBytes` bytes of replies. */
  pipeline(chunks: readonly Uint8Array[], replyBytes: number): Promise<void> {
    this.#expected = replyBytes;
    this.#received = 0;
    const done = new Promise<void>((resolve) => {
      this.#done = resolve;
    });
    this.#socket.cork();
    for (const chunk of chunks) this.#socket.write(chunk);
    this.#socket.uncork();
    return done;
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** The `*3 $3 SET $n key $m` text in front of a value. */
function command(words: readonly string[], valueBytes?: number): Buffer {
  let text = `*${words.length + (valueBytes === undefined ? 0 : 1)}\r\n`;
  for (const w of words) text += `$${Buffer.byteLength(w)}\r\n${w}\r\n`;
  if (valueBytes !== undefined) text += `$${valueBytes}\r\n`;
  return Buffer.from(text);
}

const CRLF = Buffer.from('\r\n');

/** SET/GET/DEL of `keys` over one plain socket per server, each key on the server its slot names. */
export class RespBaseline {
  readonly #sockets: CountingSocket[];
  /** Index in `#sockets` of each key's server. */
  readonly #owner: number[];
  readonly #keys: readonly string[];

  private constructor(sockets: CountingSocket[], owner: number[], keys: readonly string[]) {
    this.#sockets = sockets;
    this.#owner = owner;
    this.#keys = keys;
  }

  /**
   * Opens one socket to `servers[0]` (one server), or to every master of the cluster `servers[0]`
   * belongs to, routing each key by `CLUSTER KEYSLOT` and `CLUSTER NODES` (asked once, untimed).
   */
  static async open(servers: readonly Address[], cluster: boolean, keys: readonly string[]): Promise<RespBaseline> {
    if (!cluster) return new RespBaseline([await CountingSocket.open(servers[0])], keys.map(() => 0), keys);
    const seed = servers[0].port;
    const masters: { address: Address; ranges: [number, number][] }[] = [];
    for (const line of (await cli(seed, 'CLUSTER', 'NODES')).split('\n')) {
      const fields = line.split(' ');
      const flags = fields[2]?.split(',') ?? [];
      if (!flags.includes('master') || flags.includes('fail') || flags.includes('fail?')) continue;
      const [hostPort] = fields[1].split('@');
      const colon = hostPort.lastIndexOf(':');
      const ranges = fields.slice(8).filter((r) => !r.startsWith('[')).map((r) => {
        const [a, b] = r.split('-').map(Number);
        return [a, b ?? a] as [number, number];
      });
      masters.push({ address: { host: hostPort.slice(0, colon) || servers[0].host, port: Number(hostPort.slice(colon + 1)) }, ranges });
    }
    const owner: number[] = [];
    for (const key of keys) {
      const slot = Number(await cli(seed, 'CLUSTER', 'KEYSLOT', key));
      owner.push(masters.findIndex((m) => m.ranges.some(([a, b]) => slot >= a && slot <= b)));
    }
    return new RespBaseline(await Promise.all(masters.map((m) => CountingSocket.open(m.address))), owner, keys);
  }

  /** Runs one pipeline per server over keys `[from, to)`: `build(i)` gives key i's chunks and reply bytes. */
  async #run(from: number, to: number, build: (i: number) => [Uint8Array[], number]): Promise<void> {
    const chunks: Uint8Array[][] = this.#sockets.map(() => []);
    const replyBytes = this.#sockets.map(() => 0);
    for (let i = from; i < to; i++) {
      const [c, r] = build(i);
      chunks[this.#owner[i]].push(...c);
      replyBytes[this.#owner[i]] += r;
    }
    await Promise.all(this.#sockets.map((s, j) => (chunks[j].length === 0 ? undefined : s.pipeline(chunks[j], replyBytes[j]))));
  }

  /** SET of keys `[from, to)` to `values[i]`; each answers `+OK`. */
  set(from: number, to: number, values: readonly Uint8Array[]): Promise<void> {
    return this.#run(from, to, (i) => [[command(['SET', this.#keys[i]], values[i].length), values[i], CRLF], 5]);
  }

  /** GET of keys `[from, to)`, each `length` bytes long. */
  get(from: number, to: number, length: number): Promise<void> {
    return this.#run(from, to, (i) => [[command(['GET', this.#keys[i]])], `$${length}\r\n`.length + length + 2]);
  }

  /** DEL of every key (replies `:0` or `:1`). */
  del(): Promise<void> {
    return this.#run(0, this.#keys.length, (i) => [[command(['DEL', this.#keys[i]])], 4]);
  }

  close(): void {
    for (const s of this.#sockets) s.close();
  }
}
