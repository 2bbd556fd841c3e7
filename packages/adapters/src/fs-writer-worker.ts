/**
 * Entry of one fs writer thread (fs-writers.ts): writes each object it is sent into the open
 * file descriptor it names, sealing it first when asked, on this thread alone. Blocking calls are
 * the point: this thread is an I/O thread, and the tag is computed here, next to the write that
 * reads the same bytes, rather than on the adapter host's thread.
 */
import { fdatasyncSync, writevSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { HEADER_BYTES, writeHeader } from '@kvtier/core/authoring';
import { skipBytes } from './parts.ts';
import type { WriteDone, WriteJob } from './fs-writers.ts';

const port = parentPort!;

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

function run(job: WriteJob): void {
  let parts = job.parts;
  if (job.seal !== undefined) {
    const header = new Uint8Array(HEADER_BYTES);
    writeHeader(header, job.seal, 0, parts[0]);
    parts = [header, parts[0]];
  }
  writeFully(job.fd, parts);
  if (job.sync) fdatasyncSync(job.fd);
}

port.on('message', (job: WriteJob) => {
  let done: WriteDone;
  try {
    run(job);
    done = { id: job.id };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    done = { id: job.id, error: { message: e instanceof Error ? e.message : String(e), code: e?.code } };
  }
  port.postMessage(done);
});
