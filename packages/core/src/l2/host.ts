/**
 * The adapter host (docs/architecture.md §8): wraps one raw {@link L2Adapter} with what every adapter needs
 * and none implements itself — the integrity envelope on every object, pins, L2 events for the
 * eviction worker, metrics, and error normalisation into `KVT_ERR_ADAPTER` errors naming the
 * adapter. It reads and writes L1 slots in place: payloads go from the slot view to the adapter
 * and back without a copy in between.
 *
 * It runs in the adapter's worker (see `serve.ts`) but is a plain class, testable in-process.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Bitmap } from '../shm/bitmap.ts';
import { ErrorCode, KvtierError, invalidArgument } from '../errors.ts';
import { assertDigestBatch } from '../digest-batch.ts';
import type { DigestBatch, L1 } from '../l1/api.ts';
import type { L2Adapter, L2Status } from './adapter.ts';
import { HEADER_BYTES, checkEnvelope, writeHeader, type EnvelopeFault } from './envelope.ts';
import { L2EventKind, type L2EventSink } from './events.ts';
import type { AdapterHostApi, BitmapData, L2Usage } from './host-api.ts';
import { HostMetrics } from './host-metrics.ts';
import { PinTable, assertPinOwner } from './pins.ts';

/**
 * Payload bytes per adapter call. A batch is cut into groups of about this many bytes, each sent
 * as soon as its checksums are done, so checksumming the next group overlaps the I/O of the
 * previous one; small objects still travel many per call (pipelining for network adapters).
 */
export const GROUP_BYTES = 4 << 20;

/** What the host needs of L1: zero-copy slot views. */
export type SlotViews = Pick<L1, 'view'>;

/** Options of {@link AdapterHost}. */
export interface AdapterHostOptions {
  /** The adapter to host; the host owns it and closes it. */
  readonly adapter: L2Adapter;
  /** The adapter's index in the engine's list (metrics label, error messages). */
  readonly index: number;
  /** The adapter's type (metrics label, error messages). */
  readonly type: string;
  /** L1, attached in this thread: where payloads are read from and loaded into. */
  readonly l1: SlotViews;
  /** Where stored/accessed/deleted events go; none when omitted. */
  readonly events?: L2EventSink;
}

function subBatch(keys: DigestBatch, indices: readonly number[]): DigestBatch {
  const out = new Uint32Array(indices.length * 4);
  for (let j = 0; j < indices.length; j++) out.set(keys.subarray(indices[j] * 4, indices[j] * 4 + 4), j * 4);
  return out;
}

