/**
 * A small RESP2 codec: commands are encoded as scatter/gather lists (bulk values stay the
 * caller's views, never copied), and replies are parsed incrementally from a byte stream. A
 * reply's bulk bodies can be placed straight into caller-given parts: the parser then tells the
 * connection where the kernel should read next ({@link ReplyParser.directTarget}), so body bytes
 * land in an L1 slot without passing through a buffer of ours.
 */

/** A command argument: text (ASCII: names, keys, numbers) or a binary value as parts. */
export type Arg = string | number | readonly Uint8Array[];

/** One command and, for a reply whose bulk bodies go to the caller's memory, the parts they fill in order. */
export interface Command {
  readonly args: readonly Arg[];
  /** Where this command's reply bulks go, one after the other; absent: bulks are collected as Buffers. */
  readonly into?: readonly Uint8Array[];
}

/** An error reply (`-ERR …`, `-MOVED …`, `-OOM …`): a value, not a thrown error. */
export class RespError {
  /** The whole error line without the `-`. */
  readonly message: string;
  /** An error reply whose line (without the `-`) is `message`. */
  constructor(message: string) {
    this.message = message;
  }

  /** The first word: `ERR`, `MOVED`, `ASK`, `OOM`, `WRONGTYPE`, … */
  get kind(): string {
    const space = this.message.indexOf(' ');
    return space === -1 ? this.message : this.message.slice(0, space);
  }
}

/**
 * A parsed reply: simple strings as strings, integers as numbers, bulk strings as Buffers (or,
 * for a command with `into`, as the bulk's length in bytes), nil as null, arrays as arrays.
 */
export type Reply = string | number | Buffer | null | RespError | Reply[];

const CRLF = Buffer.from('\r\n');

