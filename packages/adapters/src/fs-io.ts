/**
 * The fs adapter's I/O threads: a few worker threads, each of which stores objects into new files
 * (creating, sealing when asked, writing and closing each) or opens them, checks that each is an
 * object file, reads it into its targets (an L1 slot) and checks its envelope when asked
 * (fs-io-worker.ts). The tag and the I/O of an object run on the same thread, so several objects
 * are tagged at once; on the adapter host's thread a batch was tagged one object after another
 * while libuv's threads did the I/O. An object's open, close and checks run there too: each one on
 * the host's thread was a libuv request and its answer, a thread hand-off apiece. Payloads on a
 * SharedArrayBuffer (L1 slots) are read and written in place: posting a view shares its memory.
 * Any other part is copied by `postMessage` (so a read into other memory goes through a shared
 * staging buffer).
 *
 * Jobs are handed off in batches: the jobs asked for in one turn of the caller's microtasks (the
 * objects of one adapter call) are spread over the threads, and each thread gets its share as one
 * message and answers it with one. A message and its answer cost both threads a wake-up and a
 * (de)serialisation apiece, which one message per object paid for every object.
 *
 * Sealed stores and checked loads of shared memory (the engine's: L1 slots) take no message: they
 * go through the I/O ring (fs-io-ring.ts), where each free thread takes the oldest posted job, so
 * no batch waits for one thread to work through its share while another idles.
 *
 * A store job also publishes its object (unlinks the old one, renames the temp file to its name),
 * so a store costs the adapter no libuv request of its own. Shard directories, directory syncs,
 * the retry of a failed rename and the index stay with the adapter, which owns them.
 *
 * One pool serves every fs adapter of a JS thread ({@link sharedIoThreads}), as libuv's pool
 * serves a process: starting a thread costs about a second here (more from sources, which load
 * tsx in each), too much to pay again for every adapter opened. Its threads are started on
 * demand, held (ref'd) only while they have jobs, and end with the thread that owns them.
 */
import { Worker } from 'node:worker_threads';
import { ErrorCode, KvtierError } from '@kvtier/core';
import { invalidArgument, workerEntry, type EnvelopeFault } from '@kvtier/core/authoring';
import { copyInto } from './parts.ts';
import { ANSWERED, CLAIMED_BASE, IoRing, POSTED, RING_SLOTS, type RingJob } from './fs-io-ring.ts';

const WORKER_URL = workerEntry('./fs-io-worker', import.meta.url);

/** What is written: the object is the concatenation of `parts`, behind its envelope header when `seal` is set. */
export interface FsObject {
  /** The bytes; exactly one part (the payload) when `seal` is set. */
  readonly parts: readonly Uint8Array[];
  /** The key's 4 digest words: the I/O thread writes the envelope header for them first. */
  readonly seal?: Uint32Array;
}

/**
 * A read: how many bytes the file had (up to what its targets hold, plus 1), and the envelope
 * fault of a checked read.
 */
export interface CheckedRead {
  readonly bytes: number;
  /** null: a good object for this key and payload length (always null for an unchecked read). */
  readonly fault: EnvelopeFault | null;
}

/**
 * A read, or why there was no object to read: `ENOENT` no file, `ELOOP` a symlink at its
 * name, `not-an-object` not a regular file at its own path (a FIFO, a directory, a file reached
 * through a swapped directory).
 */
export type ReadOutcome = CheckedRead | { readonly absent: 'ENOENT' | 'ELOOP' | 'not-an-object' };

/**
 * Where a written file goes once it is complete: renamed to `to`, after unlinking the file there
 * first when `replace` (ext4 flushes a file's data when a rename replaces it, auto_da_alloc:
 * unlinking first keeps a replacement as fast as a first store).
 */
export interface Placement {
  readonly to: string;
  readonly replace: boolean;
}

/**
 * A store: `openedAt` set when the new file turned out to be elsewhere than its path (a directory
 * on the way was swapped for a link after it was checked); the thread removed it. With a
 * {@link Placement}: `replacedMissing` when there was no file to unlink at `to`, and
 * `renameError` (its errno `code` kept) when the rename failed; the written file is then left at
 * its path for the caller to retry or remove.
 */
