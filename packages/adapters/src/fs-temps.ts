/**
 * Temp file names of the fs adapter, and the recovery scan's rule for which temp files are
 * orphans (docs/adapters/FsAdapter.md#temp-files). Several processes, on one machine or several
 * sharing a network mount, and several adapters of one process may share a base directory: a
 * temp file is another writer's store in flight until it is provably not.
 *
 * A name says who wrote it: `.tmp-<key>-<host>-<pid>-<lineage>-<generation>-<n>` — a hash of the
 * host name, the process id, the lineage (one adapter of one engine across its host restarts, or
 * one `FsAdapter.open` outside an engine), the host generation within it, and a counter.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** Every temp file name starts with this. */
export const TEMP_PREFIX = '.tmp-';

/**
 * Age (since its last write) past which any temp file is an orphan, whoever wrote it. A temp file
 * lives for one store call, and the engine terminates a host whose call has not answered within
 * two `adapterCallTimeoutMs` (at most 24 h each): no live store's temp file is this old.
 */
export const TEMP_ORPHAN_AGE_MS = 72 * 3600 * 1000;

const TEMP_NAME = /^\.tmp-[0-9a-f]{32}-([0-9a-f]{16})-(\d+)-([0-9a-f]{16})-(\d+)-\d+$/;

/** The 16 hex digits of this machine's host name in temp names. */
function hostTag(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 16);
}

/** Whether process `pid` of this machine is gone: `kill(pid, 0)` answers ESRCH (EPERM: it lives, as another user). */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Who writes temp files: one adapter of one process, and the orphan rule from its point of view. */
export class TempOwner {
  readonly #host = hostTag(hostname());
  readonly #lineage: string;
  readonly #generation: number;
  #counter = 0;

  /**
   * @param lineage - 16 hex digits shared by every host generation of one engine adapter
   *   (`AdapterContext.lineage`); a fresh random one when absent (an adapter opened on its own)
   * @param generation - this host's generation within the lineage (`AdapterContext.generation`)
   */
  constructor(lineage: string | undefined, generation: number) {
    this.#lineage = lineage ?? randomBytes(8).toString('hex');
    this.#generation = generation;
  }

  /** A fresh temp file name for key `hex` (32 hex digits). */
  nameFor(hex: string): string {
    return `${TEMP_PREFIX}${hex}-${this.#host}-${process.pid}-${this.#lineage}-${this.#generation}-${this.#counter++}`;
  }

  /**
   * Whether the temp file `name`, last written at `mtimeMs`, is provably an orphan: an earlier
   * generation of this lineage in this process wrote it (that host's thread ended before this
   * one started), or a process of this machine that is gone did, or it is older than
   * {@link TEMP_ORPHAN_AGE_MS}. Anything else — another live process's, another machine's, another
   * adapter's of this process, a name of another format — may be a store in flight, and is kept.
   */
  isOrphan(name: string, mtimeMs: number, now: number): boolean {
    if (now - mtimeMs > TEMP_ORPHAN_AGE_MS) return true;
    const m = TEMP_NAME.exec(name);
    if (m === null || m[1] !== this.#host) return false;
    const pid = Number(m[2]);
    if (pid !== process.pid) return processGone(pid);
    return m[3] === this.#lineage && Number(m[4]) < this.#generation;
  }
}
