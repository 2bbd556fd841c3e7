/**
 * Redis Cluster routing: the hash slot of a key, the slot map read from `CLUSTER SLOTS`, and the
 * `MOVED` / `ASK` redirects a node answers for a slot it does not serve.
 */
import { RespError, type Reply } from './resp.ts';

/** Hash slots of a cluster. */
export const SLOT_COUNT = 16384;

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/**
 * The hash slot of `key` (CRC16/XMODEM mod 16384). The adapter's keys never contain `{`, so the
 * whole key is hashed (hash tags do not apply): keys spread over every node.
 */
export function hashSlot(key: string): number {
  let crc = 0;
  for (let i = 0; i < key.length; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ key.charCodeAt(i)) & 0xff];
  return crc % SLOT_COUNT;
}

/** A node address, `host:port`. */
export type NodeAddress = string;

/** Splits `host:port` (an IPv6 host may contain colons: the port is after the last one). */
export function splitAddress(address: NodeAddress): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

/** A redirect answered by a node: the slot lives elsewhere for good (`MOVED`) or for this one command (`ASK`). */
export interface Redirect {
  readonly kind: 'MOVED' | 'ASK';
  readonly slot: number;
  readonly address: NodeAddress;
}

/** The redirect an error reply asks for, or undefined when it is not one. */
export function redirectOf(reply: Reply): Redirect | undefined {
  if (!(reply instanceof RespError)) return undefined;
  const kind = reply.kind;
  if (kind !== 'MOVED' && kind !== 'ASK') return undefined;
  const [, slot, address] = reply.message.split(' ');
  return address === undefined ? undefined : { kind, slot: Number(slot), address };
}

/** Which master serves each hash slot (`undefined`: no node does). */
export class SlotMap {
  readonly #owners: (NodeAddress | undefined)[] = new Array(SLOT_COUNT).fill(undefined);

  /**
   * The map a `CLUSTER SLOTS` reply describes: `[[start, end, [host, port, id], replica…], …]`.
   * An empty host means the node that answered (`fallbackHost`).
   */
  static fromClusterSlots(reply: Reply, fallbackHost: string): SlotMap {
    if (!Array.isArray(reply)) throw new Error(`CLUSTER SLOTS answered ${reply instanceof RespError ? reply.message : typeof reply}`);
    const map = new SlotMap();
    for (const range of reply) {
      if (!Array.isArray(range) || range.length < 3 || !Array.isArray(range[2])) continue;
      const [start, end, master] = range as [number, number, Reply[]];
      const host = master[0] === null || String(master[0]) === '' || String(master[0]) === '?' ? fallbackHost : String(master[0]);
      const address = `${host}:${Number(master[1])}`;
      for (let slot = Number(start); slot <= Number(end) && slot < SLOT_COUNT; slot++) map.#owners[slot] = address;
    }
    return map;
  }

  /** The master serving `slot`, if any. */
  owner(slot: number): NodeAddress | undefined {
    return this.#owners[slot];
  }

  /** Records that `slot` moved to `address` (a `MOVED` redirect). */
  move(slot: number, address: NodeAddress): void {
    this.#owners[slot] = address;
  }

  /** Every master serving at least one slot. */
  masters(): NodeAddress[] {
    return [...new Set(this.#owners.filter((a): a is NodeAddress => a !== undefined))];
  }
}
