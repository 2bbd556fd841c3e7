/**
 * The `fs` adapter: one file per key under a base directory.
 *
 * - Names come from key digests only: `<baseDir>/<first 2 hex>/<32 hex>.kv`. Model names and
 *   salts never reach a path, so no key can name a file outside `baseDir`.
 * - A store writes the parts with `writev` to a temp file in the same shard directory, then
 *   renames it to the final name (unlinking an older object first): a reader sees the old
 *   object, none, or the new one — never a torn one.
 *   `fsync: true` also syncs the file and its directory before answering.
 * - Stores and loads run on `ioThreads` I/O threads (fs-io.ts), each object's file calls (create
 *   or open, the checks on the descriptor, the I/O, close) as one job, the jobs of one call handed
 *   to each thread as one message (sealed stores and checked loads: posted to a shared-memory ring
 *   the threads take them from, fs-io-ring.ts). The adapter
 *   has the `storeSealed` and `loadChecked` capabilities: the host hands it bare payloads, and the
 *   I/O thread that writes an object seals it, the one that reads an object checks its envelope,
 *   so tags are computed on several threads, next to the I/O.
 * - A load reads with `readv` straight into the caller's parts (an L1 slot view; other memory
 *   through a shared staging buffer), plus a one-byte probe that reveals a file longer than
 *   expected.
 * - At start a recovery scan rebuilds the index (key -> size) and usage from the files and
 *   removes the temp files a crash provably left behind (fs-temps.ts: another writer sharing the
 *   directory may have a store in flight). Anything else in the tree is left alone.
 * - Capacity: a store that would take usage past `capacityBytes` answers 0 for that key;
 *   eviction is the engine's (through `delete`).
 * - Health: while the base directory is gone (or not a directory) `status()` answers
 *   `healthy: false` with a `reason`; the adapter recovers by itself once it is back. It never
 *   re-creates a vanished base directory (it may be an unmounted volume: see the doc).
 * - Reconciliation: the index is re-checked against the disk (`lstat` of every indexed file) at
 *   most every `reconcileIntervalMs` when `usage()` is asked, and at once after a load or store
 *   found an indexed file missing, so files removed behind the adapter's back leave usage.
 *
 * Config: `{"type": "fs", "baseDir": "/abs/path", "capacityBytes"?: n, "fsync"?: false,
 * "reconcileIntervalMs"?: 30000, "ioThreads"?: 4}`.
 */
import { constants as fsConstants } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { ErrorCode, KvtierError, digestHex, type DigestBatch, type AdapterConfig } from '@kvtier/core';
import { HEADER_BYTES, adapterBlock, boolean, configError, integerFrom, nonEmptyString, parseBlock, v, type AdapterContext, type L2Adapter, type L2CheckedLoads, type L2Status, type L2Usage } from '@kvtier/core/authoring';
import { sharedIoThreads, type CheckedRead, type FsIoThreads, type FsObject, type ReadOutcome, type WriteOutcome } from './fs-io.ts';
import { totalLength } from './parts.ts';
import { TEMP_PREFIX, TempOwner } from './fs-temps.ts';

/** Config of an `fs` adapter. */
export interface FsAdapterConfig extends AdapterConfig {
  readonly type: 'fs';
  /** Absolute path of the directory that holds every file of this adapter; created if missing. */
  readonly baseDir: string;
  /** Sync each file and its directory before a store answers; default false. */
  readonly fsync?: boolean;
  /**
   * Least time between two reconciliations of the index with the disk that `usage()` starts;
   * default 30 000. 0 reconciles on every `usage()` call (still never two at once).
   */
  readonly reconcileIntervalMs?: number;
  /**
   * I/O threads that seal and write, read and check objects (fs-io.ts); default
   * {@link DEFAULT_IO_THREADS}. The fs adapters of one thread share one pool, of as many threads as
   * the largest of theirs.
   */
  readonly ioThreads?: number;
}

