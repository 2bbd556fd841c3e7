// The other process of tests/engine-redis-sharing.test.ts: a KvCache of its own over the same
// redis tier. Usage: node --import tsx tests/engine-redis-sharing-peer.ts '<json>' with
// {"url", "keyPrefix", "salt", "tokens": [first, count], "mode": "write" | "read"}; prints one
// JSON line: {"loaded": n, "exact": bool}.
import { withDeadline } from '@kvtier/core/testing';
import { saltedKeys } from './engine-redis-sharing-keys.ts';
import { openCache, pattern, prefetch, storeSettled, writeKeys } from './engine-helpers.ts';

const task = JSON.parse(process.argv[2]) as { url: string; keyPrefix: string; salt: string; tokens: [number, number]; mode: 'write' | 'read' };
const cache = await withDeadline(openCache([{ type: 'redis', url: task.url, keyPrefix: task.keyPrefix }]), 60_000, 'KvCache.open');
try {
  const keys = saltedKeys(task.salt, ...task.tokens);
  let result = { loaded: 0, exact: true };
  if (task.mode === 'write') {
    writeKeys(cache, keys);
    await withDeadline(storeSettled(cache), 30_000, 'the stores');
    result = { loaded: keys.length / 4, exact: true };
  } else {
    const loaded = await prefetch(cache, keys);
    const views = loaded === 0 ? [] : cache.readPrefetched(keys.slice(0, loaded * 4))!;
    const exact = views.every((v, i) => Buffer.from(v).equals(Buffer.from(pattern(keys, i))));
    if (loaded > 0) cache.finishReadPrefetched(keys.slice(0, loaded * 4));
    result = { loaded, exact };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await withDeadline(cache.close(), 30_000, 'KvCache.close');
}
