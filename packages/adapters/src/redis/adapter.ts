/**
 * The `redis` adapter: L2 in a Redis (≥ 7) or Valkey (≥ 8) server or cluster, shared by every
 * engine process that points at it.
 *
 * - One key per object, `<keyPrefix><32 hex digits>`: a hash of two fields written by one `HSET`
 *   (a store is atomic; nothing else is written that could be orphaned). The layout is in
 *   `layout.ts`: it keeps power-of-two payloads out of the allocator's next size class.
 * - Every call is one pipeline per node of per-key commands (`HSET`, `HSTRLEN`, `HMGET`, `DEL`):
 *   no multi-key command, so no call fails across cluster slots.
 * - Values are written from and read into the caller's views (L1 slots) without a copy; see
 *   `connection.ts`. A load that times out drops its connection before it fails.
 * - A full server (`-OOM` under `noeviction`) answers "not stored", counted. A key whose node is
 *   unreachable fails alone (not stored, or a miss); when every key of a call failed that way the
 *   call throws, so the engine counts an adapter error.
 * - Usage is the servers' `used_memory` summed over the masters, against `capacityBytes` or else
 *   their summed `maxmemory`, so the engine's L2 eviction can evict through `delete`.
 *
 * Config: see `config.ts` and docs/adapters/redis.md.
 */
import { ErrorCode, KvtierError, digestHex, type AdapterConfig, type DigestBatch } from '@kvtier/core';
import type { AdapterContext, L2Adapter, L2Status, L2Usage } from '@kvtier/core/authoring';
import { totalLength } from '../parts.ts';
import { resolveConfig, type RedisAdapterConfig, type ResolvedRedisConfig } from './config.ts';
import { BODY_FIELD, TAIL_FIELD, bodyLength, partsRange } from './layout.ts';
import { Nodes, type KeyedCommands } from './nodes.ts';
import { RespError, type Reply } from './resp.ts';

export { configSchema, validateConfig, type RedisAdapterConfig } from './config.ts';

/** Creates a {@link RedisAdapter}; in cluster mode it reads the slot map first. */
export async function createAdapter(config: AdapterConfig, ctx?: AdapterContext): Promise<L2Adapter> {
  return RedisAdapter.open(config as RedisAdapterConfig, ctx?.field);
}

/** What the adapter counted, reported by `status()`. */
interface Counts {
  /** Stores the server refused because it was full (`-OOM`). */
  notStoredFull: number;
  /** Stores refused with another error reply (e.g. `WRONGTYPE`: the key holds something else). */
  notStoredError: number;
  /** Per-key operations that failed because their node could not be reached or timed out. */
  keyFailures: number;
}

