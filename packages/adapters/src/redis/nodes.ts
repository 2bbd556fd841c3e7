/**
 * The servers behind a `redis` adapter and how a key's commands reach the one that serves it:
 * one pipelined {@link RespConnection} per node, opened on first use and again after it failed;
 * in cluster mode a {@link SlotMap} from `CLUSTER SLOTS`, corrected by `MOVED` (and refreshed),
 * with `ASK` followed for one command, so a node that goes away costs its keys (they fail) and
 * never the others, and a promoted replica is found at the next refresh.
 */
import { ConnectionError, RespConnection } from './connection.ts';
import { SLOT_COUNT, SlotMap, hashSlot, redirectOf, splitAddress, type NodeAddress } from './cluster.ts';
import type { ResolvedRedisConfig } from './config.ts';
import type { Command, PlacementCounts, Reply } from './resp.ts';

/** The commands of one key, sent back to back to the node serving it. */
export interface KeyedCommands {
  readonly key: string;
  readonly commands: readonly Command[];
}

/** Redirects one key's commands may follow before they fail. */
const MAX_REDIRECTS = 5;
/** After a failed connect, calls fail at once for this long instead of trying again. */
const RECONNECT_BACKOFF_MS = 200;
/** Least time between two slot map refreshes. */
const REFRESH_INTERVAL_MS = 100;
const ASKING: Command = { args: ['ASKING'] };

/** Counters of what went wrong and where loaded bytes came from, for `status()`. */
export interface NodeCounters extends PlacementCounts {
  /** Connections that failed (refused, reset, timed out). */
  connectionFailures: number;
  /** MOVED and ASK redirects followed. */
  redirects: number;
  /** Slot map refreshes done. */
  refreshes: number;
}

/** See the file comment. */
export class Nodes {
  readonly #config: ResolvedRedisConfig;
  readonly #connections = new Map<NodeAddress, RespConnection>();
  readonly #connecting = new Map<NodeAddress, Promise<RespConnection>>();
  /** Nodes whose last connect failed, until when they are not tried again. */
  readonly #downUntil = new Map<NodeAddress, number>();
  #slots: SlotMap | undefined;
  #stale = true;
  #lastRefresh = -Infinity;
  #refreshing: Promise<void> | undefined;
  #closed = false;
  /** See {@link NodeCounters}. */
  readonly counters: NodeCounters = { connectionFailures: 0, redirects: 0, refreshes: 0, loadBytesInPlace: 0, loadBytesCopied: 0 };

  /** Nodes of `config`; nothing is connected until the first call. */
  constructor(config: ResolvedRedisConfig) {
    this.#config = config;
  }

