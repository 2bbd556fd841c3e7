import { openGpu, PagedKvCache } from '@kvtier/gpu';
import { ReferenceEngine } from '../src/engine/engine.ts';
import { modelShape } from '../src/engine/model.ts';
const shape = modelShape({ maxTokens: Number(process.env.MAXT ?? 4096) });
const gpu = await openGpu();
console.log(gpu.adapterName);
const cache = new PagedKvCache(gpu, { layers: shape.layers, kvHeads: shape.kvHeads, headDim: shape.headDim, blockTokens: shape.blockTokens, numBlocks: 512, dtype: 'f16' });
let t0 = performance.now();
const eng = new ReferenceEngine(gpu, cache, shape);
console.log('create ms', performance.now() - t0);
const N = Number(process.env.N ?? 512);
const tokens = Array.from({ length: N }, (_, i) => (i * 7919) % 4096);
const tableA = Array.from({ length: N / 16 }, (_, i) => i);
const tableB = Array.from({ length: N / 16 }, (_, i) => 300 - i);
const bits = (f: Float32Array) => new Uint32Array(f.buffer);
const same = (a: Float32Array, b: Float32Array) => bits(a).every((v, i) => v === bits(b)[i]);
for (let r = 0; r < 3; r++) {
  t0 = performance.now();
  const a = await eng.prefill(tokens, 0, tableA);
  console.log('full prefill ms', (performance.now() - t0).toFixed(1), a.slice(0, 4));
}
const a = await eng.prefill(tokens, 0, tableA);
// stepped: first 448 then rest
t0 = performance.now();
await eng.prefill(tokens.slice(0, N - 64), 0, tableB);
console.log('prefix prefill ms', (performance.now() - t0).toFixed(1));
t0 = performance.now();
const b = await eng.prefill(tokens, N - 64, tableB);
console.log('tail 64 ms', (performance.now() - t0).toFixed(1), 'same', same(a, b));
t0 = performance.now();
const c = await eng.prefill(tokens, N - 1, tableB);
console.log('last 1 ms', (performance.now() - t0).toFixed(1), 'same', same(a, c));
const kA = await cache.readBlocks(tableA); const kB = await cache.readBlocks(tableB);
console.log('kv same', kA.every((v, i) => v === kB[i]));
let nan = 0; for (const v of a) if (!Number.isFinite(v)) nan++;
let mx = 0; for (const v of a) mx = Math.max(mx, Math.abs(v)); console.log('nan', nan, 'max', mx);
gpu.close();
