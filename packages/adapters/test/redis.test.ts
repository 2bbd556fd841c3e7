// The redis adapter against a real server (scripts/redis-servers.mjs): bytes in place, layout,
// prefixes, a full server, timeouts that must not let late bytes land, config errors.
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Socket } from 'node:net';
import { ErrorCode, KvtierError, digestHex } from '@kvtier/core';
import { HEADER_BYTES, validateAdapterConfig } from '@kvtier/core/authoring';
import '../src/index.ts';
import { RedisAdapter } from '../src/redis/adapter.ts';
import { bodyLength, sizeClassAtMost } from '../src/redis/layout.ts';
import { cli, killNode, redisFixture, startNode, startSingle, stopAll } from '../../../scripts/redis-servers.mjs';
import { assertCallsRejectAfterClose, boundedTest, chunkKeys, fillPattern, hosted, tempDir } from './fixtures.ts';

const test = boundedTest(uvuTest, 60_000);
const MIB = 1024 * 1024;
let prefixes = 0;

/** Polls `check` every 20 ms until it holds; throws after `ms`. */
async function eventually(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A fresh key prefix: each test sees only its own keys on the shared server. */
function freshPrefix(): string {
  return `kvt-test-${process.pid}-${++prefixes}:`;
}

async function withRedis(body: (adapter: RedisAdapter, prefix: string, port: number) => Promise<void>, extra: Record<string, unknown> = {}): Promise<void> {
  const { single } = await redisFixture();
  const keyPrefix = freshPrefix();
  const adapter = await RedisAdapter.open({ type: 'redis', url: single.url, keyPrefix, ...extra });
  try {
    await body(adapter, keyPrefix, single.node.port);
  } finally {
    await adapter.close();
  }
}

test('store then load returns the exact bytes, 4 KiB and 1 MiB objects, read in place', () => withRedis(async (adapter) => {
  for (const size of [4096, MIB]) {
    const keys = chunkKeys(4, `model-${size}`);
    const m = hosted(adapter, 'redis', size, 8);
    assert.equal([...(await m.store(keys, size))], [1, 1, 1, 1]);
    const { sizes } = await m.host.lookupAndLock(keys, 1);
    await m.host.unlock(keys, 1);
    assert.equal([...sizes], [size, size, size, size]);
    assert.equal(await m.load(keys, size, 4), [0, 1, 2, 3]);
    for (let i = 0; i < 4; i++) assert.ok(Buffer.from(m.arena.view(4 + i, size)).equals(Buffer.from(m.arena.view(i, size))), `object ${i} of ${size}`);
  }
  const status = await adapter.status();
  const inPlace = status.loadBytesInPlace as number;
  const copied = status.loadBytesCopied as number;
  assert.ok(inPlace / (inPlace + copied) > 0.9, `most loaded bytes land in place: ${inPlace} in place, ${copied} copied`);
  assert.ok(status.healthy);
}));

test('a missing key is a miss; lookup answers -1; delete answers 1 then 0', () => withRedis(async (adapter) => {
  const keys = chunkKeys(2);
  assert.equal([...(await adapter.lookup(keys))], [-1, -1]);
  const target = new Uint8Array(100).fill(9);
  assert.equal([...(await adapter.load(keys.subarray(0, 4), [[target]]))], [-1]);
  assert.ok(target.every((b) => b === 9), 'a miss leaves the target as it was');
  assert.equal([...(await adapter.store(keys.subarray(0, 4), [[new Uint8Array(200).fill(3)]]))], [1]);
  assert.equal([...(await adapter.lookup(keys))], [200, -1]);
  assert.equal([...(await adapter.delete(keys))], [1, 0]);
  assert.equal([...(await adapter.lookup(keys))], [-1, -1]);
}));

test('an object longer than its target answers a length past the target and overruns nothing', () => withRedis(async (adapter) => {
  const keys = chunkKeys(1);
  const object = new Uint8Array(5000);
  fillPattern(object, 5);
  await adapter.store(keys, [[object.subarray(0, 64), object.subarray(64)]]);
  const memory = new Uint8Array(4000).fill(0xee);
  const [length] = await adapter.load(keys, [[memory.subarray(0, 64), memory.subarray(64, 3000)]]);
  assert.is(length, 5000);
  assert.ok(Buffer.from(memory.subarray(0, 3000)).equals(Buffer.from(object.subarray(0, 3000))));
  assert.ok(memory.subarray(3000).every((b) => b === 0xee), 'bytes past the parts are untouched');
}));

test('one key per object under the prefix: a hash whose body stays under an allocator size class', () => withRedis(async (adapter, prefix, port) => {
  const keys = chunkKeys(1);
  const m = hosted(adapter, 'redis', MIB, 2);
  await m.store(keys, MIB);
  assert.is(await cli(port, '--scan', '--pattern', `${prefix}*`), `${prefix}${digestHex(keys, 0)}`);
  const key = `${prefix}${digestHex(keys, 0)}`;
  assert.is(await cli(port, 'TYPE', key), 'hash');
  const length = HEADER_BYTES + MIB;
  assert.is(Number(await cli(port, 'HSTRLEN', key, 'b')), MIB - 64);
  assert.is(Number(await cli(port, 'HSTRLEN', key, 't')), length - (MIB - 64));
  const used = Number(await cli(port, 'MEMORY', 'USAGE', key));
  assert.ok(used < length * 1.01, `a 1 MiB object takes ${used} bytes in the server (< 1% over ${length})`);
}));

test('layout: the body is 64 bytes under the largest size class that fits', () => {
  assert.is(sizeClassAtMost(MIB), MIB);
  assert.is(sizeClassAtMost(MIB + 1), MIB);
  assert.is(sizeClassAtMost(1.3 * MIB), 1.25 * MIB);
  assert.is(bodyLength(MIB + 64), MIB - 64);
  assert.is(bodyLength(4 * MIB + 64), 4 * MIB - 64);
  assert.is(bodyLength(MIB - 64), MIB - 64);
  assert.is(bodyLength(100), 100);
});

test('different key prefixes do not see each other', () => withRedis(async (a) => {
  const { single } = await redisFixture();
  const b = await RedisAdapter.open({ type: 'redis', url: single.url, keyPrefix: freshPrefix() });
  try {
    const keys = chunkKeys(1);
    await a.store(keys, [[new Uint8Array(300)]]);
    assert.equal([...(await b.lookup(keys))], [-1]);
    assert.equal([...(await a.lookup(keys))], [300]);
  } finally {
    await b.close();
  }
}));

test('a full server (-OOM under noeviction) answers not stored and counts it; usage reads used_memory and maxmemory', async () => {
  const dir = await tempDir('kvtier-redis-oom-');
  try {
    const small = await startSingle(dir, '3mb');
    const adapter = await RedisAdapter.open({ type: 'redis', url: small.url });
    try {
      const keys = chunkKeys(8);
      const objects = Array.from({ length: 8 }, () => [new Uint8Array(512 * 1024)]);
      const stored = [...(await adapter.store(keys, objects))];
      assert.ok(stored.includes(0), `some stores were refused: ${stored}`);
      const status = await adapter.status();
      assert.is(status.notStoredFull, stored.filter((s) => s === 0).length);
      const usage = await adapter.usage();
      assert.is(usage.capacityBytes, 3 * MIB);
      assert.ok(usage.usedBytes > 0);
      const lengths = [...(await adapter.lookup(keys))];
      lengths.forEach((l, i) => assert.is(l, stored[i] === 1 ? 512 * 1024 : -1, `key ${i}`));
    } finally {
      await adapter.close();
    }
  } finally {
    await stopAll(dir);
  }
});

test('capacityBytes overrides maxmemory as the capacity usage reports', () => withRedis(async (adapter) => {
  assert.is((await adapter.usage()).capacityBytes, 12345);
}, { capacityBytes: 12345 }));

/** A real server that answers PING, and any other command with the start of a 1 MiB bulk and then `late` bytes after `delayMs`. */
async function stallingServer(late: number, delayMs: number) {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('data', (data) => {
      if (data.includes('PING')) {
        socket.write('+PONG\r\n');
        return;
      }
      socket.write(`*2\r\n$${MIB}\r\n`);
      socket.write(Buffer.alloc(1000, 0x11));
      setTimeout(() => socket.write(Buffer.alloc(late, 0x22), () => {}), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

test('a load that times out drops its connection first: late bytes never land in the target', async () => {
  const server = await stallingServer(64 * 1024, 300);
  const adapter = await RedisAdapter.open({ type: 'redis', url: server.url, commandTimeoutMs: 100 });
  try {
    const target = new Uint8Array(MIB + 64).fill(0);
    const err = await adapter.load(chunkKeys(1), [[target]]).then(() => null, (e: Error) => e);
    assert.ok(err instanceof Error && /no reply within 100 ms/.test(err.message), String(err));
    const landed = target.filter((b) => b === 0x11).length;
    await new Promise((r) => setTimeout(r, 500)); // past the server's late write
    assert.is(target.filter((b) => b === 0x22).length, 0, 'no late byte landed');
    assert.is(target.filter((b) => b === 0x11).length, landed, 'nothing changed after the rejection');
    assert.ok((await adapter.status()).connectionFailures as number >= 1);
  } finally {
    await adapter.close();
    await server.close();
  }
});

test('a server that is down fails the call; the adapter reconnects once it is back', async () => {
  const dir = await tempDir('kvtier-redis-down-');
  try {
    const server = await startSingle(dir);
    const adapter = await RedisAdapter.open({ type: 'redis', url: server.url });
    try {
      const keys = chunkKeys(1);
      await adapter.store(keys, [[new Uint8Array(100).fill(1)]]);
      await killNode(server.node);
      const err = await adapter.lookup(keys).then(() => null, (e: Error) => e);
      assert.ok(err instanceof Error, 'a lookup with the server down fails');
      assert.is((await adapter.status()).healthy, false);
      await startNode(server.node);
      // The restarted server is empty (no persistence) and answers again after the back-off.
      await eventually(async () => (await adapter.lookup(keys).catch(() => null))?.[0] === -1, 'the adapter to reconnect');
      assert.equal([...(await adapter.store(keys, [[new Uint8Array(100).fill(2)]]))], [1]);
      assert.ok((await adapter.status()).healthy);
    } finally {
      await adapter.close();
    }
  } finally {
    await stopAll(dir);
  }
});

test('config: every bad field is named', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /^config\.adapters\[0\]\.url: exactly one of url/],
    [{ url: 'redis://a:1', cluster: ['redis://b:2'] }, /^config\.adapters\[0\]\.url: exactly one of/],
    [{ url: 'http://a:1' }, /^config\.adapters\[0\]\.url: must use the redis:\/\/ scheme/],
    [{ url: 'rediss://a:1' }, /^config\.adapters\[0\]\.url: TLS/],
    [{ url: 'redis://u:p@a:1' }, /^config\.adapters\[0\]\.url: must not carry credentials/],
    [{ url: 'redis://a:1/2' }, /^config\.adapters\[0\]\.url: must be redis:\/\/host\[:port\]/],
    [{ url: 'not a url' }, /^config\.adapters\[0\]\.url: must be a URL/],
    [{ cluster: [] }, /^config\.adapters\[0\]\.cluster: must be a non-empty array/],
    [{ cluster: ['redis://a:1', 7] }, /^config\.adapters\[0\]\.cluster\[1\]: must be a non-empty string/],
    [{ url: 'redis://a', keyPrefix: 'a{b}' }, /^config\.adapters\[0\]\.keyPrefix: must not contain \{ or \}/],
    [{ url: 'redis://a', keyPrefix: 'a b' }, /^config\.adapters\[0\]\.keyPrefix: must be printable ASCII/],
    [{ url: 'redis://a', keyPrefix: 3 }, /^config\.adapters\[0\]\.keyPrefix: must be a string/],
    [{ url: 'redis://a', commandTimeoutMs: 0 }, /^config\.adapters\[0\]\.commandTimeoutMs: must be an integer ≥ 1/],
    [{ url: 'redis://a', connectTimeoutMs: 1.5 }, /^config\.adapters\[0\]\.connectTimeoutMs: must be an integer ≥ 1/],
    [{ url: 'redis://a', db: 2 }, /^config\.adapters\[0\]\.db: is not a field of a redis adapter/],
  ];
  for (const [fields, message] of cases) {
    try {
      validateAdapterConfig({ type: 'redis', ...fields }, 'adapters[0]');
      assert.unreachable(`accepted ${JSON.stringify(fields)}`);
    } catch (err) {
      assert.ok(err instanceof KvtierError, String(err));
      assert.is(err.code, ErrorCode.CONFIG);
      assert.match(err.message, message);
    }
  }
});

test('calls after close reject with KVT_ERR_CLOSED', async () => {
  const { single } = await redisFixture();
  await assertCallsRejectAfterClose(await RedisAdapter.open({ type: 'redis', url: single.url, keyPrefix: freshPrefix() }));
});

uvuTest.run();
