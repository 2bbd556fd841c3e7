/**
 * The fs adapter's I/O ring: sealed stores and checked loads of L1 slots handed to the I/O threads
 * through shared memory instead of a message per thread per batch (fs-io.ts). The adapter host
 * describes each job in a free slot of the ring — where its payload lies (an L1 slot: a buffer the
 * threads were sent once, an offset, a length), its key, and its paths (a store's temp path and
 * name, a load's one path) — and bumps one word; every idle I/O thread wakes, and each takes the
 * oldest posted job it can, one at a time, so a thread that finishes early takes the next job
 * instead of idling while another works through its share (on a loaded machine the batch waited
 * for its slowest thread). A thread answers in the slot and, once it finds no job left to take
 * (or every few answers), bumps another word, which the host awaits without blocking
 * (`Atomics.waitAsync`).
 *
 * Footprint: {@link CONTROL_WORDS} control words — POSTED (bumped by the host whenever it posts),
 * ANSWERED (bumped by a thread once it has answered all it could take, or a few), TICKETS (the
 * next ticket) — then {@link RING_SLOTS} slot records of {@link RECORD_WORDS} words (STATE,
 * TICKET, BUFFER, FLAGS (LOAD, SYNC, REPLACE), KEY ×4, FIRST_BYTES, SECOND_BYTES, ANSWER_BYTES,
 * OFFSET and LENGTH as Float64s), then per slot {@link TEXT_BYTES} bytes that hold the paths
 * (UTF-8: a store's temp path then its name; a load's one path, SECOND_BYTES unused) and, once
 * answered, the answer (a JSON {@link IoDone} without its id, in place of the paths).
 *
 * State encoding of a slot's STATE word: {@link FREE} (the host may post into it), {@link POSTED}
 * (any thread may claim it), `CLAIMED_BASE + n` (I/O thread number `n` runs it), {@link ANSWERED}
 * (the host reads the answer and frees it). A claim is one compare-exchange from POSTED, so a job
 * is run once, and the thread that runs it is known: when a thread dies the host fails the jobs it
 * had claimed (`KVT_ERR_WORKER`, as a message job) and the ones still posted wait for another.
 * Only the host posts and frees; only the claiming thread answers.
 */
import { bumpWord, RegionLayout, waitWord, WordLayout } from '@kvtier/core/authoring';
import type { IoDone, IoJob } from './fs-io.ts';

const control = new WordLayout();
const POSTED_WORD = control.words();
const ANSWERED_WORD = control.words();
const TICKETS = control.words();
/** Control words at the start of the ring's buffer. */
export const CONTROL_WORDS = control.size;

const record = new WordLayout();
const STATE = record.words();
/** Order of posting (wrapping): threads claim the oldest posted job first. */
const TICKET = record.words();
/** Which of the buffers sent to the threads holds the payload. */
const BUFFER = record.words();
const FLAGS = record.words();
const KEY = record.words(4);
/** UTF-8 bytes of the first path (a store's temp path, a load's path) and of the second (a store's name). */
const FIRST_BYTES = record.words();
const SECOND_BYTES = record.words();
const ANSWER_BYTES = record.words();
/** Float64 indices within the record (an L1 buffer may pass 2 GiB). */
const OFFSET = record.f64();
const LENGTH = record.f64();
/** Words of one slot record (even, so every record's Float64s stay aligned). */
export const RECORD_WORDS = record.size + (record.size % 2);

/** STATE: the host may post into the slot. */
export const FREE = 0;
/** STATE: posted, not claimed yet. */
export const POSTED = 1;
/** STATE: answered, for the host to read. */
export const ANSWERED = 2;
/** STATE: claimed by I/O thread `n` is `CLAIMED_BASE + n`. */
export const CLAIMED_BASE = 3;

const SYNC = 1;
const REPLACE = 2;
/** FLAGS: a checked load, not a store (SYNC and REPLACE unset). */
const LOAD = 4;

/**
 * Answers a draining thread gives before it wakes the host ({@link IoRing.drain}): about a batch of
 * 8's share on two threads, so a batch wakes the host about once per thread.
 */
export const ANSWERS_PER_WAKE = 4;

