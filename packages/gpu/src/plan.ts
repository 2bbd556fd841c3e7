/**
 * Copy plans: which device ranges make up a chunk in canonical order (see layout.ts), as runs for
 * a chain of `copyBufferToBuffer` (merged where device and chunk ranges both continue) or as the
 * per-buffer word tables the gather/scatter kernel reads.
 */
import type { KvGeometry } from './layout.ts';

/** One contiguous range: `bytes` at `offset` in device buffer `buffer` <-> `chunkOffset` in the chunk. */
export interface CopyRun {
  readonly buffer: number;
  readonly offset: number;
  readonly chunkOffset: number;
  readonly bytes: number;
}

/** The runs of `blocks`, in chunk order; with `merge`, neighbours contiguous on both sides are joined. */
export function chunkRuns(geometry: KvGeometry, blocks: ArrayLike<number>, merge: boolean): CopyRun[] {
  const runs: CopyRun[] = [];
  const { runsPerBlock, runBytes, blockBytes } = geometry;
  for (let j = 0; j < blocks.length; j++) {
    for (let r = 0; r < runsPerBlock; r++) {
      const { buffer, offset } = geometry.locate(blocks[j], r);
      const chunkOffset = j * blockBytes + r * runBytes;
      const last = runs[runs.length - 1];
      if (merge && last !== undefined && last.buffer === buffer && last.offset + last.bytes === offset && last.chunkOffset + last.bytes === chunkOffset) {
        runs[runs.length - 1] = { buffer, offset: last.offset, chunkOffset: last.chunkOffset, bytes: last.bytes + runBytes };
      } else {
        runs.push({ buffer, offset, chunkOffset, bytes: runBytes });
      }
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
