/**
 * Temp file names of the fs adapter, and the recovery scan's rule for which temp files are
 * orphans (docs/adapters/FsAdapter.md#temp-files). Several processes, on one machine or several
 * sharing a network mount, and several adapters of one process may share a base directory: a
 * temp file is another writer's store in flight until it is provably not.
 *
 * A name says who wrote it: `.tmp-<key>-<host>-<pid space>-<pid>-<lineage>-<generation>-<n>` — a
 * hash of the host name, a hash of the kernel boot and pid namespace the process id is a pid of
 * (`none` where /proc does not say: not Linux), the process id, the lineage (one adapter of one
 * engine across its host restarts, or one `FsAdapter.open` outside an engine), the host generation
 * within it, and a counter. A host name alone does not name a pid's process: containers share host
 * names, and every container's first process is pid 1 of its own namespace.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** Every temp file name starts with this. */
export const TEMP_PREFIX = '.tmp-';

/**
 * Age (since its last write) past which any temp file is an orphan, whoever wrote it. A temp file
 * lives for one store call, and the engine terminates a host whose call has not answered within
 * two `adapterCallTimeoutMs` (at most 24 h each): no live store's temp file is this old.
 */
export const TEMP_ORPHAN_AGE_MS = 72 * 3600 * 1000;

const TEMP_NAME = /^\.tmp-[0-9a-f]{32}-([0-9a-f]{16})-([0-9a-f]{16}|none)-(\d+)-([0-9a-f]{16})-(\d+)-\d+$/;

/** 16 hex digits of a SHA-256 of `text`. */
function tag(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * The tag of the space this process's pid is a pid in: its kernel boot (boot id) and pid
 * namespace. Equal tags mean `kill(pid, 0)` here asks about the writer's pid — or about a reuse of
 * its namespace's inode, possible only once that namespace and so the writer are gone. Undefined
 * where /proc does not say (not Linux): no pid of another process is then taken as proof.
 */
function pidSpaceTag(): string | undefined {
  try {
    return tag(`${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}\n${readlinkSync('/proc/self/ns/pid')}`);
  } catch {
    return undefined;
  }
}

/** Whether process `pid` of this pid space is gone: `kill(pid, 0)` answers ESRCH (EPERM: it lives, as another user). */
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
  readonly #host = tag(hostname());
  readonly #pidSpace: string | undefined;
  readonly #lineage: string;
  readonly #generation: number;
  #counter = 0;

  /**
   * @param lineage - 16 hex digits shared by every host generation of one engine adapter
   *   (`AdapterContext.lineage`); a fresh random one when absent (an adapter opened on its own)
   * @param generation - this host's generation within the lineage (`AdapterContext.generation`)
   * @param pidSpace - the tag of this process's boot and pid namespace, undefined where unknown;
   *   read from /proc when omitted (tests pass another)
   */
  constructor(lineage: string | undefined, generation: number, pidSpace: string | undefined = pidSpaceTag()) {
    this.#lineage = lineage ?? randomBytes(8).toString('hex');
    this.#generation = generation;
    this.#pidSpace = pidSpace;
  }

  /** A fresh temp file name for key `hex` (32 hex digits). */
  nameFor(hex: string): string {
    return `${TEMP_PREFIX}${hex}-${this.#host}-${this.#pidSpace ?? 'none'}-${process.pid}-${this.#lineage}-${this.#generation}-${this.#counter++}`;
  }

  /**
   * Whether the temp file `name`, last written at `mtimeMs`, is provably an orphan: an earlier
   * generation of this lineage wrote it (the lineage is random per engine adapter, so that was
   * this process; that host's thread ended before this one started), or a process of this host
   * name, boot and pid namespace that is gone did, or it is older than {@link TEMP_ORPHAN_AGE_MS}.
   * Anything else may be a store in flight, and is kept: another live process's, another
   * machine's, another boot's (a machine of the same name may be another one), another pid
   * namespace's (its pid says nothing here), any process's where this one's pid space is unknown,
   * another adapter's of this process, a name of another format (older names had no pid space).
   */
  isOrphan(name: string, mtimeMs: number, now: number): boolean {
    if (now - mtimeMs > TEMP_ORPHAN_AGE_MS) return true;
    const m = TEMP_NAME.exec(name);
    if (m === null || m[1] !== this.#host || m[2] !== (this.#pidSpace ?? 'none')) return false;
    const pid = Number(m[3]);
    if (pid !== process.pid) return this.#pidSpace !== undefined && processGone(pid);
    return m[4] === this.#lineage && Number(m[5]) < this.#generation;
  }
}