/** Jobs the ring holds at once; more wait on the host until slots free. */
export const RING_SLOTS = 64;
/** Bytes of one path at most: Linux's PATH_MAX (a longer one fails to open with ENAMETOOLONG anyway). */
export const PATH_BYTES = 4096;
/** Text bytes of a slot: its paths, later its answer. */
export const TEXT_BYTES = 2 * PATH_BYTES;

const layout = new RegionLayout();
const CONTROL_AT = layout.region(CONTROL_WORDS * 4);
const RECORDS_AT = layout.region(RING_SLOTS * RECORD_WORDS * 4);
const TEXT_AT = layout.region(RING_SLOTS * TEXT_BYTES);
/** Bytes of a ring's buffer. */
export const RING_BYTES = layout.byteLength;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A sealed store as the ring carries it: one payload on a buffer the threads know by number. */
export interface RingStore {
  readonly op: 'write';
  readonly buffer: number;
  readonly payload: Uint8Array;
  readonly key: Uint32Array;
  readonly temp: string;
  readonly to: string;
  readonly sync: boolean;
  readonly replace: boolean;
}

/** A checked load as the ring carries it: `payload` (on a buffer the threads know by number) is where it lands. */
export interface RingLoad {
  readonly op: 'read';
  readonly buffer: number;
  readonly payload: Uint8Array;
  readonly key: Uint32Array;
  readonly path: string;
}

/** A job the ring carries. */
export type RingJob = RingStore | RingLoad;

/** An error with an errno code, as the OS would answer a path it cannot take. */
function tooLong(path: string): Error {
  return Object.assign(new Error(`ENAMETOOLONG: name too long, open '${path.slice(0, 64)}…'`), { code: 'ENAMETOOLONG' });
}

/**
 * `done` as JSON of at most {@link TEXT_BYTES} bytes: whole when it fits, else with every message
 * (an error's, a rename error's) cut shorter until it does, since an encoding cut short would be no
 * JSON at all; an answer that cannot fit even so (a landing path past the slot, in escapes) is an
 * error that keeps the job's code.
 */
function answerText(done: Omit<IoDone, 'id'>): string {
  let text = JSON.stringify(done);
  for (let keep = PATH_BYTES; byteLength(text) > TEXT_BYTES; keep >>= 1) {
    if (keep === 0) return JSON.stringify({ error: { message: 'the I/O thread\'s answer did not fit its ring slot', code: done.error?.code } });
    text = JSON.stringify(done, (field, value: unknown) => (field === 'message' && typeof value === 'string' && value.length > keep ? `${value.slice(0, keep)}…` : value));
  }
  return text;
}

function byteLength(text: string): number {
  return encoder.encode(text).length;
}

/** Views of one ring's buffer: what the host and the I/O threads share. */
export class IoRing {
  readonly buffer: SharedArrayBuffer;
  readonly #words: Int32Array;
  readonly #f64: Float64Array;
  readonly #text: Uint8Array;

  /** A ring over `buffer` (a new one, all slots free, when omitted). */
  constructor(buffer = new SharedArrayBuffer(RING_BYTES)) {
    this.buffer = buffer;
    // One view per element type over the whole buffer: indices are the regions' offsets plus the field's.
    this.#words = new Int32Array(buffer);
    this.#f64 = new Float64Array(buffer);
    this.#text = new Uint8Array(buffer, TEXT_AT, RING_SLOTS * TEXT_BYTES);
  }