/** The value of `field:` in an `INFO` reply, or undefined. */
function infoField(info: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:(\\d+)\\r?$`, 'm').exec(info);
  return match === null ? undefined : Number(match[1]);
}

/** An {@link L2Adapter} over a Redis/Valkey server or cluster; see the file comment. */
export class RedisAdapter implements L2Adapter {
  readonly #config: ResolvedRedisConfig;
  readonly #nodes: Nodes;
  readonly #counts: Counts = { notStoredFull: 0, notStoredError: 0, keyFailures: 0 };
  #closed = false;

  private constructor(config: ResolvedRedisConfig) {
    this.#config = config;
    this.#nodes = new Nodes(config);
  }

  /** Validates `config` and, for a cluster, reads its slot map (servers that are down do not fail the open). */
  static async open(config: RedisAdapterConfig, field = 'adapter'): Promise<RedisAdapter> {
    const adapter = new RedisAdapter(resolveConfig(config, field));
    await adapter.#nodes.broadcast({ args: ['PING'] });
    return adapter;
  }

  #assertOpen(): void {
    if (this.#closed) throw new KvtierError(ErrorCode.CLOSED, `redis adapter (${this.#nodes.masters().join(', ')}) is closed`);
  }

  #key(keys: DigestBatch, i: number): string {
    return this.#config.keyPrefix + digestHex(keys, i);
  }

  /**
   * Runs `commandsOf(i)` for every key and maps each key's replies with `answer`; a key whose
   * node failed answers `failed`. Throws the first failure when every key failed.
   */
  async #perKey(
    keys: DigestBatch, commandsOf: (i: number) => KeyedCommands['commands'], answer: (replies: Reply[], i: number) => number, failed: number,
  ): Promise<number[]> {
    this.#assertOpen();
    const n = keys.length / 4;
    const items = Array.from({ length: n }, (_, i) => ({ key: this.#key(keys, i), commands: commandsOf(i) }));
    const results = await this.#nodes.route(items);
    if (n > 0 && results.every((r) => r instanceof Error)) {
      this.#counts.keyFailures += n;
      throw results[0];
    }
    return results.map((r, i) => {
      if (!(r instanceof Error)) return answer(r, i);
      this.#counts.keyFailures++;
      return failed;
    });
  }

  async store(keys: DigestBatch, objects: readonly (readonly Uint8Array[])[]): Promise<Uint8Array> {
    const stored = await this.#perKey(keys, (i) => {
      const parts = objects[i];
      const length = totalLength(parts);
      const body = bodyLength(length);
      return [{ args: ['HSET', this.#key(keys, i), BODY_FIELD, partsRange(parts, 0, body), TAIL_FIELD, partsRange(parts, body, length)] }];
    }, ([reply]) => {
      if (!(reply instanceof RespError)) return 1;
      if (reply.kind === 'OOM') this.#counts.notStoredFull++;
      else this.#counts.notStoredError++;
      return 0;
    }, 0);
    return Uint8Array.from(stored);
  }

  async lookup(keys: DigestBatch): Promise<Float64Array> {
    const lengths = await this.#perKey(keys, (i) => {
      const key = this.#key(keys, i);
      return [{ args: ['HSTRLEN', key, BODY_FIELD] }, { args: ['HSTRLEN', key, TAIL_FIELD] }];
    }, ([body, tail]) => (typeof body === 'number' && body > 0 && typeof tail === 'number' ? body + tail : -1), -1);
    return Float64Array.from(lengths);
  }

  async load(keys: DigestBatch, targets: readonly (readonly Uint8Array[])[]): Promise<Float64Array> {
    const lengths = await this.#perKey(keys, (i) => [{ args: ['HMGET', this.#key(keys, i), BODY_FIELD, TAIL_FIELD], into: targets[i] }], ([reply]) => {
      if (!Array.isArray(reply) || typeof reply[0] !== 'number') return -1;
      return reply[0] + (typeof reply[1] === 'number' ? reply[1] : 0);
    }, -1);
    return Float64Array.from(lengths);
  }

  async delete(keys: DigestBatch): Promise<Uint8Array> {
    const deleted = await this.#perKey(keys, (i) => [{ args: ['DEL', this.#key(keys, i)] }], ([reply]) => (reply === 1 ? 1 : 0), 0);
    return Uint8Array.from(deleted);
  }

  /**
   * `used_memory` summed over the masters that answered, against `capacityBytes` or the summed
   * `maxmemory` (-1 when any master has none). Throws when no master answered.
   */
  async usage(): Promise<L2Usage> {
    this.#assertOpen();
    const replies = [...(await this.#nodes.broadcast({ args: ['INFO', 'memory'] })).values()];
    const infos = replies.filter((r): r is Buffer => Buffer.isBuffer(r)).map((r) => r.toString('latin1'));
    if (infos.length === 0) throw replies.find((r) => r instanceof Error) ?? new Error('no master answered INFO memory');
    let used = 0;
    let max = 0;
    for (const info of infos) {
      used += infoField(info, 'used_memory') ?? 0;
      const limit = infoField(info, 'maxmemory') ?? 0;
      max = max < 0 || limit === 0 ? -1 : max + limit;
    }
    return { usedBytes: used, capacityBytes: this.#config.capacityBytes >= 0 ? this.#config.capacityBytes : max };
  }

  /**
   * `{ healthy, mode, nodes: [{ address, up }], uncoveredSlots, counts…, connectionFailures,
   * redirects, refreshes }`; every master is pinged. Healthy: every master answered and (cluster)
   * every slot is served.
   */
  async status(): Promise<L2Status> {
    const pings = this.#closed ? new Map<string, Reply | Error>() : await this.#nodes.broadcast({ args: ['PING'] });
    const nodes = [...pings].map(([address, reply]) => ({ address, up: reply === 'PONG' }));
    const uncoveredSlots = this.#nodes.uncoveredSlots();
    return {
      healthy: !this.#closed && nodes.every((n) => n.up) && uncoveredSlots === 0,
      mode: this.#config.cluster ? 'cluster' : 'single',
      keyPrefix: this.#config.keyPrefix,
      nodes,
      uncoveredSlots,
      ...this.#counts,
      ...this.#nodes.counters,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#nodes.close();
  }
}