export interface WriteOutcome {
  readonly openedAt?: string;
  readonly replacedMissing?: boolean;
  readonly renameError?: Error;
}

/** An I/O thread's error, as posted: an Error loses its class and its `code` across threads. */
export interface IoError {
  readonly message: string;
  readonly code?: string;
}

/** A {@link WriteOutcome} as an I/O thread posts it. */
export type PostedWriteOutcome = Omit<WriteOutcome, 'renameError'> & { readonly renameError?: IoError };

/**
 * A store as posted to an I/O thread: create `path` (it must not exist), write the object, sync
 * when `sync`, then place it when `place` is set (its rename failure posted as an {@link IoError}).
 */
export type WriteJob = FsObject & { readonly op: 'write'; readonly id: number; readonly path: string; readonly sync: boolean; readonly place?: Placement };
/**
 * A read as posted to an I/O thread: `parts` on shared memory, exactly one (the payload) when
 * `key` is set; `key` (the key's 4 digest words) asks for the envelope header first and its check.
 */
export interface ReadJob {
  readonly op: 'read';
  readonly id: number;
  readonly path: string;
  readonly parts: readonly Uint8Array[];
  readonly key?: Uint32Array;
}
/** A job as posted to an I/O thread. */
export type IoJob = WriteJob | ReadJob;

/** The jobs an I/O thread gets in one message, answered together. */
export interface IoBatch {
  readonly jobs: readonly IoJob[];
}

/** An I/O thread's answer to job `id`: `error` when it failed, else its outcome. */
export interface IoDone {
  readonly id: number;
  readonly error?: IoError;
  readonly outcome?: ReadOutcome | PostedWriteOutcome;
}

/** What an I/O thread posts: once `ready` when it listens, then one answer per batch. */
export type IoMessage = { readonly done: readonly IoDone[] } | { readonly ready: true };

/** What an I/O thread is started with: the I/O ring, its number there, the payload buffers in use, by number. */
export interface IoThreadData {
  readonly ring: SharedArrayBuffer;
  readonly number: number;
  readonly buffers: readonly (readonly [number, SharedArrayBuffer])[];
}

/** Payload buffer `id` (an L1's memory), sent to each I/O thread once: ring jobs name it by number. */
export interface IoBuffer {
  readonly id: number;
  readonly buffer: SharedArrayBuffer;
}

/** Payload buffer `forget` is gone from the host's thread: no job names it any more, so the thread drops it too. */
export interface IoForget {
  readonly forget: number;
}

/** What an I/O thread is sent: a batch of jobs, a payload buffer, or a buffer to forget. */
export type IoRequest = IoBatch | IoBuffer | IoForget;

interface Pending {
  readonly resolve: (done: IoDone) => void;
  readonly reject: (err: Error) => void;
}

/** One I/O thread and its jobs in flight. */
interface IoThread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  /** Whether it has loaded its code and listens (jobs posted before wait in its port). */
  ready: boolean;
}

/** An error as the I/O thread reported it, with its errno code (the adapter retries on some). */
function ioError(error: IoError): Error {
  return Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code });
}

/** Job fields but the id, which the pool assigns. */
type NewJob = IoJob extends infer J ? (J extends IoJob ? Omit<J, 'id'> : never) : never;

