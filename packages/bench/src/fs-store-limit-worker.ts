/**
 * Entry of one thread of the fs store limit (fs-store-limit.ts): for each object it is sent, the
 * envelope header (the engine's own `writeHeader`, Poly1305 tag included), then a new temp file
 * (`O_EXCL`, `O_NOFOLLOW`, mode 0600), one `writev` of header and payload from the shared view in
 * place, close, rename to the object's name. Nothing else: no index, no checks on the descriptor,
 * no per-job outcome, one answer per message.
 */
import { closeSync, constants, openSync, renameSync, writevSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { HEADER_BYTES, writeHeader } from '@kvtier/core/authoring';
import type { LimitAnswer, LimitJob } from './fs-store-limit.ts';

const port = parentPort!;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

function store(job: LimitJob): void {
  const header = new Uint8Array(HEADER_BYTES);
  writeHeader(header, job.key, 0, job.payload);
  const fd = openSync(job.temp, CREATE_FLAGS, 0o600);
  try {
    const total = HEADER_BYTES + job.payload.length;
    // writev may write less than asked: the rest goes at the offset reached.
    for (let at = 0; at < total;) {
      const rest = at < HEADER_BYTES ? [header.subarray(at), job.payload] : [job.payload.subarray(at - HEADER_BYTES)];
      at += writevSync(fd, rest, at);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(job.temp, job.to);
}

port.on('message', (jobs: readonly LimitJob[]) => {
  let answer: LimitAnswer;
  try {
    for (const job of jobs) store(job);
    answer = { stored: jobs.length };
  } catch (err) {
    answer = { error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(answer);
});
