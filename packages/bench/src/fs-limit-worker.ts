/**
 * Entry of one thread of the fs limits (fs-limit.ts). For each object it is sent to store: the
 * envelope header (the engine's own `writeHeader`, Poly1305 tag included), then a new temp file
 * (`O_EXCL`, `O_NOFOLLOW`, mode 0600), one `writev` of header and payload from the shared view in
 * place, close, rename to the object's name. For each object to load: open (`O_NOFOLLOW`), one
 * `readv` of header and payload into the shared target in place, close, the envelope check (the
 * engine's own `checkEnvelope`, every byte tagged). Nothing else: no index, no checks on the
 * descriptor, no probe byte, no per-job outcome, one answer per message.
 */
import { closeSync, constants, openSync, readvSync, renameSync, writevSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { HEADER_BYTES, checkEnvelope, writeHeader } from '@kvtier/core/authoring';
import type { LimitAnswer, LimitJob, LimitLoad, LimitStore } from './fs-limit.ts';

const port = parentPort!;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;

/** The header and payload views left from byte `at` of the object (writev and readv may move less than asked). */
function restOf(header: Uint8Array, payload: Uint8Array, at: number): Uint8Array[] {
  return at < HEADER_BYTES ? [header.subarray(at), payload] : [payload.subarray(at - HEADER_BYTES)];
}

function store(job: LimitStore): void {
  const header = new Uint8Array(HEADER_BYTES);
  writeHeader(header, job.key, 0, job.payload);
  const fd = openSync(job.temp, CREATE_FLAGS, 0o600);
  try {
    const total = HEADER_BYTES + job.payload.length;
    for (let at = 0; at < total;) at += writevSync(fd, restOf(header, job.payload, at), at);
  } finally {
    closeSync(fd);
  }
  renameSync(job.temp, job.to);
}

function load(job: LimitLoad): void {
  const header = new Uint8Array(HEADER_BYTES);
  const fd = openSync(job.path, READ_FLAGS);
  let at = 0;
  try {
    for (const total = HEADER_BYTES + job.target.length; at < total;) {
      const bytes = readvSync(fd, restOf(header, job.target, at), at);
      if (bytes === 0) break;
      at += bytes;
    }
  } finally {
    closeSync(fd);
  }
  const fault = checkEnvelope(header, job.target, job.key, 0, at);
  if (fault !== null) throw new Error(`${job.path} fails its envelope check: ${fault}`);
}

port.on('message', (jobs: readonly LimitJob[]) => {
  let answer: LimitAnswer;
  try {
    for (const job of jobs) {
      if (job.op === 'store') store(job);
      else load(job);
    }
    answer = { done: jobs.length };
  } catch (err) {
    answer = { error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(answer);
});