const DEFAULT_RECONCILE_INTERVAL_MS = 30_000;
/**
 * The default `ioThreads`: 4, or the cores the process may use if fewer. Sealing and checking are
 * CPU-bound, and threads beyond the cores only take turns with the engine's own workers: on 2
 * cores, 4 I/O threads stored at 0.52–0.57× `writeFile` through the engine and 2 at 0.72–0.74×
 * (`kvtier-bench l2 --io-threads`, two runs each).
 */
export const DEFAULT_IO_THREADS = Math.min(4, availableParallelism());
/** lstat calls a reconciliation keeps in flight: enough to keep the libuv pool busy, few enough to leave it to loads and stores. */
const RECONCILE_BATCH = 256;
/** Errors that say a path (or a directory on it) is not there. */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);
/** Errors of a rename whose target is a directory. */
const TARGET_IS_DIR = new Set(['EISDIR', 'ENOTEMPTY', 'EEXIST']);
/** Object file names: the 32 hex digits of the key digest. */
const OBJECT_FILE = /^([0-9a-f]{32})\.kv$/;
const SHARD_DIR = /^[0-9a-f]{2}$/;
/** A checked load of a key with no object. */
const ABSENT: CheckedRead = { bytes: -1, fault: null };

/** The schema of an `fs` block. */
export const configSchema = adapterBlock('fs', {
  baseDir: v.pipe(
    nonEmptyString,
    v.check((dir) => !dir.includes('\0'), 'must not contain NUL'),
    v.check(isAbsolute, (issue) => `must be an absolute path, got ${JSON.stringify(issue.input)}`),
    v.check((dir) => !dir.split(/[\\/]/).includes('..'), (issue) => `must not contain '..' segments, got ${JSON.stringify(issue.input)}`),
    v.check((dir) => !/^[\\/]+$/.test(dir), 'must not be the filesystem root'),
  ),
  fsync: v.optional(boolean),
  reconcileIntervalMs: v.optional(integerFrom(0)),
  ioThreads: v.optional(integerFrom(1)),
}, 'an fs adapter');

/** Throws CONFIG naming the first bad `fs` field under `field`. */
export function validateConfig(config: AdapterConfig, field: string): void {
  parseBlock(configSchema, config, field);
}