  #word(slot: number, field: number): number {
    return RECORDS_AT / 4 + slot * RECORD_WORDS + field;
  }

  #float(slot: number, field: number): number {
    return (RECORDS_AT + slot * RECORD_WORDS * 4) / 8 + field;
  }

  #textOf(slot: number, from: number, bytes: number): Uint8Array {
    return this.#text.subarray(slot * TEXT_BYTES + from, slot * TEXT_BYTES + from + bytes);
  }

  /** A slot's STATE. */
  state(slot: number): number {
    return Atomics.load(this.#words, this.#word(slot, STATE));
  }

  /** A free slot, or -1 when all are taken (host only). */
  freeSlot(): number {
    for (let s = 0; s < RING_SLOTS; s++) if (this.state(s) === FREE) return s;
    return -1;
  }

  /** Writes `path` as path `at` (0 or 1) of slot `slot`; throws when it does not fit. */
  #putPath(slot: number, at: number, path: string): void {
    const put = encoder.encodeInto(path, this.#textOf(slot, at * PATH_BYTES, PATH_BYTES));
    if (put.read < path.length) throw tooLong(path);
    this.#words[this.#word(slot, at === 0 ? FIRST_BYTES : SECOND_BYTES)] = put.written;
  }

  /**
   * Describes `job` in free slot `slot` and posts it (host only). Throws, posting nothing, when
   * a path does not fit ({@link PATH_BYTES}).
   */
  post(slot: number, job: RingJob): void {
    const w = this.#words;
    if (job.op === 'write') {
      this.#putPath(slot, 0, job.temp);
      this.#putPath(slot, 1, job.to);
      w[this.#word(slot, FLAGS)] = (job.sync ? SYNC : 0) | (job.replace ? REPLACE : 0);
    } else {
      this.#putPath(slot, 0, job.path);
      w[this.#word(slot, FLAGS)] = LOAD;
    }
    w[this.#word(slot, BUFFER)] = job.buffer;
    for (let k = 0; k < 4; k++) w[this.#word(slot, KEY + k)] = job.key[k];
    this.#f64[this.#float(slot, OFFSET)] = job.payload.byteOffset;
    this.#f64[this.#float(slot, LENGTH)] = job.payload.length;
    w[this.#word(slot, TICKET)] = Atomics.add(w, CONTROL_AT / 4 + TICKETS, 1);
    // The STATE store is the release: a thread that sees POSTED sees every field above.
    Atomics.store(w, this.#word(slot, STATE), POSTED);
  }

  /** Wakes the idle I/O threads: jobs were posted (host only). */
  wakeThreads(): void {
    bumpWord(this.#words, CONTROL_AT / 4 + POSTED_WORD);
  }

  /** The POSTED word, read before a claim scan finds nothing, to wait on after ({@link waitPosted}). */
  postedSeq(): number {
    return Atomics.load(this.#words, CONTROL_AT / 4 + POSTED_WORD);
  }

  /** Resolves once jobs were posted after `seq` was read (an I/O thread, without blocking its messages). */
  waitPosted(seq: number): Promise<void> {
    return waitWord(this.#words, CONTROL_AT / 4 + POSTED_WORD, seq, Infinity);
  }

  /**
   * Claims the oldest posted job whose buffer `known` holds, for I/O thread `thread`: its slot and
   * its job (a sealed, placed write or a checked read, with a view of the payload), or undefined
   * when there is none.
   */
  claim(thread: number, known: (buffer: number) => SharedArrayBuffer | undefined): { slot: number; job: IoJob } | undefined {
    const w = this.#words;
    /** Slots given back by this call (bit per slot, two words): re-posted jobs of a buffer this thread was not sent yet. */
    const givenBack = [0, 0];
    for (;;) {
      let oldest = -1;
      for (let s = 0; s < RING_SLOTS; s++) {
        if ((givenBack[s >> 5] & (1 << (s & 31))) !== 0) continue;
        if (this.state(s) !== POSTED || known(w[this.#word(s, BUFFER)]) === undefined) continue;
        if (oldest === -1 || ((w[this.#word(s, TICKET)] - w[this.#word(oldest, TICKET)]) | 0) < 0) oldest = s;
      }
      if (oldest === -1) return undefined;
      // Another thread may have claimed it since the scan: then scan again.
      if (Atomics.compareExchange(w, this.#word(oldest, STATE), POSTED, CLAIMED_BASE + thread) !== POSTED) continue;
      // The slot is this thread's now, and its fields hold still: read its buffer again. Between
      // the scan and the claim another thread may have run the job seen, and the host freed the
      // slot and posted a new job there (ABA), of a buffer this thread has not been sent yet:
      // a view of no buffer would be an empty, wrong payload. Such a job is given back, and the
      // threads that skipped it while it was claimed look again; this one takes it once its
      // buffer arrives (the buffer's message drains the ring).
      const buffer = known(w[this.#word(oldest, BUFFER)]);
      if (buffer !== undefined) return { slot: oldest, job: this.#job(oldest, buffer) };
      Atomics.store(w, this.#word(oldest, STATE), POSTED);
      this.wakeThreads();
      givenBack[oldest >> 5] |= 1 << (oldest & 31);
    }
  }

  #job(slot: number, buffer: SharedArrayBuffer): IoJob {
    const w = this.#words;
    const flags = w[this.#word(slot, FLAGS)];
    const payload = new Uint8Array(buffer, this.#f64[this.#float(slot, OFFSET)], this.#f64[this.#float(slot, LENGTH)]);
    const key = Uint32Array.from({ length: 4 }, (_, k) => w[this.#word(slot, KEY + k)]);
    const path = decoder.decode(this.#textOf(slot, 0, w[this.#word(slot, FIRST_BYTES)]));
    if ((flags & LOAD) !== 0) return { op: 'read', id: slot, path, parts: [payload], key };
    return {
      op: 'write', id: slot, parts: [payload], seal: key, sync: (flags & SYNC) !== 0, path,
      place: { to: decoder.decode(this.#textOf(slot, PATH_BYTES, w[this.#word(slot, SECOND_BYTES)])), replace: (flags & REPLACE) !== 0 },
    };
  }

  /**
   * Runs the jobs I/O thread `thread` can take with `run`, oldest first, answering each, until none
   * is posted. It wakes the host once at the end, and after every {@link ANSWERS_PER_WAKE} answers
   * before: the host awaits a batch whole, and a wake-up per answer cost it (and a core) one per
   * job (5–16 % more CPU a round of 4 MiB loads than messages), while a steady stream of new jobs
   * must not hold earlier answers back until the ring runs dry.
   */
  drain(thread: number, known: (buffer: number) => SharedArrayBuffer | undefined, run: (job: IoJob) => Omit<IoDone, 'id'>): void {
    let unannounced = 0;
    for (let claimed = this.claim(thread, known); claimed !== undefined; claimed = this.claim(thread, known)) {
      this.answer(claimed.slot, run(claimed.job));
      if (++unannounced === ANSWERS_PER_WAKE) {
        this.wakeHost();
        unannounced = 0;
      }
    }
    if (unannounced > 0) this.wakeHost();
  }

  /**
   * Answers claimed slot `slot` with `done` (the claiming thread only; it wakes the host after,
   * {@link wakeHost}, as {@link drain} does). An answer longer than the slot's text (messages
   * quoting long paths) keeps everything else, its codes and a rename error among them, and loses
   * the ends of its messages ({@link answerText}).
   */
  answer(slot: number, done: Omit<IoDone, 'id'>): void {
    const w = this.#words;
    w[this.#word(slot, ANSWER_BYTES)] = encoder.encodeInto(answerText(done), this.#textOf(slot, 0, TEXT_BYTES)).written;
    Atomics.store(w, this.#word(slot, STATE), ANSWERED);
  }

  /** The ANSWERED word, read before the host collects answers, to wait on after ({@link waitAnswered}). */
  answeredSeq(): number {
    return Atomics.load(this.#words, CONTROL_AT / 4 + ANSWERED_WORD);
  }

  /**
   * Wakes the host's wait for answers: it looks again. A thread wakes it for its answers
   * ({@link drain}), the host itself when a thread died answering nothing.
   */
  wakeHost(): void {
    bumpWord(this.#words, CONTROL_AT / 4 + ANSWERED_WORD);
  }

  /** Resolves once a thread answered after `seq` was read (the host, without blocking). */
  waitAnswered(seq: number): Promise<void> {
    return waitWord(this.#words, CONTROL_AT / 4 + ANSWERED_WORD, seq, Infinity);
  }

  /** The answer in answered slot `slot`, which is freed (host only). */
  take(slot: number): Omit<IoDone, 'id'> {
    const done = JSON.parse(decoder.decode(this.#textOf(slot, 0, this.#words[this.#word(slot, ANSWER_BYTES)]))) as Omit<IoDone, 'id'>;
    this.free(slot);
    return done;
  }

  /** Frees slot `slot` (host only: an answered one, or one whose claiming thread died). */
  free(slot: number): void {
    Atomics.store(this.#words, this.#word(slot, STATE), FREE);
  }
}