/** A job asked for in this turn, not posted yet. */
interface Queued {
  readonly job: IoJob;
  readonly pending: Pending;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Takes job `id` off `thread` and hands its promise to `answer`. */
function settle(thread: IoThread, id: number, answer: (pending: Pending) => void): void {
  const pending = thread.pending.get(id);
  if (pending === undefined) return;
  thread.pending.delete(id);
  answer(pending);
}

/** A ring job waiting for a free slot. */
interface RingWaiting {
  readonly job: RingJob;
  readonly pending: Pending;
}

function isShared(part: Uint8Array): boolean {
  return part.buffer instanceof SharedArrayBuffer;
}

/**
 * Threads in a row that may end before they are ready (a worker entry that cannot load) before the
 * jobs waiting in the ring fail with `KVT_ERR_WORKER`; the next jobs try again.
 */
export const MAX_FAILED_STARTS = 3;

/** A pool of I/O threads, started on first use, each held (ref'd) only while it has jobs. */
export class FsIoThreads {
  #threads: number;
  readonly #running: IoThread[] = [];
  #nextId = 0;
  /** Jobs asked for since the last hand-off; posted together once the caller's microtasks end. */
  #queued: Queued[] = [];
  #handOffs = 0;
  #ringWakes = 0;
  #nextNumber = 0;
  /** Threads in a row that ended before they were ready ({@link MAX_FAILED_STARTS}). */
  #failedStarts = 0;
  /** Sealed stores and checked loads of shared memory go through the ring (fs-io-ring.ts), not messages. */
  readonly #ring = new IoRing();
  /**
   * The numbers of the payload buffers the threads were sent, and the buffers by number, held
   * weakly: a buffer this thread no longer references (an L1 that was closed) is forgotten here and
   * in every thread, so the pool, which lives as long as its JS thread, does not keep every L1 it
   * ever stored from or loaded into alive. Numbers are never reused.
   */
  readonly #bufferIds = new WeakMap<SharedArrayBuffer, number>();
  readonly #buffers = new Map<number, WeakRef<SharedArrayBuffer>>();
  readonly #bufferGone = new FinalizationRegistry<number>((id) => this.#forgetBuffer(id));
  #nextBuffer = 0;
  /** Per ring slot: its job (whose payload view keeps its buffer, and so its number, alive) and promise while posted or claimed. */
  readonly #ringPending: (RingWaiting | undefined)[] = new Array(RING_SLOTS);
  /** Jobs in the ring, posted or claimed. */
  #inRing = 0;
  /** Jobs waiting for a slot. */
  #ringWaiting: RingWaiting[] = [];
  /** Whether the jobs asked for in this turn are to be posted once it ends. */
  #postQueued = false;
  /** Whether the host awaits the ring's answers now. */
  #collecting = false;

  /** `threads`: the most I/O threads that run at once (≥ 1). */
  constructor(threads: number) {
    this.#threads = threads;
  }

  /** I/O threads running now (started on demand; one that dies leaves). */
  get running(): number {
    return this.#running.length;
  }

  /** Job messages posted to the threads so far: one per thread per hand-off, however many jobs it carried (ring jobs take none). */
  get handOffs(): number {
    return this.#handOffs;
  }

  /** Times the threads were woken for jobs posted to the ring: once per turn that asked for any, however many. */
  get ringWakes(): number {
    return this.#ringWakes;
  }