/** Creates an {@link FsAdapter} and runs its recovery scan. */
export async function createAdapter(config: AdapterConfig, ctx?: AdapterContext): Promise<L2Adapter> {
  return FsAdapter.open(config as FsAdapterConfig, ctx?.field, ctx);
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/**
 * Per-key answers of a batch: a key whose operation failed answers `failed` (a store not done, a
 * load missed), so one bad file does not fail its neighbours. Throws the first error when every
 * key failed: a systemic fault (permissions, a full disk) surfaces with its message.
 */
async function perKey<T>(work: Promise<T>[], failed: T): Promise<T[]> {
  const settled = await Promise.allSettled(work);
  if (settled.length > 0 && settled.every((s) => s.status === 'rejected')) throw (settled[0] as PromiseRejectedResult).reason;
  return settled.map((s) => (s.status === 'fulfilled' ? s.value : failed));
}

/**
 * Why the base directory cannot be used, as a coded error naming it: what the config got wrong
 * (a file or a device where a directory belongs, a name too long) is `KVT_ERR_CONFIG`; what the
 * machine refuses (permissions, a full or read-only disk, I/O errors) is `KVT_ERR_ADAPTER`.
 */
function startError(err: unknown, field: string, where: string): KvtierError {
  const code = errno(err);
  const problem = {
    EEXIST: 'exists and is not a directory',
    ENOTDIR: 'has a path component that is not a directory',
    ENAMETOOLONG: 'has a name or a path component that is too long (the limit is usually 255 bytes a component)',
    ELOOP: 'has too many symbolic links in its path',
  }[code ?? ''];
  if (problem !== undefined) return new KvtierError(ErrorCode.CONFIG, `config.${field}: ${where} ${problem}`, { cause: err });
  const refusal = {
    ENOENT: 'cannot be created: its parent directory does not accept new directories',
    EACCES: 'cannot be created or used: permission denied',
    EPERM: 'cannot be created or used: operation not permitted',
    EROFS: 'is on a read-only file system',
    ENOSPC: 'cannot be created: the disk is full',
  }[code ?? ''];
  const reason = refusal ?? (err instanceof Error ? err.message : String(err));
  return new KvtierError(ErrorCode.ADAPTER, `fs adapter: cannot use baseDir ${where}: ${reason}`, { cause: err });
}

/**
 * `mkdir -p` one level at a time. Node's `mkdir(dir, { recursive: true })` never returns where
 * `mkdir` answers ENOENT under a parent that exists (under `/proc`: it retries the same call in a
 * libuv thread forever), which hung `KvCache.open` and held that thread for good.
 */
async function makeDirectories(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (err) {
    // Something that is not a directory (or a link to one) answers EEXIST, as recursive mkdir did.
    if (errno(err) === 'EEXIST' && (await stat(dir)).isDirectory()) return;
    if (errno(err) !== 'ENOENT' || dirname(dir) === dir) throw err;
    await makeDirectories(dirname(dir));
    await mkdir(dir).catch((again) => { if (errno(again) !== 'EEXIST') throw again; });
  }
}

/** An {@link L2Adapter} over a directory tree. */
export class FsAdapter implements L2Adapter {
  readonly #baseDir: string;
  readonly #capacity: number;
  readonly #fsync: boolean;
  readonly #io: FsIoThreads;
  /** Size of every object file, by hex digest. */
  readonly #index = new Map<string, number>();
  /** Shard directories known to exist as real directories. */
  readonly #shards = new Set<string>();
  #used = 0;
  /** Bytes of stores in flight, counted against capacity until they land or fail. */
  #reserved = 0;
  /** Names this adapter's temp files and judges others' (fs-temps.ts). */
  readonly #temps: TempOwner;
  #removedTemps = 0;
  #closed = false;
  /** Data calls not settled yet: `close()` waits for them, so no I/O of this adapter outlives it. */
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Why the base directory is unusable, while it is; undefined when healthy. */
  #unhealthy: string | undefined;
  readonly #reconcileInterval: number;
  /** When the last reconciliation (or the recovery scan) finished, ms since the epoch. */
  #lastReconcile = Date.now();
  /** The reconciliation in flight: at most one runs, later callers join it. */
  #reconciling: Promise<void> | undefined;
  /**
   * Keys stored or forgotten while a reconciliation runs: its lstat of them may predate the
   * change, so it leaves them as they are. Undefined when none runs.
   */
  #touched: Set<string> | undefined;

  private constructor(baseDir: string, config: FsAdapterConfig, ctx: Pick<AdapterContext, 'lineage' | 'generation'> | undefined) {
    this.#baseDir = baseDir;
    this.#temps = new TempOwner(ctx?.lineage, ctx?.generation ?? 0);
    this.#capacity = config.capacityBytes ?? -1;
    this.#fsync = config.fsync ?? false;
    this.#reconcileInterval = config.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS;
    this.#io = sharedIoThreads(config.ioThreads ?? DEFAULT_IO_THREADS);
  }

  /**
   * Creates `config.baseDir` if needed, checks it is a directory, and runs the recovery scan.
   * @param field - the config path error messages name
   * @param ctx - the engine's lineage and generation of this adapter's host, which name its temp
   *   files (a fresh lineage when absent)
   */
  static async open(config: FsAdapterConfig, field = 'adapter', ctx?: Pick<AdapterContext, 'lineage' | 'generation'>): Promise<FsAdapter> {
    validateConfig(config, field);
    const where = JSON.stringify(config.baseDir);
    let baseDir: string;
    try {
      await makeDirectories(config.baseDir);
      baseDir = await realpath(config.baseDir);
    } catch (err) {
      throw startError(err, `${field}.baseDir`, where);
    }
    if (!(await lstat(baseDir)).isDirectory()) configError(`${field}.baseDir`, `${where} is not a directory`);
    const adapter = new FsAdapter(baseDir, config, ctx);
    // The first I/O thread starts while the recovery scan runs.
    adapter.#io.warm();
    try {
      await adapter.#recover();
    } catch (err) {
      throw startError(err, `${field}.baseDir`, where);
    }
    return adapter;
  }

  /** The resolved base directory. */
  get baseDir(): string {
    return this.#baseDir;
  }

  /** Temp files the recovery scan removed (orphans only: see fs-temps.ts). */
  get removedTempFiles(): number {
    return this.#removedTemps;
  }

  async #recover(): Promise<void> {
    const now = Date.now();
    for (const shard of await readdir(this.#baseDir, { withFileTypes: true })) {
      if (!shard.isDirectory() || !SHARD_DIR.test(shard.name)) continue;
      const dir = join(this.#baseDir, shard.name);
      this.#shards.add(shard.name);
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (!entry.isFile()) continue;
        if (entry.name.startsWith(TEMP_PREFIX)) {
          await this.#removeIfOrphan(join(dir, entry.name), entry.name, now);
          continue;
        }
        const m = OBJECT_FILE.exec(entry.name);
        if (m === null || !m[1].startsWith(shard.name)) continue;
        const { size } = await lstat(join(dir, entry.name));
        this.#index.set(m[1], size);
        this.#used += size;
      }
    }
  }

  /** Removes the temp file at `path` when it is provably an orphan; another writer's store in flight is left alone. */
  async #removeIfOrphan(path: string, name: string, now: number): Promise<void> {
    // Gone meanwhile: its writer renamed or removed it.
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined || !this.#temps.isOrphan(name, info.mtimeMs, now)) return;
    await unlink(path).catch(() => {});
    this.#removedTemps++;
  }

  #assertOpen(): void {
    if (this.#closed) throw new KvtierError(ErrorCode.CLOSED, `fs adapter at ${this.#baseDir} is closed`);
  }

  /** Runs data call `work` once the adapter is known open, counted in flight until it settles. */
  #call<T>(work: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    const call = work();
    this.#inFlight.add(call);
    const forget = () => this.#inFlight.delete(call);
    call.then(forget, forget);
    return call;
  }

  /** The object file of a key. The name is 32 hex digits, so the path stays under baseDir. */
  #path(hex: string): string {
    return join(this.#baseDir, hex.slice(0, 2), `${hex}.kv`);
  }

  async #shardDir(hex: string): Promise<string> {
    const shard = hex.slice(0, 2);
    const dir = join(this.#baseDir, shard);
    if (this.#shards.has(shard)) return dir;
    await mkdir(dir).catch((err) => {
      if (errno(err) !== 'EEXIST') throw err;
    });
    // A symlink planted in the tree would lead writes elsewhere: only a real directory will do.
    if (!(await lstat(dir)).isDirectory()) throw new Error(`${dir} is not a directory`);
    this.#shards.add(shard);
    return dir;
  }

  /** Stores one object of `size` bytes (its envelope header included when sealed). */
  async #storeOne(hex: string, object: FsObject, size: number): Promise<number> {
    const previous = this.#index.get(hex) ?? 0;
    if (this.#capacity >= 0 && this.#used + this.#reserved - previous + size > this.#capacity) return 0;
    this.#reserved += size;
    try {
      try {
        await this.#storeAttempt(hex, object, size);
      } catch (err) {
        if (!MISSING.has(errno(err) ?? '')) throw err;
        // A directory on the way is gone: the cached shard set no longer says what exists.
        this.#shards.clear();
        this.#kickReconcile();
        if (!(await this.#checkBaseDir())) throw err;
        // Only a shard was removed: one more try re-creates it.
        await this.#storeAttempt(hex, object, size);
      }
      this.#healthy();
      return 1;
    } finally {
      this.#reserved -= size;
    }
  }

  /** One try at writing a key's object; throws what failed. */
  async #storeAttempt(hex: string, object: FsObject, size: number): Promise<void> {
    const dir = await this.#shardDir(hex);
    const temp = join(dir, this.#temps.nameFor(hex));
    const path = this.#path(hex);
    // The I/O thread creates, writes and closes the temp file (it removes it when that fails),
    // then unlinks the old object (when there is one) and renames the temp file to its name.
    // A load in between is a miss.
    let outcome: WriteOutcome;
    try {
      outcome = await this.#io.write(temp, object, this.#fsync, { to: path, replace: this.#index.has(hex) });
    } catch (err) {
      if (errno(err) === ErrorCode.WORKER) await this.#reindexAfterFailedWrite(hex, temp);
      throw err;
    }
    if (outcome.openedAt !== undefined) throw new Error(`${dir} no longer leads to a directory under ${this.#baseDir} (a temp file opened at ${outcome.openedAt})`);
    // The indexed file was removed behind our back: others may have gone with it.
    if (outcome.replacedMissing === true) this.#kickReconcile();
    if (outcome.renameError !== undefined) {
      await this.#renameAgain(temp, path, outcome.renameError).catch(async (err: unknown) => {
        // The old object was unlinked before the rename: the entry must not outlive it.
        await this.#reindexAfterFailedWrite(hex, temp);
        throw new KvtierError(ErrorCode.ADAPTER, `fs adapter: the store of key ${hex} could not rename its temp file into place under ${this.#baseDir} `
          + `(${err instanceof Error ? err.message : String(err)}); ${this.#index.has(hex) ? 'the old object stays' : 'the key is absent now'}`, { cause: err });
      });
    }
    if (this.#fsync) await this.#syncDir(dir);
    this.#indexed(hex, size);
  }

  /** Key `hex` has an object file of `size` bytes. */
  #indexed(hex: string, size: number): void {
    this.#used += size - (this.#index.get(hex) ?? 0);
    this.#index.set(hex, size);
    this.#touched?.add(hex);
  }

  /**
   * A store of key `hex` through `temp` failed where the old object may be gone: the I/O thread
   * died before it answered (it may have left the temp file, unlinked the old object, or renamed
   * the new one into place), or the rename failed after the old object was unlinked. The temp file
   * is removed and the key's entry taken from what its name holds now (a complete object, old or
   * new: the rename comes only after the whole write), so the index and usage match the files.
   */
  async #reindexAfterFailedWrite(hex: string, temp: string): Promise<void> {
    await unlink(temp).catch(() => {});
    // As a reconciliation does: only "not there" is news; another error (EACCES, EIO) leaves the entry.
    const info = await lstat(this.#path(hex)).catch((err) => (MISSING.has(errno(err) ?? '') ? null : undefined));
    if (info === undefined) return;
    if (info?.isFile() === true) this.#indexed(hex, info.size);
    else this.#forget(hex);
  }

  /**
   * The rename of a complete temp file failed with `err`: a directory at the object's name is
   * cleared and the rename tried once more; otherwise (or when that fails too) the error is thrown
   * (the caller removes the temp file).
   */
  async #renameAgain(temp: string, path: string, err: Error): Promise<void> {
    if (!TARGET_IS_DIR.has(errno(err) ?? '') || !(await this.#clearDirectoryAt(path))) throw err;
    await rename(temp, path);
  }

  /**
   * Removes a directory found at an object's name (a name only this adapter uses, under its base
   * directory), so that key can be stored again. True when it removed one. Links are never
   * followed: the path must resolve to itself (no component swapped for a symlink) and `lstat`
   * must say it is a real directory; `rm` does not follow links inside it.
   */
  async #clearDirectoryAt(path: string): Promise<boolean> {
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined || !info.isDirectory()) return false;
    if ((await realpath(path).catch(() => undefined)) !== path) return false;
    await rm(path, { recursive: true, force: true });
    return true;
  }

  async #syncDir(dir: string): Promise<void> {
    const fh = await open(dir, fsConstants.O_RDONLY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async store(keys: DigestBatch, objects: readonly (readonly Uint8Array[])[]): Promise<Uint8Array> {
    return this.#call(async () => Uint8Array.from(await perKey(objects.map((parts, i) => this.#storeOne(digestHex(keys, i), { parts }, totalLength(parts))), 0)));
  }

  /** Seals each payload on the I/O thread that writes it (see `L2Adapter.storeSealed`). */
  async storeSealed(keys: DigestBatch, payloads: readonly Uint8Array[]): Promise<Uint8Array> {
    return this.#call(async () => Uint8Array.from(await perKey(payloads.map((payload, i) => {
      const object = { parts: [payload], seal: keys.slice(i * 4, i * 4 + 4) };
      return this.#storeOne(digestHex(keys, i), object, HEADER_BYTES + payload.length);
    }), 0)));
  }

  async lookup(keys: DigestBatch): Promise<Float64Array> {
    this.#assertOpen();
    const lengths = new Float64Array(keys.length / 4);
    for (let i = 0; i < lengths.length; i++) lengths[i] = this.#index.get(digestHex(keys, i)) ?? -1;
    return lengths;
  }

  async load(keys: DigestBatch, targets: readonly (readonly Uint8Array[])[]): Promise<Float64Array> {
    return this.#call(async () => {
      const reads = await perKey(targets.map((parts, i) => this.#readOne(digestHex(keys, i), (path) => this.#io.read(path, parts))), ABSENT);
      return Float64Array.from(reads, (r) => r.bytes);
    });
  }

  /** Reads and checks each object on the I/O thread that reads it (see `L2Adapter.loadChecked`). */
  async loadChecked(keys: DigestBatch, payloads: readonly Uint8Array[]): Promise<L2CheckedLoads> {
    return this.#call(async () => {
      const reads = await perKey(payloads.map((payload, i) => this.#readOne(digestHex(keys, i), (path) => this.#io.readChecked(path, payload, keys.slice(i * 4, i * 4 + 4)))), ABSENT);
      return { lengths: Float64Array.from(reads, (r) => r.bytes), faults: reads.map((r) => r.fault) };
    });
  }

  /**
   * Reads key `hex`'s object with `read` (an I/O thread's read of its path, which opens only a
   * regular file at its own path); {@link ABSENT} when there is none.
   */
  async #readOne(hex: string, read: (path: string) => Promise<ReadOutcome>): Promise<CheckedRead> {
    const outcome = await read(this.#path(hex));
    if ('absent' in outcome) {
      this.#absent(hex, outcome.absent === 'ENOENT');
      return ABSENT;
    }
    this.#healthy();
    return outcome;
  }

  /**
   * Key `hex` has no object file (`gone`: none at all) or something else at its name: it leaves
   * the index. An indexed file that is gone was removed behind our back: the rest (and baseDir)
   * are checked.
   */
  #absent(hex: string, gone: boolean): void {
    if (this.#forget(hex) && gone) this.#kickReconcile();
  }

  #forget(hex: string): boolean {
    const size = this.#index.get(hex);
    if (size === undefined) return false;
    this.#index.delete(hex);
    this.#used -= size;
    this.#touched?.add(hex);
    return true;
  }

  async #deleteOne(hex: string): Promise<number> {
    try {
      await unlink(this.#path(hex));
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw err;
      this.#forget(hex);
      return 0;
    }
    this.#forget(hex);
    return 1;
  }

  async delete(keys: DigestBatch): Promise<Uint8Array> {
    return this.#call(async () => Uint8Array.from(await perKey(Array.from({ length: keys.length / 4 }, (_, i) => this.#deleteOne(digestHex(keys, i))), 0)));
  }

  /**
   * Answers from the index at once; when the last reconciliation is older than
   * `reconcileIntervalMs` it starts one in the background, so a later call sees its result.
   */
  async usage(): Promise<L2Usage> {
    this.#assertOpen();
    if (Date.now() - this.#lastReconcile >= this.#reconcileInterval) this.#kickReconcile();
    return { usedBytes: this.#used, capacityBytes: this.#capacity };
  }

  /**
   * Reconciles the index and usage with the disk: every indexed file is `lstat`ed again (in
   * batches); one that is gone or no longer a regular file is forgotten, a changed size is taken.
   * Also checks the base directory (see `status()`). Joins the reconciliation in flight if any.
   */
  async reconcile(): Promise<void> {
    this.#assertOpen();
    return this.#kickReconcile();
  }

  #kickReconcile(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#reconciling ??= this.#runReconcile().finally(() => {
      this.#reconciling = undefined;
    });
    return this.#reconciling;
  }

  async #runReconcile(): Promise<void> {
    const touched = new Set<string>();
    this.#touched = touched;
    try {
      await this.#checkBaseDir();
      // A snapshot: keys stored meanwhile are new files, checked next time.
      const hexes = [...this.#index.keys()];
      for (let i = 0; i < hexes.length && !this.#closed; i += RECONCILE_BATCH) {
        const batch = hexes.slice(i, i + RECONCILE_BATCH);
        const sizes = await Promise.all(batch.map((hex) => lstat(this.#path(hex)).then(
          (info) => (info.isFile() ? info.size : -1),
          // Only "not there" is news; any other error (EACCES, EIO) leaves the entry as it is.
          (err) => (MISSING.has(errno(err) ?? '') ? -1 : undefined),
        )));
        for (let j = 0; j < batch.length; j++) {
          const hex = batch[j];
          const size = sizes[j];
          const known = this.#index.get(hex);
          if (size === undefined || known === undefined || touched.has(hex) || size === known) continue;
          if (size < 0) {
            this.#index.delete(hex);
            this.#used -= known;
          } else {
            this.#index.set(hex, size);
            this.#used += size - known;
          }
        }
      }
    } finally {
      this.#touched = undefined;
      this.#lastReconcile = Date.now();
    }
  }

  /**
   * Checks that the base directory is still a directory, recording why not in the unhealthy
   * state (and clearing it when it is back). True when it is usable.
   */
  async #checkBaseDir(): Promise<boolean> {
    let problem: string;
    try {
      if ((await lstat(this.#baseDir)).isDirectory()) {
        this.#healthy();
        return true;
      }
      problem = 'is not a directory (ENOTDIR)';
    } catch (err) {
      problem = `is unusable (${errno(err) ?? 'error'}: ${err instanceof Error ? err.message : String(err)})`;
    }
    this.#unhealthy = `fs adapter: baseDir ${this.#baseDir} ${problem}; it is not re-created: restore it (or remount it) and the adapter recovers`;
    this.#shards.clear();
    return false;
  }

  /** A call that worked: the base directory is usable again. */
  #healthy(): void {
    if (this.#unhealthy === undefined) return;
    this.#unhealthy = undefined;
    // Shards may have vanished with the base directory: re-check each on its next use.
    this.#shards.clear();
  }

  /**
   * `{ healthy, baseDir, objects, usedBytes, capacityBytes }`, plus `reason` while the base
   * directory is unusable. While unhealthy it checks the base directory again, so it turns
   * healthy by itself once the directory is back.
   */
  async status(): Promise<L2Status> {
    if (this.#unhealthy !== undefined && !this.#closed) await this.#checkBaseDir();
    const reason = this.#unhealthy;
    return {
      healthy: !this.#closed && reason === undefined,
      ...(reason === undefined || this.#closed ? {} : { reason }),
      baseDir: this.#baseDir,
      objects: this.#index.size,
      usedBytes: this.#used,
      capacityBytes: this.#capacity,
    };
  }

  /**
   * Refuses new calls, then waits for the calls in flight (and a reconciliation) to settle, so none
   * of this adapter's files is still being written, renamed or read once it resolves. The I/O
   * threads stay for this thread's other fs adapters, idle and unref'd, and end with the thread.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight, this.#reconciling]);
  }
}
