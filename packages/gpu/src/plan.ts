/**
 * Copy plans: which device ranges make up a chunk in canonical order (see layout.ts), as runs for
 * a chain of `copyBufferToBuffer` (merged where device and chunk ranges both continue), as the
 * runs between the device and a staging buffer in either staging order (canonical, or run-major
 * where that merges a per-layer cache's neighbouring blocks), or as the per-buffer word tables the
 * gather/scatter kernel reads.
 */
import type { KvGeometry } from './layout.ts';

/** One contiguous range: `bytes` at `offset` in device buffer `buffer` <-> `chunkOffset` in the chunk. */
export interface CopyRun {
  readonly buffer: number;
  readonly offset: number;
  readonly chunkOffset: number;
  readonly bytes: number;
}

/** Appends a run to `runs`, joined with the last one when `merge` and both its device and chunk ranges continue it. */
function appendRun(runs: CopyRun[], merge: boolean, buffer: number, offset: number, chunkOffset: number, bytes: number): void {
  const last = runs[runs.length - 1];
  if (merge && last !== undefined && last.buffer === buffer && last.offset + last.bytes === offset && last.chunkOffset + last.bytes === chunkOffset) {
    runs[runs.length - 1] = { buffer, offset: last.offset, chunkOffset: last.chunkOffset, bytes: last.bytes + bytes };
  } else {
    runs.push({ buffer, offset, chunkOffset, bytes });
  }
}

/** The runs of `blocks`, in chunk order; with `merge`, neighbours contiguous on both sides are joined. */
export function chunkRuns(geometry: KvGeometry, blocks: ArrayLike<number>, merge: boolean): CopyRun[] {
  const runs: CopyRun[] = [];
  const { runsPerBlock, runBytes, blockBytes } = geometry;
  for (let j = 0; j < blocks.length; j++) {
    for (let r = 0; r < runsPerBlock; r++) {
      const { buffer, offset } = geometry.locate(blocks[j], r);
      appendRun(runs, merge, buffer, offset, j * blockBytes + r * runBytes, runBytes);
    }
  }
  return runs;
}

/**
 * How the blocks of one piece lie in its staging buffer. `canonical`: the chunk format, block after
 * block, so each part of a host view is one host copy. `run-major`: run 0 of every block of the
 * piece, then run 1, and so on, so that neighbouring blocks of a `per-layer` cache (whose runs sit
 * in different device buffers) are one device copy per run instead of one per block and run, at
 * the price of one host copy per block and run.
 */
export type StagingOrder = 'canonical' | 'run-major';

/**
 * `run-major` where it at least halves the device copies of `blocks`, else `canonical`. A device
 * copy costs the owning thread several µs (encoding, then recording at submit, measured on
 * lavapipe) and a host copy call a fraction of that, so halving is well past break-even; a shuffled
 * table, whose neighbours rarely continue each other on the device, stays canonical.
 */
export function stagingOrder(geometry: KvGeometry, blocks: ArrayLike<number>): StagingOrder {
  if (geometry.runsPerBlock === 1) return 'canonical';
  let copiesPerRun = Math.min(1, blocks.length);
  for (let j = 1; j < blocks.length; j++) {
    const a = geometry.locate(blocks[j - 1], 0);
    const b = geometry.locate(blocks[j], 0);
    if (a.buffer !== b.buffer || a.offset + geometry.runBytes !== b.offset) copiesPerRun++;
  }
  return 2 * copiesPerRun <= blocks.length ? 'run-major' : 'canonical';
}

/** Offset in staging of run `run` of the `index`-th of `count` blocks laid out in `order`. */
export function stagingOffset(geometry: KvGeometry, order: StagingOrder, count: number, index: number, run: number): number {
  return order === 'canonical' ? index * geometry.blockBytes + run * geometry.runBytes : (run * count + index) * geometry.runBytes;
}

/**
 * The merged runs between the device and a staging buffer holding `blocks` in `order`;
 * `chunkOffset` is the offset in staging (the chunk offset itself when `canonical`).
 */
export function stagingRuns(geometry: KvGeometry, blocks: ArrayLike<number>, order: StagingOrder): CopyRun[] {
  if (order === 'canonical') return chunkRuns(geometry, blocks, true);
  const runs: CopyRun[] = [];
  for (let r = 0; r < geometry.runsPerBlock; r++) {
    for (let j = 0; j < blocks.length; j++) {
      const { buffer, offset } = geometry.locate(blocks[j], r);
      appendRun(runs, true, buffer, offset, stagingOffset(geometry, order, blocks.length, j, r), geometry.runBytes);
    }
  }
  return runs;
}

/** The runs of one device buffer, for one kernel dispatch. */
export interface BufferRuns {
  readonly buffer: number;
  /** Word offsets in the device buffer. */
  readonly deviceWords: number[];
  /** Word offsets in the chunk. */
  readonly chunkWords: number[];
}

/** The (unmerged) runs of `blocks` grouped by device buffer, in words; every run is `runBytes / 4` words. */
export function runsByBuffer(geometry: KvGeometry, blocks: ArrayLike<number>): BufferRuns[] {
  const groups = new Map<number, BufferRuns>();
  for (const run of chunkRuns(geometry, blocks, false)) {
    let group = groups.get(run.buffer);
    if (group === undefined) {
      group = { buffer: run.buffer, deviceWords: [], chunkWords: [] };
      groups.set(run.buffer, group);
    }
    group.deviceWords.push(run.offset / 4);
    group.chunkWords.push(run.chunkOffset / 4);
  }
  return [...groups.values()];
}
