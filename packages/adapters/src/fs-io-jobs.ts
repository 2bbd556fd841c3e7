/**
 * The file calls of one fs I/O job (fs-io-worker.ts runs them on an I/O thread): store an object
 * into a new file (create, check where it landed, seal when asked, write, sync when asked, close,
 * publish), or open, check, read (and envelope-check when asked) one. Plain synchronous functions,
 * so a test can run them in-process and inject a failing `close` or `rename` ({@link FileCalls}).
 *
 * This is the one place where the fs adapter opens an object file to read it: the rule that only a
 * regular file at its own path is an object ({@link openObject}) lives here alone.
 */
import { closeSync, constants, fdatasyncSync, fstatSync, openSync, readlinkSync, readvSync, renameSync, unlinkSync, writevSync } from 'node:fs';
import { HEADER_BYTES, checkEnvelope, writeHeader } from '@kvtier/core/authoring';
import { skipBytes } from './parts.ts';
import type { IoDone, IoError, IoJob, Placement, PostedWriteOutcome, ReadOutcome, ReadJob, WriteJob } from './fs-io.ts';

/** The file calls a job makes that a test may replace to fail as a disk or a network mount can. */
export interface FileCalls {
  readonly closeSync: (fd: number) => void;
  readonly renameSync: (from: string, to: string) => void;
}

/** The real ones. */
const NODE_CALLS: FileCalls = { closeSync, renameSync };

/** A new file only, never through a symlink at its name. */
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/**
 * Non-blocking: opening a FIFO planted under an object's name would otherwise block this thread
 * until a writer comes. No-follow: a symlink there could point anywhere.
 */
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** Writes every byte of `parts` at offset 0 (writev may write less than asked). */
function writeFully(fd: number, parts: readonly Uint8Array[]): void {
  let written = 0;
  let rest: readonly Uint8Array[] = parts;
  while (rest.length > 0) {
    const bytes = writevSync(fd, rest as Uint8Array[], written);
    written += bytes;
    rest = skipBytes(rest, bytes);
  }
}

/** Reads into `parts` from offset 0 until they are full or the file ends; returns bytes read. */
function readFully(fd: number, parts: readonly Uint8Array[]): number {
  let read = 0;
  let rest: readonly Uint8Array[] = parts;
  while (rest.length > 0) {
    const bytes = readvSync(fd, rest as Uint8Array[], read);
    if (bytes === 0) break;
    read += bytes;
    rest = skipBytes(rest, bytes);
  }
  return read;
}

/**
 * Where an open descriptor really is (Linux: `/proc/self/fd`), so a path whose directories were
 * swapped for links after they were checked is caught on the file itself; undefined elsewhere.
 */
function openedAt(fd: number): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/** Closes `fd`; answers the error when the close failed (the descriptor is released either way). */
function closeReporting(fd: number, calls: FileCalls): unknown {
  try {
    calls.closeSync(fd);
    return undefined;
  } catch (err) {
    return err;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or never there: nothing of ours is left at it.
  }
}

function errorOf(err: unknown): IoError {
  const e = err as NodeJS.ErrnoException;
  return { message: e instanceof Error ? e.message : String(e), code: e?.code };
}

function write(job: WriteJob, calls: FileCalls): PostedWriteOutcome {
  const fd = openSync(job.path, CREATE_FLAGS, 0o600);
  let kept = false;
  try {
    const actual = openedAt(fd);
    if (actual !== undefined && actual !== job.path) {
      // A directory on the path was swapped for a link after it was checked: not ours to keep.
      unlinkQuietly(actual);
      return { openedAt: actual };
    }
    let parts = job.parts;
    if (job.seal !== undefined) {
      const header = new Uint8Array(HEADER_BYTES);
      writeHeader(header, job.seal, 0, parts[0]);
      parts = [header, parts[0]];
    }
    writeFully(fd, parts);
    if (job.sync) fdatasyncSync(fd);
    kept = true;
  } finally {
    // A close that fails (EIO, EDQUOT on a network mount) may have lost what was written: that
    // file is not kept either, and the failure is the job's. Either way nothing is left behind.
    const closeError = closeReporting(fd, calls);
    if (!kept || closeError !== undefined) unlinkQuietly(job.path);
    if (kept && closeError !== undefined) throw closeError;
  }
  return job.place === undefined ? {} : place(job.path, job.place, calls);
}

/** Renames the complete file at `path` as `placement` says; a failed rename leaves it where it is. */
function place(path: string, placement: Placement, calls: FileCalls): PostedWriteOutcome {
  let replacedMissing = false;
  if (placement.replace) {
    try {
      unlinkSync(placement.to);
    } catch (err) {
      // Any other failure to unlink is left to the rename, which replaces the file or fails.
      replacedMissing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    }
  }
  try {
    calls.renameSync(path, placement.to);
  } catch (err) {
    return { replacedMissing, renameError: errorOf(err) };
  }
  return { replacedMissing };
}

/**
 * Opens the object file at `path` for reading: the descriptor when it is a regular file at its own
 * path (checked on the open descriptor, not the path, so a directory swapped for a link after a
 * check is caught), else why there is no object. Throws any other open error.
 */
function openObject(path: string): number | Extract<ReadOutcome, { absent: unknown }> {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP') return { absent: code };
    throw err;
  }
  let object = false;
  try {
    const actual = openedAt(fd);
    object = fstatSync(fd).isFile() && (actual === undefined || actual === path);
  } finally {
    if (!object) closeSync(fd);
  }
  return object ? fd : { absent: 'not-an-object' };
}

function read(job: ReadJob, calls: FileCalls): ReadOutcome {
  const fd = openObject(job.path);
  if (typeof fd !== 'number') return fd;
  try {
    // The probe byte past the targets only fills when the file is longer than expected.
    const probe = new Uint8Array(1);
    if (job.key === undefined) return { bytes: readFully(fd, [...job.parts, probe]), fault: null };
    const header = new Uint8Array(HEADER_BYTES);
    const payload = job.parts[0];
    const bytes = readFully(fd, [header, payload, probe]);
    return { bytes, fault: checkEnvelope(header, payload, job.key, 0, bytes) };
  } finally {
    calls.closeSync(fd);
  }
}

/** Runs one job: its outcome, or the error that ended it (errno code kept). */
export function run(job: IoJob, calls: FileCalls = NODE_CALLS): IoDone {
  try {
    return { id: job.id, outcome: job.op === 'read' ? read(job, calls) : write(job, calls) };
  } catch (err) {
    return { id: job.id, error: errorOf(err) };
  }
}