  /**
   * Starts the first thread now, if none runs, so that the first job does not wait for it (a
   * thread takes about a second to start, more from sources).
   */
  warm(): void {
    if (this.#running.length === 0) this.#start();
  }

  /** Raises the most threads that run at once to `threads`, if that is more. */
  allow(threads: number): void {
    this.#threads = Math.max(this.#threads, threads);
  }

  /**
   * Creates the file `path` (exclusively, never through a symlink, mode 0600), writes `object`
   * into it (and syncs it when `sync`) and closes it, then renames it as `place` says, on the
   * least busy I/O thread: the rename that publishes a store costs no hand-off of its own. A
   * sealed, placed store of one payload on shared memory goes through the I/O ring instead, to
   * the first thread free to take it (a path past PATH_MAX rejects with `ENAMETOOLONG` there). A
   * file that could not be written in full is removed. Rejects with the thread's error (its errno
   * `code` kept); with `KVT_ERR_WORKER` when the thread dies first (the file may then be left
   * behind, and the rename done or not), or `KVT_ERR_INVALID_ARGUMENT` when a part cannot be
   * posted to it.
   */
  async write(path: string, object: FsObject, sync: boolean, place?: Placement): Promise<WriteOutcome> {
    const payload = object.parts[0];
    const done = object.seal !== undefined && place !== undefined && object.parts.length === 1 && isShared(payload)
      ? await this.#viaRing({ op: 'write', buffer: this.#bufferId(payload.buffer as SharedArrayBuffer), payload, key: object.seal, temp: path, to: place.to, sync, replace: place.replace })
      : await this.#run({ op: 'write', path, parts: object.parts, seal: object.seal, sync, place });
    const { renameError, ...outcome } = done.outcome as PostedWriteOutcome;
    return renameError === undefined ? outcome : { ...outcome, renameError: ioError(renameError) };
  }

  /**
   * Opens `path` (never through a symlink, never waiting on a FIFO); when it is a regular file at
   * its own path, reads it from offset 0 — its envelope header, then `payload` (a view on shared
   * memory), then one probe byte — and checks the envelope for `key` (its 4 digest words), on the
   * first I/O thread free to take it from the I/O ring. Rejects as {@link write} does (a path past
   * PATH_MAX with `ENAMETOOLONG`).
   */
  async readChecked(path: string, payload: Uint8Array, key: Uint32Array): Promise<ReadOutcome> {
    // The threads read into the memory itself, which only shared memory lets them reach.
    if (!isShared(payload)) invalidArgument('a checked read needs its payload view on a SharedArrayBuffer (an L1 slot)');
    return (await this.#viaRing({ op: 'read', buffer: this.#bufferId(payload.buffer as SharedArrayBuffer), payload, key, path })).outcome as ReadOutcome;
  }

  /**
   * Opens `path` as {@link readChecked} does and reads it from offset 0 into `parts`, then one probe
   * byte; no envelope check (`fault` is null). Parts that are not all on shared memory are read
   * through one shared staging buffer and copied into them. Rejects as {@link write} does.
   */
  async read(path: string, parts: readonly Uint8Array[]): Promise<ReadOutcome> {
    if (parts.every(isShared)) return (await this.#run({ op: 'read', path, parts })).outcome as ReadOutcome;
    const staging = new Uint8Array(new SharedArrayBuffer(parts.reduce((n, p) => n + p.length, 0)));
    const read = (await this.#run({ op: 'read', path, parts: [staging] })).outcome as ReadOutcome;
    // Only what was read: bytes past it stay as they were in the caller's parts (L2Adapter.load).
    if ('bytes' in read) copyInto(staging.subarray(0, read.bytes), parts);
    return read;
  }

  /** Payload buffers the threads hold now (sent and not yet forgotten). */
  get payloadBuffers(): number {
    return this.#buffers.size;
  }

  /** The number of payload buffer `buffer`, sent to every running thread the first time it is seen. */
  #bufferId(buffer: SharedArrayBuffer): number {
    let id = this.#bufferIds.get(buffer);
    if (id !== undefined) return id;
    id = this.#nextBuffer++;
    this.#bufferIds.set(buffer, id);
    this.#buffers.set(id, new WeakRef(buffer));
    this.#bufferGone.register(buffer, id);
    // A thread that finds a job of a buffer it was not sent yet leaves it to the others until it is.
    for (const thread of this.#running) thread.worker.postMessage({ id, buffer } satisfies IoBuffer);
    return id;
  }

  /** The payload buffers not collected yet, with their numbers: what a new thread starts with. */
  #liveBuffers(): [number, SharedArrayBuffer][] {
    const live: [number, SharedArrayBuffer][] = [];
    for (const [id, ref] of this.#buffers) {
      const buffer = ref.deref();
      if (buffer !== undefined) live.push([id, buffer]);
    }
    return live;
  }

  /** Buffer `id` was collected on this thread: no job of it is in the ring (each holds a view of it), so the threads drop it. */
  #forgetBuffer(id: number): void {
    this.#buffers.delete(id);
    for (const thread of this.#running) thread.worker.postMessage({ forget: id } satisfies IoForget);
  }

  /** Posts `job` to the ring (or queues it for a slot), resolved with its thread's answer. */
  #viaRing(job: RingJob): Promise<IoDone> {
    return new Promise<IoDone>((resolve, reject) => {
      // The jobs of one adapter call are asked for within one turn: posted together once it ends,
      // they wake each idle thread once, where a post per job woke every thread per job.
      if (!this.#postQueued) {
        this.#postQueued = true;
        queueMicrotask(() => this.#postTurn());
      }
      this.#ringWaiting.push({ job, pending: { resolve, reject } });
    });
  }

  /** Posts the jobs asked for in this turn, and collects their answers. */
  #postTurn(): void {
    this.#postQueued = false;
    this.#postWaiting();
    this.#holdThreads();
    void this.#collect();
  }

  /** Posts the waiting jobs into free slots, then wakes the threads (starting one if need be). */
  #postWaiting(): void {
    let posted = false;
    while (this.#ringWaiting.length > 0) {
      const slot = this.#ring.freeSlot();
      if (slot === -1) break;
      const { job, pending } = this.#ringWaiting.shift()!;
      try {
        this.#ring.post(slot, job);
      } catch (err) {
        pending.reject(err as Error);
        continue;
      }
      this.#ringPending[slot] = { job, pending };
      this.#inRing++;
      posted = true;
    }
    if (!posted) return;
    this.#ring.wakeThreads();
    this.#ringWakes++;
    this.#startForRing();
  }

  /**
   * Starts a thread while the ring holds more jobs than threads run, fewer than the limit run
   * and none is still starting (as {@link #pick}). When none runs and none can be started, the
   * jobs posted fail: no thread would take them.
   */
  #startForRing(): void {
    if (this.#inRing <= this.#running.length || this.#running.length >= this.#threads || !this.#running.every((t) => t.ready)) return;
    try {
      this.#start();
    } catch (err) {
      if (this.#running.length === 0) this.#failRing(POSTED, new KvtierError(ErrorCode.WORKER, `no fs I/O thread could be started: ${messageOf(err)}`, { cause: err }));
    }
  }

  /** Fails the ring jobs whose slot is in `state` with `err` and frees their slots. */
  #failRing(state: number, err: Error): void {
    for (let slot = 0; slot < RING_SLOTS; slot++) {
      const entry = this.#ringPending[slot];
      if (entry === undefined || this.#ring.state(slot) !== state) continue;
      this.#ringPending[slot] = undefined;
      this.#inRing--;
      this.#ring.free(slot);
      entry.pending.reject(err);
    }
    // The collecting loop may await an answer that will not come now: it looks again.
    this.#ring.wakeHost();
    this.#postWaiting();
  }

  /**
   * Takes the ring's answers as threads give them, until no job is left in it. One such loop
   * runs at a time; it waits on the ANSWERED word without blocking this thread.
   */
  async #collect(): Promise<void> {
    if (this.#collecting) return;
    this.#collecting = true;
    try {
      while (this.#inRing > 0) {
        const seq = this.#ring.answeredSeq();
        let took = false;
        for (let slot = 0; slot < RING_SLOTS; slot++) {
          const pending = this.#ringPending[slot]?.pending;
          if (pending === undefined || this.#ring.state(slot) !== ANSWERED) continue;
          const done = this.#ring.take(slot);
          this.#ringPending[slot] = undefined;
          this.#inRing--;
          took = true;
          if (done.error === undefined) pending.resolve({ ...done, id: slot });
          else pending.reject(ioError(done.error));
        }
        if (took) this.#postWaiting();
        else await this.#ring.waitAnswered(seq);
      }
    } finally {
      this.#collecting = false;
      this.#holdThreads();
    }
  }

  /** Holds (refs) each thread while it has jobs, or while the ring has jobs for any thread to take. */
  #holdThreads(): void {
    for (const thread of this.#running) {
      if (thread.pending.size > 0 || this.#inRing > 0) thread.worker.ref();
      else thread.worker.unref();
    }
  }

  #run(fields: NewJob): Promise<IoDone> {
    const job = { ...fields, id: this.#nextId++ } as IoJob;
    return new Promise<IoDone>((resolve, reject) => {
      // The jobs of one adapter call are asked for within one turn of microtasks (but a store
      // that waited for a new shard directory): the hand-off waits for the turn to end and takes
      // them all.
      if (this.#queued.length === 0) queueMicrotask(() => this.#handOff());
      this.#queued.push({ job, pending: { resolve, reject } });
    });
  }

  /**
   * Spreads the queued jobs over the threads ({@link #pick}) and posts each thread its share as one
   * message. This runs as a microtask of its own, where a throw would reach no caller (and leave
   * every job of the batch unanswered): a thread that cannot be started fails the jobs it was to
   * take, and a share that cannot be posted (a part `postMessage` cannot clone, such as a view of a
   * detached buffer) is posted again one job at a time, so only the job that cannot be sent fails.
   */
  #handOff(): void {
    const queued = this.#queued;
    this.#queued = [];
    const shares = new Map<IoThread, Queued[]>();
    for (const one of queued) {
      let thread: IoThread;
      try {
        thread = this.#pick();
      } catch (err) {
        one.pending.reject(new KvtierError(ErrorCode.WORKER, `no fs I/O thread could be started: ${messageOf(err)}`, { cause: err }));
        continue;
      }
      thread.pending.set(one.job.id, one.pending);
      thread.worker.ref();
      const share = shares.get(thread);
      if (share === undefined) shares.set(thread, [one]);
      else share.push(one);
    }
    for (const [thread, share] of shares) {
      if (share.length > 1 && this.#post(thread, share) === undefined) continue;
      for (const one of share) {
        const err = this.#post(thread, [one]);
        if (err !== undefined) settle(thread, one.job.id, (pending) => pending.reject(new KvtierError(ErrorCode.INVALID_ARGUMENT, `an fs I/O job for ${one.job.path} cannot be sent to an I/O thread: ${messageOf(err)}`, { cause: err })));
      }
    }
  }

  /** Posts `share` to `thread` as one message; what `postMessage` threw, if it did (then nothing was sent). */
  #post(thread: IoThread, share: readonly Queued[]): unknown {
    try {
      thread.worker.postMessage({ jobs: share.map((one) => one.job) } satisfies IoBatch);
    } catch (err) {
      return err;
    }
    this.#handOffs++;
    return undefined;
  }

  /**
   * An idle thread; else a new one while fewer than the limit run and none is still starting
   * (threads that start at once compete for the cores and all start late); else the one with the
   * fewest jobs.
   */
  #pick(): IoThread {
    const idle = this.#running.find((t) => t.pending.size === 0);
    if (idle !== undefined) return idle;
    if (this.#running.length < this.#threads && this.#running.every((t) => t.ready)) return this.#start();
    return this.#running.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  #start(): IoThread {
    // Its number in the I/O ring: the slots it claims say so.
    const number = this.#nextNumber++;
    const workerData: IoThreadData = { ring: this.#ring.buffer, number, buffers: this.#liveBuffers() };
    const worker = new Worker(WORKER_URL, { execArgv: [], workerData });
    const thread: IoThread = { worker, pending: new Map(), ready: false };
    worker.on('message', (message: IoMessage) => {
      if ('ready' in message) {
        thread.ready = true;
        this.#failedStarts = 0;
        this.#startForRing();
        return;
      }
      for (const done of message.done) {
        settle(thread, done.id, (pending) => (done.error === undefined ? pending.resolve(done) : pending.reject(ioError(done.error))));
      }
      this.#holdThreads();
    });
    // A thread that fails or ends fails its jobs (the ring jobs it claimed too) and leaves the
    // pool; the jobs still posted wait for another thread, started now if need be, unless threads
    // keep ending before they are ready: then no thread would ever take them, and they fail.
    let gone = false;
    const lost = (err: Error) => {
      // 'error' is followed by 'exit': one loss.
      if (gone) return;
      gone = true;
      const at = this.#running.indexOf(thread);
      if (at !== -1) this.#running.splice(at, 1);
      for (const job of thread.pending.values()) job.reject(err);
      thread.pending.clear();
      this.#failRing(CLAIMED_BASE + number, err);
      if (!thread.ready && ++this.#failedStarts >= MAX_FAILED_STARTS && this.#running.length === 0) {
        this.#failedStarts = 0;
        this.#failRing(POSTED, new KvtierError(ErrorCode.WORKER, `no fs I/O thread could be started: ${MAX_FAILED_STARTS} in a row ended before they were ready (the last: ${err.message})`, { cause: err }));
        return;
      }
      this.#startForRing();
    };
    worker.on('error', (err) => lost(new KvtierError(ErrorCode.WORKER, `an fs I/O thread failed: ${messageOf(err)}`, { cause: err })));
    worker.on('exit', (code) => lost(new KvtierError(ErrorCode.WORKER, `an fs I/O thread exited (code ${code}) before it answered its jobs`)));
    // Held or unref'd after the listeners: a 'message' listener refs the worker's port again, and a
    // warm thread that never got a job then kept the process alive after every adapter closed.
    this.#running.push(thread);
    this.#holdThreads();
    return thread;
  }
}

let shared: FsIoThreads | undefined;

/**
 * The I/O threads of this JS thread's fs adapters: one pool, allowed as many threads as the
 * largest `threads` any adapter asked for.
 */
export function sharedIoThreads(threads: number): FsIoThreads {
  shared ??= new FsIoThreads(threads);
  shared.allow(threads);
  return shared;
}