/** Groups of consecutive key indices with about {@link GROUP_BYTES} payload bytes each. */
function groupsOf(sizes: ArrayLike<number>): number[][] {
  const groups: number[][] = [];
  let group: number[] = [];
  let bytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    group.push(i);
    bytes += sizes[i];
    if (bytes >= GROUP_BYTES) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * The error to reject with when every group of a batch failed; undefined when at least one group
 * succeeded (the keys of failed groups then answer 0 / miss, and the failures were counted).
 */
function wholeFailure(settled: PromiseSettledResult<void>[]): unknown {
  if (settled.length === 0 || settled.some((s) => s.status === 'fulfilled')) return undefined;
  return (settled[0] as PromiseRejectedResult).reason;
}

/** A load's answers so far: the keys loaded and checked, and the bad objects to discard. */
interface Verdicts {
  readonly loaded: Bitmap;
  readonly bad: number[];
}

/**
 * Implements {@link AdapterHostApi} over one adapter. `store` and `load` answer per key; they
 * reject (with `KVT_ERR_ADAPTER` naming the adapter) only when the adapter failed the whole batch.
 */
export class AdapterHost implements AdapterHostApi {
  readonly #adapter: L2Adapter;
  readonly #index: number;
  readonly #type: string;
  readonly #l1: SlotViews;
  readonly #events: L2EventSink | undefined;
  /** Pins held against eviction, per key and owner (pins.ts). */
  readonly #pins = new PinTable();
  readonly #metrics: HostMetrics;
  #closed = false;

  constructor(options: AdapterHostOptions) {
    this.#adapter = options.adapter;
    this.#index = options.index;
    this.#type = options.type;
    this.#l1 = options.l1;
    this.#events = options.events;
    this.#metrics = new HostMetrics(options.index, options.type);
  }

  /** `adapter <index> (<type>)`, as error messages name this adapter. */
  get label(): string {
    return `adapter ${this.#index} (${this.#type})`;
  }

  /** This host's counters (tests, status). */
  get counters(): HostMetrics {
    return this.#metrics;
  }

  #assertOpen(): void {
    if (this.#closed) throw new KvtierError(ErrorCode.CLOSED, `${this.label} is closed`);
  }

  #checkBatch(keys: DigestBatch, slots: Int32Array, sizes: Uint32Array): number {
    assertDigestBatch(keys);
    const n = keys.length / 4;
    if (!(slots instanceof Int32Array) || slots.length !== n) invalidArgument(`slots must be an Int32Array of ${n} slot references (one per key)`);
    if (!(sizes instanceof Uint32Array) || sizes.length !== n) invalidArgument(`sizes must be a Uint32Array of ${n} sizes (one per key)`);
    return n;
  }

  /** Runs an adapter call, counting and normalising its failure. */
  async #call<T>(op: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      this.#metrics.error(op);
      if (err instanceof KvtierError && err.code === ErrorCode.ADAPTER) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new KvtierError(ErrorCode.ADAPTER, `${this.label}: ${op} failed: ${message}`, { cause: err });
    }
  }

  #views(slots: Int32Array, sizes: Uint32Array): Uint8Array[] {
    return Array.from(slots, (slot, i) => this.#l1.view(slot, sizes[i]));
  }

  async store(keys: DigestBatch, slots: Int32Array, sizes: Uint32Array): Promise<Uint8Array> {
    this.#assertOpen();
    const n = this.#checkBatch(keys, slots, sizes);
    // Every view first: a bad slot fails the call before anything is sent.
    const payloads = this.#views(slots, sizes);
    const ok = new Uint8Array(n);
    const failure = await (this.#adapter.storeSealed === undefined ? this.#sealAndStore(keys, payloads, ok) : this.#storeSealed(keys, payloads, ok));
    for (let i = 0; i < n; i++) {
      this.#metrics.stored(ok[i] === 1, sizes[i]);
      if (ok[i] === 1) this.#events?.push(L2EventKind.STORED, keys, i, HEADER_BYTES + sizes[i]);
    }
    if (failure !== undefined) throw failure;
    return ok;
  }

  /**
   * The adapter seals where it writes (`L2Adapter.storeSealed`): the whole batch in one call.
   * Fills `ok` (1 stored); resolves to the error of a failed batch, else undefined.
   */
  async #storeSealed(keys: DigestBatch, payloads: Uint8Array[], ok: Uint8Array): Promise<unknown> {
    try {
      const stored = await this.#call('store', () => this.#adapter.storeSealed!(keys, payloads));
      for (let i = 0; i < payloads.length; i++) ok[i] = stored[i] === 1 ? 1 : 0;
      return undefined;
    } catch (err) {
      return err;
    }
  }

  /**
   * This thread seals each object and hands groups of them to the adapter as they are ready.
   * Fills `ok` (1 stored); resolves to the error when every group failed, else undefined.
   */
  async #sealAndStore(keys: DigestBatch, payloads: Uint8Array[], ok: Uint8Array): Promise<unknown> {
    const pending: Promise<void>[] = [];
    const groups = groupsOf(payloads.map((p) => p.length));
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g];
      // Let the I/O of the groups already sent advance (their open completes, their write is
      // issued) before this thread tags the next group: tagging overlaps writing.
      if (g > 0) await yieldToLoop();
      const objects = group.map((i) => {
        const header = new Uint8Array(HEADER_BYTES);
        writeHeader(header, keys, i, payloads[i]);
        return [header, payloads[i]];
      });
      const sent = this.#call('store', () => this.#adapter.store(subBatch(keys, group), objects)).then((stored) => {
        for (let j = 0; j < group.length; j++) ok[group[j]] = stored[j] === 1 ? 1 : 0;
      });
      // Handled below by allSettled; marked handled now, as it may fail while this loop yields.
      sent.catch(() => {});
      pending.push(sent);
    }
    // Every group settles before the result (the caller releases its L1 read locks after this).
    return wholeFailure(await Promise.allSettled(pending));
  }

  async lookupAndLock(keys: DigestBatch, owner: number): Promise<{ found: BitmapData; sizes: Uint32Array }> {
    this.#assertOpen();
    assertDigestBatch(keys);
    assertPinOwner(owner);
    const n = keys.length / 4;
    // A released owner's lookup (one that reached this host after the release, on another port)
    // is answered as a miss without asking the adapter: nobody waits for its answer, and a miss
    // is safe for any caller that does, whereas an error would count against an adapter that did
    // nothing wrong.
    if (this.#pins.released(owner)) return { found: { size: n, words: new Bitmap(n).words }, sizes: new Uint32Array(n) };
    this.#pins.lookupStarted(owner);
    let lengths: Float64Array;
    let mayPin: boolean;
    try {
      lengths = await this.#call('lookup', () => this.#adapter.lookup(keys));
    } finally {
      mayPin = this.#pins.lookupEnded(owner);
    }
    const found = new Bitmap(n);
    const sizes = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      if (lengths[i] < HEADER_BYTES) continue;
      found.set(i);
      sizes[i] = lengths[i] - HEADER_BYTES;
      if (mayPin) this.#pins.pin(keys, i, owner);
    }
    this.#metrics.lookedUp(n, found.popcount());
    return { found: { size: found.size, words: found.words }, sizes };
  }

  async unlock(keys: DigestBatch, owner: number): Promise<void> {
    assertDigestBatch(keys);
    assertPinOwner(owner);
    this.#pins.unpin(keys, owner);
  }

  async release(owner: number): Promise<void> {
    assertPinOwner(owner);
    this.#pins.release(owner);
  }

  async loadAndUnlock(keys: DigestBatch, slots: Int32Array, sizes: Uint32Array, pinned: DigestBatch, owner: number): Promise<BitmapData> {
    assertDigestBatch(pinned, 'pinned');
    assertPinOwner(owner);
    // The pins go once the load can no longer read the adapter's objects (eviction may delete
    // them then), and before the answer leaves: whoever saw the answer sees them released.
    try {
      return await this.load(keys, slots, sizes);
    } finally {
      this.#pins.unpin(pinned, owner);
    }
  }

  async load(keys: DigestBatch, slots: Int32Array, sizes: Uint32Array): Promise<BitmapData> {
    this.#assertOpen();
    const n = this.#checkBatch(keys, slots, sizes);
    const payloads = this.#views(slots, sizes);
    const verdicts: Verdicts = { loaded: new Bitmap(n), bad: [] };
    const failure = await (this.#adapter.loadChecked === undefined ? this.#loadAndCheck(keys, payloads, verdicts) : this.#loadChecked(keys, payloads, verdicts));
    const { loaded, bad } = verdicts;
    if (bad.length > 0) await this.#discard(keys, bad.sort((a, b) => a - b));
    for (let i = 0; i < n; i++) {
      const hit = loaded.test(i);
      this.#metrics.loaded(hit, hit ? sizes[i] : 0);
      if (hit) this.#events?.push(L2EventKind.ACCESSED, keys, i, 0);
    }
    if (failure !== undefined) throw failure;
    return { size: loaded.size, words: loaded.words };
  }

  /** Takes key `i`'s envelope check: a hit, or a bad object (counted) to discard. */
  #judge(verdicts: Verdicts, i: number, fault: EnvelopeFault | null): void {
    if (fault === null) verdicts.loaded.set(i);
    else {
      this.#metrics.integrityFailure(fault);
      verdicts.bad.push(i);
    }
  }

  /**
   * The adapter checks where it reads (`L2Adapter.loadChecked`): the whole batch in one call.
   * Resolves to the error of a failed batch, else undefined.
   */
  async #loadChecked(keys: DigestBatch, payloads: Uint8Array[], verdicts: Verdicts): Promise<unknown> {
    try {
      const { lengths, faults } = await this.#call('load', () => this.#adapter.loadChecked!(keys, payloads));
      for (let i = 0; i < payloads.length; i++) if (lengths[i] >= 0) this.#judge(verdicts, i, faults[i]);
      return undefined;
    } catch (err) {
      return err;
    }
  }

  /**
   * Loads groups of objects and checks each on this thread as its group arrives. Resolves to the
   * error when every group failed, else undefined.
   */
  async #loadAndCheck(keys: DigestBatch, payloads: Uint8Array[], verdicts: Verdicts): Promise<unknown> {
    const pending: Promise<void>[] = [];
    for (const group of groupsOf(payloads.map((p) => p.length))) {
      const headers = group.map(() => new Uint8Array(HEADER_BYTES));
      pending.push(
        this.#call('load', () => this.#adapter.load(subBatch(keys, group), group.map((i, j) => [headers[j], payloads[i]]))).then((lengths) => {
          for (let j = 0; j < group.length; j++) {
            const i = group[j];
            if (lengths[j] >= 0) this.#judge(verdicts, i, checkEnvelope(headers[j], payloads[i], keys, i, lengths[j]));
          }
        }),
      );
    }
    return wholeFailure(await Promise.allSettled(pending));
  }

  /** Deletes objects that failed their integrity check, pinned or not: they must never be served. */
  async #discard(keys: DigestBatch, indices: number[]): Promise<void> {
    const batch = subBatch(keys, indices);
    const deleted = await this.#call('delete', () => this.#adapter.delete(batch));
    for (let j = 0; j < indices.length; j++) {
      if (deleted[j] === 1) this.#events?.push(L2EventKind.DELETED, batch, j, 0);
    }
  }

  async delete(keys: DigestBatch): Promise<Uint8Array> {
    this.#assertOpen();
    assertDigestBatch(keys);
    const n = keys.length / 4;
    const result = new Uint8Array(n);
    const unpinned: number[] = [];
    for (let i = 0; i < n; i++) {
      if (this.#pins.pinned(keys, i)) this.#metrics.skippedPinned();
      else unpinned.push(i);
    }
    if (unpinned.length === 0) return result;
    const batch = subBatch(keys, unpinned);
    const deleted = await this.#call('delete', () => this.#adapter.delete(batch));
    for (let j = 0; j < unpinned.length; j++) {
      if (deleted[j] !== 1) continue;
      result[unpinned[j]] = 1;
      this.#metrics.deleted();
      this.#events?.push(L2EventKind.DELETED, batch, j, 0);
    }
    return result;
  }

  async usage(): Promise<L2Usage> {
    this.#assertOpen();
    return this.#call('usage', () => this.#adapter.usage());
  }

  async pinCount(): Promise<number> {
    return this.#pins.size;
  }

  async status(): Promise<{ healthy: boolean; [k: string]: unknown }> {
    let adapter: L2Status;
    if (this.#closed) adapter = { healthy: false, closed: true };
    else {
      try {
        adapter = await this.#adapter.status();
      } catch (err) {
        this.#metrics.error('status');
        adapter = { healthy: false, error: err instanceof Error ? err.message : String(err) };
      }
    }
    return { healthy: adapter.healthy, index: this.#index, type: this.#type, pinnedKeys: this.#pins.size, adapter };
  }

  async metrics(): Promise<string> {
    return this.#metrics.prometheus(this.#pins.size);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pins.clear();
    await this.#call('close', () => this.#adapter.close());
  }
}