/** `Buffer` over the same memory as `view` (SharedArrayBuffer included): sockets take it as is. */
function asBuffer(view: Uint8Array): Buffer {
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * The wire form of `command` as a list of buffers to write in one go: the text around the
 * values is gathered into few small buffers, the values' parts are passed through.
 */
export function encodeCommand(args: readonly Arg[], out: Buffer[] = []): Buffer[] {
  let text = `*${args.length}\r\n`;
  for (const arg of args) {
    if (typeof arg === 'string' || typeof arg === 'number') {
      const s = String(arg);
      text += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
      continue;
    }
    let length = 0;
    for (const part of arg) length += part.length;
    out.push(Buffer.from(`${text}$${length}\r\n`));
    for (const part of arg) if (part.length > 0) out.push(asBuffer(part));
    text = '\r\n';
  }
  out.push(text === '\r\n' ? CRLF : Buffer.from(text));
  return out;
}

/** An array reply being filled. */
interface Frame {
  readonly items: Reply[];
  remaining: number;
}

/** Longest reply line (type byte to CRLF) accepted; a longer one means the stream is not RESP. */
const MAX_LINE = 64 * 1024;
/** Longest bulk collected into a Buffer (CLUSTER SLOTS, INFO); placed bulks have no limit. */
const MAX_COLLECTED_BULK = 64 * 1024 * 1024;

/** Where placed bulk bytes came from: read by the kernel in place, or copied from the scratch buffer. */
export interface PlacementCounts {
  /** Bytes the kernel read straight into the parts. */
  loadBytesInPlace: number;
  /** Bytes copied into the parts (those that came in one read with reply headers). */
  loadBytesCopied: number;
}

/** Thrown for bytes that are not RESP: the connection must be dropped. */
export class ProtocolError extends Error {}

/**
 * Incremental reply parser. Feed it what the socket read ({@link feed}) or tell it how many body
 * bytes the socket read straight into {@link directTarget} ({@link advanceDirect}); each complete
 * top-level reply goes to `onReply` together with the command it answers, taken from `next()`.
 */
export class ReplyParser {
  readonly #next: () => Command | undefined;
  readonly #onReply: (reply: Reply) => void;
  readonly #counts: PlacementCounts;
  /** The bytes of a line split across reads. */
  #line: Buffer[] = [];
  #lineLength = 0;
  readonly #stack: Frame[] = [];
  /** The command whose reply is being parsed (undefined between replies). */
  #command: Command | undefined;
  /** Bytes of `#command.into` already filled by earlier bulks of the reply. */
  #placed = 0;
  // The bulk body in progress: bytes still to come (body + CRLF), where they go.
  #bodyLeft = -1;
  #bodyLength = 0;
  #bodyDest: Uint8Array[] = [];
  #bodyDestIndex = 0;
  #bodyDestOffset = 0;
  #collect: Buffer | undefined;
  #collectOffset = 0;

  /**
   * A parser whose replies answer, in order, the command `next()` peeks at (the oldest not yet
   * answered); `onReply` gets each complete reply (and must advance what `next()` answers).
   * `counts` adds up where placed bulk bytes came from.
   */
  constructor(next: () => Command | undefined, onReply: (reply: Reply) => void, counts: PlacementCounts) {
    this.#next = next;
    this.#onReply = onReply;
    this.#counts = counts;
  }

  /** Bytes of a body still expected (CRLF excluded): where the kernel may read without us. */
  directTarget(): Uint8Array | undefined {
    if (this.#bodyLeft <= 2 || this.#bodyDestIndex >= this.#bodyDest.length) return undefined;
    const part = this.#bodyDest[this.#bodyDestIndex];
    const n = Math.min(part.length - this.#bodyDestOffset, this.#bodyLeft - 2);
    return n > 0 ? part.subarray(this.#bodyDestOffset, this.#bodyDestOffset + n) : undefined;
  }

  /**
   * Whether the reply being parsed, or the next one, places its bulks into caller parts: the
   * connection then reads headers in small steps, so the body is left for a read in place.
   */
  expectsPlacement(): boolean {
    return (this.#command ?? this.#next())?.into !== undefined;
  }

  /** The socket read `n` bytes into the view {@link directTarget} returned. */
  advanceDirect(n: number): void {
    this.#counts.loadBytesInPlace += n;
    this.#bodyLeft -= n;
    this.#bodyDestOffset += n;
    this.#skipFullParts();
    if (this.#bodyLeft === 0) this.#finishBody();
  }

  /** Parses `bytes` (a view the caller reuses afterwards: nothing of it is kept). */
  feed(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      if (this.#bodyLeft >= 0) {
        at = this.#feedBody(bytes, at);
        continue;
      }
      const eol = bytes.indexOf(10, at);
      if (eol === -1) {
        this.#lineLength += bytes.length - at;
        if (this.#lineLength > MAX_LINE) throw new ProtocolError('reply line too long');
        this.#line.push(Buffer.from(bytes.subarray(at)));
        return;
      }
      let line: Buffer;
      if (this.#line.length > 0) {
        this.#line.push(Buffer.from(bytes.subarray(at, eol + 1)));
        line = Buffer.concat(this.#line);
        this.#line = [];
        this.#lineLength = 0;
      } else line = Buffer.from(bytes.buffer, bytes.byteOffset + at, eol + 1 - at);
      at = eol + 1;
      this.#onLine(line);
    }
  }

  #onLine(line: Buffer): void {
    if (line.length < 3 || line[line.length - 2] !== 13) throw new ProtocolError('reply line without CRLF');
    if (this.#command === undefined && this.#stack.length === 0) {
      this.#command = this.#next();
      this.#placed = 0;
      if (this.#command === undefined) throw new ProtocolError('a reply came with no command waiting');
    }
    const text = line.toString('latin1', 1, line.length - 2);
    switch (line[0]) {
      case 0x2b: return this.#value(text); // +
      case 0x2d: return this.#value(new RespError(text)); // -
      case 0x3a: return this.#value(this.#integer(text)); // :
      case 0x24: { // $
        const length = this.#integer(text);
        if (length < 0) return this.#value(null);
        return this.#startBody(length);
      }
      case 0x2a: { // *
        const count = this.#integer(text);
        if (count < 0) return this.#value(null);
        if (count === 0) return this.#value([]);
        this.#stack.push({ items: [], remaining: count });
        return;
      }
      default:
        throw new ProtocolError(`unknown reply type ${JSON.stringify(String.fromCharCode(line[0]))}`);
    }
  }

  #integer(text: string): number {
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw new ProtocolError(`bad integer in reply: ${JSON.stringify(text.slice(0, 40))}`);
    return n;
  }

  #startBody(length: number): void {
    this.#bodyLeft = length + 2;
    this.#bodyLength = length;
    const into = this.#command?.into;
    if (into !== undefined) {
      // Place this bulk after the previous ones of the reply; what does not fit is dropped (the
      // length still says how long the object was).
      this.#bodyDest = [];
      let skip = this.#placed;
      for (const part of into) {
        if (skip >= part.length) {
          skip -= part.length;
          continue;
        }
        this.#bodyDest.push(skip > 0 ? part.subarray(skip) : part);
        skip = 0;
      }
      this.#placed += length;
      this.#collect = undefined;
    } else {
      if (length > MAX_COLLECTED_BULK) throw new ProtocolError(`bulk reply of ${length} bytes is too long to collect`);
      this.#bodyDest = [];
      this.#collect = Buffer.allocUnsafe(length);
      this.#collectOffset = 0;
    }
    this.#bodyDestIndex = 0;
    this.#bodyDestOffset = 0;
    this.#skipFullParts();
  }

  #skipFullParts(): void {
    while (this.#bodyDestIndex < this.#bodyDest.length && this.#bodyDestOffset >= this.#bodyDest[this.#bodyDestIndex].length) {
      this.#bodyDestIndex++;
      this.#bodyDestOffset = 0;
    }
  }

  /** Consumes body bytes (and the CRLF after them) from `bytes` at `at`; returns where it stopped. */
  #feedBody(bytes: Uint8Array, at: number): number {
    const bodyBytes = Math.max(0, this.#bodyLeft - 2);
    const take = Math.min(bodyBytes, bytes.length - at);
    const end = at + take;
    if (this.#collect !== undefined) {
      this.#collect.set(bytes.subarray(at, end), this.#collectOffset);
      this.#collectOffset += take;
    } else {
      // Bytes of the body that came in the same read as its header: these few are copied.
      let from = at;
      while (from < end && this.#bodyDestIndex < this.#bodyDest.length) {
        const part = this.#bodyDest[this.#bodyDestIndex];
        const n = Math.min(part.length - this.#bodyDestOffset, end - from);
        part.set(bytes.subarray(from, from + n), this.#bodyDestOffset);
        this.#counts.loadBytesCopied += n;
        this.#bodyDestOffset += n;
        from += n;
        this.#skipFullParts();
      }
    }
    this.#bodyLeft -= take;
    at = end;
    // The CRLF after the body.
    while (this.#bodyLeft > 0 && this.#bodyLeft <= 2 && at < bytes.length) {
      const want = this.#bodyLeft === 2 ? 13 : 10;
      if (bytes[at] !== want) throw new ProtocolError('bulk reply not followed by CRLF');
      this.#bodyLeft--;
      at++;
    }
    if (this.#bodyLeft === 0) this.#finishBody();
    return at;
  }

  #finishBody(): void {
    this.#bodyLeft = -1;
    const value = this.#collect ?? this.#bodyLength;
    this.#collect = undefined;
    this.#bodyDest = [];
    this.#value(value);
  }

  #value(value: Reply): void {
    let v = value;
    for (;;) {
      const top = this.#stack.at(-1);
      if (top === undefined) {
        this.#command = undefined;
        this.#onReply(v);
        return;
      }
      top.items.push(v);
      if (--top.remaining > 0) return;
      this.#stack.pop();
      v = top.items;
    }
  }
}
