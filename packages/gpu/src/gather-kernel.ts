/**
 * Gather/scatter by a WGSL compute kernel. Every run of a cache has the same length, so one
 * dispatch per device buffer copies a table of (source, destination) word offsets: one workgroup
 * per run, its invocations striding over the run's words (neighbouring lanes touch neighbouring
 * words, and no division per word). Words are `vec4<u32>` when runs are 16-byte multiples, else
 * `u32`: the kernel never looks at the element type (f16 data is just bytes). The chunk goes
 * through a per-slot device region, because a mappable staging buffer cannot be bound as storage.
 */
import './dawn.ts';
import { ErrorCode, KvtierError } from '@kvtier/core';
import type { ChunkGather } from './gather.ts';
import type { PagedKvCache } from './paged-kv-cache.ts';
import { runsByBuffer, type StagingOrder } from './plan.ts';

const WORKGROUP_SIZE = 256;
/** Dispatch parameters sit at this stride in the params buffer (minUniformBufferOffsetAlignment ≤ 256). */
const PARAMS_STRIDE = 256;
/** Parameter words: runBase, runCount, runWords, groupsX. */
const PARAMS_WORDS = 4;

function shaderSource(word: string): string {
  return /* wgsl */ `
alias Word = ${word};
struct Params { runBase: u32, runCount: u32, runWords: u32, groupsX: u32 }
@group(0) @binding(0) var<storage, read> src: array<Word>;
@group(0) @binding(1) var<storage, read_write> dst: array<Word>;
@group(0) @binding(2) var<storage, read> runs: array<vec2<u32>>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let r = group.y * params.groupsX + group.x;
  if (r >= params.runCount) { return; }
  let run = runs[params.runBase + r];
  for (var w = lane; w < params.runWords; w += ${WORKGROUP_SIZE}u) {
    dst[run.y + w] = src[run.x + w];
  }
}
`;
}

interface SlotResources {
  readonly region: GPUBuffer;
  readonly table: GPUBuffer;
  readonly params: GPUBuffer;
  /** Bind groups by `buffer * 2 + (scatter ? 1 : 0)`, made on first use. */
  readonly bindGroups: Map<number, GPUBindGroup>;
}

/** {@link ChunkGather} by compute kernel. */
export class KernelGather implements ChunkGather {
  readonly #cache: PagedKvCache;
  readonly #device: GPUDevice;
  readonly #wordBytes: number;
  readonly #layout: GPUBindGroupLayout;
  readonly #pipeline: GPUComputePipeline;
  readonly #slots: SlotResources[] = [];
  readonly #tableScratch: Uint32Array;
  readonly #paramsScratch: Uint32Array;
  readonly #maxGroupsX: number;

