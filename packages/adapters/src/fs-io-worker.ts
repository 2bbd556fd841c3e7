/**
 * Entry of one fs I/O thread (fs-io.ts): writes each object it is sent into the open file
 * descriptor it names, sealing it first when asked, or reads one and checks its envelope, on this
 * thread alone. Blocking calls are the point: this thread is an I/O thread, and the tag is
 * computed here, next to the I/O of the same bytes, rather than on the adapter host's thread.
 */
import { fdatasyncSync, readvSync, writevSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { HEADER_BYTES, checkEnvelope, writeHeader } from '@kvtier/core/authoring';
import { skipBytes } from './parts.ts';
import type { CheckedRead, IoDone, IoJob, IoMessage } from './fs-io.ts';

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

function run(job: IoJob): CheckedRead | undefined {
  if (job.op === 'read') {
    const header = new Uint8Array(HEADER_BYTES);
    // The probe byte past the payload only fills when the file is longer than expected.
    const bytes = readFully(job.fd, [header, job.payload, new Uint8Array(1)]);
    return { bytes, fault: checkEnvelope(header, job.payload, job.key, 0, bytes) };
  }
  let parts = job.parts;
  if (job.seal !== undefined) {
    const header = new Uint8Array(HEADER_BYTES);
    writeHeader(header, job.seal, 0, parts[0]);
    parts = [header, parts[0]];
  }
  writeFully(job.fd, parts);
  if (job.sync) fdatasyncSync(job.fd);
  return undefined;
}

port.on('message', (job: IoJob) => {
  let done: IoDone;
  try {
    done = { id: job.id, read: run(job) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    done = { id: job.id, error: { message: e instanceof Error ? e.message : String(e), code: e?.code } };
  }
  port.postMessage(done);
});
port.postMessage({ ready: true } satisfies IoMessage);