  /** The masters known: the one server, or every node serving slots (the seeds until a map is read). */
  masters(): NodeAddress[] {
    if (!this.#config.cluster) return [this.#seedAddresses()[0]];
    return this.#slots?.masters() ?? this.#seedAddresses();
  }

  /** Slots no known master serves (0 for one server). */
  uncoveredSlots(): number {
    if (!this.#config.cluster) return 0;
    let n = 0;
    for (let slot = 0; slot < SLOT_COUNT; slot++) if (this.#slots?.owner(slot) === undefined) n++;
    return n;
  }

  #seedAddresses(): NodeAddress[] {
    return this.#config.servers.map((s) => `${s.host}:${s.port}`);
  }

  /** The open connection to `address`, connecting if needed. */
  async #connection(address: NodeAddress): Promise<RespConnection> {
    if (this.#closed) throw new ConnectionError('the adapter is closed');
    const open = this.#connections.get(address);
    if (open !== undefined && !open.failed) return open;
    const pending = this.#connecting.get(address);
    if (pending !== undefined) return pending;
    if ((this.#downUntil.get(address) ?? 0) > Date.now()) throw new ConnectionError(`${address} is down (its last connect failed)`);
    const { host, port } = splitAddress(address);
    const connecting = RespConnection.open(host, port, this.#config.connectTimeoutMs, this.counters).then(
      (conn) => {
        this.#connecting.delete(address);
        this.#downUntil.delete(address);
        if (this.#closed) {
          conn.close();
          throw new ConnectionError('the adapter is closed');
        }
        this.#connections.set(address, conn);
        return conn;
      },
      (err: unknown) => {
        this.#connecting.delete(address);
        this.#failed(address);
        throw err;
      },
    );
    this.#connecting.set(address, connecting);
    return connecting;
  }

  /** A node failed: count it, back off, and re-read the slot map soon (its slots may have moved). */
  #failed(address: NodeAddress): void {
    this.counters.connectionFailures++;
    this.#downUntil.set(address, Date.now() + RECONNECT_BACKOFF_MS);
    this.#stale = true;
  }

  /** Sends `commands` to `address`; a connection failure rejects (and is recorded). */
  async send(address: NodeAddress, commands: readonly Command[]): Promise<Reply[]> {
    const conn = await this.#connection(address);
    try {
      return await conn.send(commands, this.#config.commandTimeoutMs);
    } catch (err) {
      if (err instanceof ConnectionError) this.#failed(address);
      throw err;
    }
  }

  /** Re-reads the slot map (cluster mode) when it may be stale and was not read just now. */
  async #refreshIfStale(): Promise<void> {
    if (!this.#config.cluster || !this.#stale || performance.now() - this.#lastRefresh < REFRESH_INTERVAL_MS) return;
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    this.#lastRefresh = performance.now();
    const candidates = [...new Set([...(this.#slots?.masters() ?? []), ...this.#seedAddresses()])];
    for (const address of candidates) {
      try {
        const [reply] = await this.send(address, [{ args: ['CLUSTER', 'SLOTS'] }]);
        this.#slots = SlotMap.fromClusterSlots(reply, splitAddress(address).host);
        this.#stale = false;
        this.counters.refreshes++;
        return;
      } catch {
        // The next candidate may answer.
      }
    }
  }

  /** The node serving `key` now, or undefined when no known node serves its slot. */
  #nodeOf(key: string): NodeAddress | undefined {
    if (!this.#config.cluster) return this.#seedAddresses()[0];
    return this.#slots?.owner(hashSlot(key));
  }

  /**
   * Runs each key's commands on the node serving it (all nodes at once, each pipelined) and
   * answers, per key, its replies or the error that failed it (a connection failure, no node for
   * its slot, too many redirects). Error replies other than redirects are replies.
   */
  async route(items: readonly KeyedCommands[]): Promise<(Reply[] | Error)[]> {
    await this.#refreshIfStale();
    const results: (Reply[] | Error)[] = new Array(items.length);
    let todo = items.map((_, i) => ({ i, address: this.#nodeOf(items[i].key), asking: false }));
    for (let round = 0; round <= MAX_REDIRECTS && todo.length > 0; round++) {
      const byNode = new Map<NodeAddress, typeof todo>();
      for (const t of todo) {
        if (t.address === undefined) results[t.i] = new ConnectionError(`no node serves the slot of ${items[t.i].key}`);
        else {
          const group = byNode.get(t.address);
          if (group === undefined) byNode.set(t.address, [t]);
          else group.push(t);
        }
      }
      const next: typeof todo = [];
      await Promise.all([...byNode].map(async ([address, group]) => {
        const commands = group.flatMap((t) => (t.asking ? items[t.i].commands.flatMap((c) => [ASKING, c]) : items[t.i].commands));
        let replies: Reply[];
        try {
          replies = await this.send(address, commands);
        } catch (err) {
          for (const t of group) results[t.i] = err instanceof Error ? err : new Error(String(err));
          return;
        }
        let at = 0;
        for (const t of group) {
          const n = items[t.i].commands.length * (t.asking ? 2 : 1);
          const own = replies.slice(at, at + n).filter((_, j) => !t.asking || j % 2 === 1);
          at += n;
          const redirect = own.map(redirectOf).find((r) => r !== undefined);
          if (redirect === undefined) {
            results[t.i] = own;
            continue;
          }
          this.counters.redirects++;
          if (redirect.kind === 'MOVED') {
            this.#slots?.move(redirect.slot, redirect.address);
            this.#stale = true;
          }
          next.push({ i: t.i, address: redirect.address, asking: redirect.kind === 'ASK' });
        }
      }));
      todo = next;
    }
    for (const t of todo) results[t.i] = new ConnectionError(`${items[t.i].key}: more than ${MAX_REDIRECTS} redirects`);
    return results;
  }

  /** Sends `command` to every known master; per master its reply or the error. */
  async broadcast(command: Command): Promise<Map<NodeAddress, Reply | Error>> {
    await this.#refreshIfStale();
    const masters = this.masters();
    const replies = await Promise.all(masters.map((address) => this.send(address, [command]).then(
      ([reply]) => reply,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    )));
    return new Map(masters.map((address, i) => [address, replies[i]]));
  }

  /** Closes every connection; commands in flight fail. */
  close(): void {
    this.#closed = true;
    for (const conn of this.#connections.values()) conn.close();
    this.#connections.clear();
  }
}
