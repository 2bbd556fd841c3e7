// The RESP codec on its own: replies split at every byte, bulks placed into parts, bad streams.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProtocolError, ReplyParser, RespError, encodeCommand, type Command, type Reply } from '../src/redis/resp.ts';

/** Parses `stream` fed in pieces of `step` bytes for `commands`; answers the replies and the placement counts. */
function parse(stream: Buffer, commands: Command[], step: number) {
  const replies: Reply[] = [];
  const counts = { loadBytesInPlace: 0, loadBytesCopied: 0 };
  let head = 0;
  const parser = new ReplyParser(() => commands[head], (r) => {
    replies.push(r);
    head++;
  }, counts);
  for (let at = 0; at < stream.length; at += step) parser.feed(stream.subarray(at, Math.min(stream.length, at + step)));
  return { replies, counts };
}

test('encodeCommand passes value parts through and frames them', () => {
  const value = [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])];
  const chunks = encodeCommand(['HSET', 'k', 'b', value, 't', []]);
  const wire = Buffer.concat(chunks);
  assert.is(wire.toString('latin1'), '*6\r\n$4\r\nHSET\r\n$1\r\nk\r\n$1\r\nb\r\n$3\r\n\x01\x02\x03\r\n$1\r\nt\r\n$0\r\n\r\n');
  assert.ok(chunks.some((c) => c.buffer === value[0].buffer && c.byteOffset === value[0].byteOffset), 'the value is passed as a view, not copied');
});

test('every reply type, split at every byte boundary, and bulks placed across parts in order', () => {
  const body = Buffer.alloc(300, 7);
  const tail = Buffer.from('tail-bytes');
  const stream = Buffer.concat([
    Buffer.from('+OK\r\n-OOM command not allowed\r\n:42\r\n$-1\r\n*2\r\n$3\r\nabc\r\n*1\r\n:1\r\n'),
    Buffer.from(`*2\r\n$${body.length}\r\n`), body, Buffer.from(`\r\n$${tail.length}\r\n`), tail, Buffer.from('\r\n'),
    Buffer.from('*2\r\n$-1\r\n$-1\r\n'),
  ]);
  for (const step of [1, 2, 3, 7, 64, stream.length]) {
    const parts = [new Uint8Array(100), new Uint8Array(300)];
    const missTarget = [new Uint8Array(10).fill(5)];
    const commands: Command[] = [
      { args: [] }, { args: [] }, { args: [] }, { args: [] }, { args: [] },
      { args: [], into: parts },
      { args: [], into: missTarget },
    ];
    const { replies, counts } = parse(stream, commands, step);
    assert.is(replies.length, 7, `step ${step}`);
    assert.is(replies[0], 'OK');
    assert.ok(replies[1] instanceof RespError && replies[1].kind === 'OOM');
    assert.is(replies[2], 42);
    assert.is(replies[3], null);
    assert.equal((replies[4] as Reply[])[0], Buffer.from('abc'));
    assert.equal((replies[4] as Reply[])[1], [1]);
    assert.equal(replies[5], [300, tail.length]);
    const placed = Buffer.concat([parts[0], parts[1]]);
    assert.ok(placed.subarray(0, 300).equals(body), `step ${step}: the body`);
    assert.ok(placed.subarray(300, 310).equals(tail), `step ${step}: the tail after the body`);
    assert.equal(replies[6], [null, null]);
    assert.ok(missTarget[0].every((b) => b === 5), 'nil bulks leave the target alone');
    assert.is(counts.loadBytesCopied, 310, 'fed bytes are copied; none were read in place');
  }
});

test('a placed bulk longer than its parts fills them and drops the rest', () => {
  const parts = [new Uint8Array(4)];
  const { replies } = parse(Buffer.from('*2\r\n$6\r\nabcdef\r\n$2\r\ngh\r\n'), [{ args: [], into: parts }], 3);
  assert.equal(replies[0], [6, 2]);
  assert.is(Buffer.from(parts[0]).toString(), 'abcd');
});

test('directTarget hands out the rest of a placed body; advanceDirect accounts for it', () => {
  const parts = [new Uint8Array(8), new Uint8Array(8)];
  const replies: Reply[] = [];
  const counts = { loadBytesInPlace: 0, loadBytesCopied: 0 };
  const parser = new ReplyParser(() => ({ args: [], into: parts }), (r) => replies.push(r), counts);
  parser.feed(Buffer.from('*2\r\n$12\r\nab'));
  let target = parser.directTarget()!;
  assert.is(target.length, 6, 'the rest of the first part');
  target.set(Buffer.from('cdefgh'));
  parser.advanceDirect(6);
  target = parser.directTarget()!;
  assert.is(target.length, 4, 'the body left, in the second part');
  target.set(Buffer.from('ijkl'));
  parser.advanceDirect(4);
  assert.is(parser.directTarget(), undefined, 'only the CRLF is left');
  parser.feed(Buffer.from('\r\n$0\r\n\r\n'));
  assert.equal(replies, [[12, 0]]);
  assert.is(Buffer.concat([parts[0], parts[1]]).subarray(0, 12).toString(), 'abcdefghijkl');
  assert.equal(counts, { loadBytesInPlace: 10, loadBytesCopied: 2 });
});

test('bytes that are not RESP, or a reply with no command waiting, are a ProtocolError', () => {
  const cases: [string, Command[]][] = [
    ['?what\r\n', [{ args: [] }]],
    [':12x\r\n', [{ args: [] }]],
    ['$3\r\nabcXY', [{ args: [] }]],
    ['+OK\n', [{ args: [] }]],
    ['+OK\r\n', []],
  ];
  for (const [stream, commands] of cases) {
    assert.throws(() => parse(Buffer.from(stream), commands, 1), (err: unknown) => err instanceof ProtocolError, JSON.stringify(stream));
  }
});

test.run();
