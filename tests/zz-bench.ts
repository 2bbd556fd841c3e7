import '@kvtier/adapters';
import { KvCache } from '@kvtier/core';
import { recordingLogger } from '@kvtier/core/testing';
import { withNativeStderr } from '../packages/gpu/src/native-stderr.ts';
import { create } from 'webgpu';
import { request } from 'node:http';
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const fmt = (a: number[]) => `min ${Math.min(...a).toFixed(3)} / med ${med(a).toFixed(3)} / max ${Math.max(...a).toFixed(3)}`;
const log = recordingLogger();
// 1. requestAdapter with and without capture (fresh instance each time), ms
const plain: number[] = [], captured: number[] = [];
for (let r = 0; r < 5; r++) {
  let i = create(['backend=vulkan']); let t = performance.now(); await i.requestAdapter(); plain.push(performance.now() - t);
  i = create(['backend=vulkan']); t = performance.now(); await withNativeStderr(() => i.requestAdapter(), log); captured.push(performance.now() - t);
}
process.stdout.write(`requestAdapter plain ms: ${fmt(plain)}\nrequestAdapter captured ms: ${fmt(captured)}\nratio of medians: ${(med(captured) / med(plain)).toFixed(3)}\n`);
// 2. capture overhead on a no-op, µs per call
const noop: number[] = [];
for (let r = 0; r < 3; r++) { const t = performance.now(); for (let k = 0; k < 1000; k++) withNativeStderr(() => 0, log); noop.push((performance.now() - t)); }
process.stdout.write(`withNativeStderr(no-op) µs/call over 1000: ${fmt(noop)}\n`);
// 3. /metrics over HTTP vs cache.metrics() direct, ms per call
const cache = await KvCache.open({ l1: { slotBytes: 4096, slotCount: 64 }, adapters: [{ type: 'mock' }] });
const server = await cache.serve();
const get = () => new Promise<void>((res, rej) => request(`${server.url}/metrics`, { agent: false }, (r) => { r.resume(); r.on('end', () => res()); }).on('error', rej).end());
const direct: number[] = [], http: number[] = [];
for (let r = 0; r < 3; r++) {
  let t = performance.now(); for (let k = 0; k < 100; k++) await cache.metrics(); direct.push((performance.now() - t) / 100);
  t = performance.now(); for (let k = 0; k < 100; k++) await get(); http.push((performance.now() - t) / 100);
}
process.stdout.write(`metrics() direct ms: ${fmt(direct)}\nGET /metrics ms: ${fmt(http)}\nratio of medians: ${(med(http) / med(direct)).toFixed(3)}\n`);
await cache.close();