  /**
   * @param cache - the cache whose blocks it moves
   * @param slots - staging ring positions (one device region each)
   * @param chunkBlocks - most blocks moved at once (a piece)
   */
  constructor(cache: PagedKvCache, slots: number, chunkBlocks: number) {
    const device = cache.gpu.device;
    const { geometry } = cache;
    const regionBytes = chunkBlocks * geometry.blockBytes;
    if (regionBytes > device.limits.maxStorageBufferBindingSize) {
      throw new KvtierError(ErrorCode.CONFIG, `config.pieceBytes: a piece of ${regionBytes} bytes exceeds the device's storage binding limit (${device.limits.maxStorageBufferBindingSize}) the gather kernel needs; use smaller pieces or the copy method`);
    }
    this.#cache = cache;
    this.#device = device;
    this.#wordBytes = geometry.runBytes % 16 === 0 ? 16 : 4;
    this.#maxGroupsX = device.limits.maxComputeWorkgroupsPerDimension;
    const maxRuns = chunkBlocks * geometry.runsPerBlock;
    const maxDispatches = Math.min(geometry.bufferCount, maxRuns);
    this.#tableScratch = new Uint32Array(maxRuns * 2);
    this.#paramsScratch = new Uint32Array((maxDispatches * PARAMS_STRIDE) / 4);
    const storage = (type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type } });
    this.#layout = device.createBindGroupLayout({
      label: 'kvtier gather',
      entries: [
        { ...storage('read-only-storage'), binding: 0 },
        { ...storage('storage'), binding: 1 },
        { ...storage('read-only-storage'), binding: 2 },
        { binding: 3, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: PARAMS_WORDS * 4 } },
      ],
    });
    this.#pipeline = device.createComputePipeline({
      label: 'kvtier gather',
      layout: device.createPipelineLayout({ bindGroupLayouts: [this.#layout] }),
      compute: { module: device.createShaderModule({ code: shaderSource(this.#wordBytes === 16 ? 'vec4<u32>' : 'u32') }), entryPoint: 'main' },
    });
    for (let i = 0; i < slots; i++) {
      this.#slots.push({
        region: device.createBuffer({ label: `kvtier gather region ${i}`, size: regionBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST }),
        table: device.createBuffer({ label: `kvtier gather table ${i}`, size: this.#tableScratch.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST }),
        params: device.createBuffer({ label: `kvtier gather params ${i}`, size: this.#paramsScratch.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }),
        bindGroups: new Map(),
      });
    }
  }

  /** Always canonical: the kernel writes the chunk format (one dispatch per device buffer needs no merging). */
  stagingOrder(): StagingOrder {
    return 'canonical';
  }

  encodeGather(encoder: GPUCommandEncoder, blocks: ArrayLike<number>, staging: GPUBuffer, slot: number): void {
    this.#encodeKernel(encoder, blocks, slot, false);
    encoder.copyBufferToBuffer(this.#slots[slot].region, 0, staging, 0, blocks.length * this.#cache.geometry.blockBytes);
  }

  encodeScatter(encoder: GPUCommandEncoder, blocks: ArrayLike<number>, staging: GPUBuffer, slot: number): void {
    encoder.copyBufferToBuffer(staging, 0, this.#slots[slot].region, 0, blocks.length * this.#cache.geometry.blockBytes);
    this.#encodeKernel(encoder, blocks, slot, true);
  }

  destroy(): void {
    for (const s of this.#slots) {
      s.region.destroy();
      s.table.destroy();
      s.params.destroy();
    }
  }

  /**
   * Writes the slot's run table and parameters (queue writes: they land after earlier submits and
   * before this encoder's, and the slot is not reused until its previous chunk completed), then
   * encodes one dispatch per device buffer.
   */
  #encodeKernel(encoder: GPUCommandEncoder, blocks: ArrayLike<number>, slot: number, scatter: boolean): void {
    const resources = this.#slots[slot];
    const groups = runsByBuffer(this.#cache.geometry, blocks);
    const wordsPerUnit = this.#wordBytes / 4;
    const runWords = this.#cache.geometry.runBytes / this.#wordBytes;
    const table = this.#tableScratch;
    const params = this.#paramsScratch;
    let runBase = 0;
    groups.forEach((group, k) => {
      for (let r = 0; r < group.deviceWords.length; r++) {
        const device = group.deviceWords[r] / wordsPerUnit;
        const chunk = group.chunkWords[r] / wordsPerUnit;
        table[2 * (runBase + r)] = scatter ? chunk : device;
        table[2 * (runBase + r) + 1] = scatter ? device : chunk;
      }
      const p = (k * PARAMS_STRIDE) / 4;
      params[p] = runBase;
      params[p + 1] = group.deviceWords.length;
      params[p + 2] = runWords;
      // One workgroup per run, folded into a second dimension past the per-dimension limit.
      params[p + 3] = Math.min(group.deviceWords.length, this.#maxGroupsX);
      runBase += group.deviceWords.length;
    });
    const queue = this.#device.queue;
    queue.writeBuffer(resources.table, 0, table, 0, runBase * 2);
    queue.writeBuffer(resources.params, 0, params, 0, (groups.length * PARAMS_STRIDE) / 4);
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.#pipeline);
    groups.forEach((group, k) => {
      const p = (k * PARAMS_STRIDE) / 4;
      const groupsX = params[p + 3];
      pass.setBindGroup(0, this.#bindGroup(resources, slot, group.buffer, scatter), [k * PARAMS_STRIDE]);
      pass.dispatchWorkgroups(groupsX, Math.ceil(params[p + 1] / groupsX));
    });
    pass.end();
  }

  #bindGroup(resources: SlotResources, slot: number, buffer: number, scatter: boolean): GPUBindGroup {
    const key = buffer * 2 + (scatter ? 1 : 0);
    let group = resources.bindGroups.get(key);
    if (group === undefined) {
      const cacheBuffer = this.#cache.buffers[buffer];
      group = this.#device.createBindGroup({
        label: `kvtier ${scatter ? 'scatter' : 'gather'} slot ${slot} buffer ${buffer}`,
        layout: this.#layout,
        entries: [
          { binding: 0, resource: { buffer: scatter ? resources.region : cacheBuffer } },
          { binding: 1, resource: { buffer: scatter ? cacheBuffer : resources.region } },
          { binding: 2, resource: { buffer: resources.table } },
          { binding: 3, resource: { buffer: resources.params, offset: 0, size: PARAMS_WORDS * 4 } },
        ],
      });
      resources.bindGroups.set(key, group);
    }
    return group;
  }
}
