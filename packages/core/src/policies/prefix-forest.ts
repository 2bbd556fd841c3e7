/**
 * The cached prefix tree as tree-aware policies see it: each tracked id's parent and how many
 * resident children it has. A key with resident children is not a leaf and must not be evicted:
 * its children would become orphans, cached chunks that can never hit (SGLang's radix-tree rule).
 *
 * One forest serves every policy sharing the same keys (`SharedKeys`, shared-keys.ts). A parent is kept as
 * its id and the id's generation when the child attached: an id is recycled for another key once
 * no policy tracks its key, and the generation (bumped at each recycling) tells a stale parent
 * link from a live one, with no `Map` lookup. Counts never go below zero; a parent removed before
 * its children (an explicit delete) and entered again keeps its id while some policy remembers it
 * (a ghost), starts from zero, and at worst lets one of its children's siblings be evicted early.
 *
 * Memory: five 32-bit integers per id (parent, its generation, this id's generation, children,
 * children proposed in the current `victims()` call).
 */
import { NONE, grown } from './ids.ts';
import { clear } from './scratch.ts';

/** Parent links and resident-children counts over the ids of one `SharedKeys`. */
export class PrefixForest {
  readonly #resident: (id: number) => boolean;
  readonly #becameLeaf: (id: number) => void;
  #parent: Int32Array;
  /** Per id, its parent's generation when it attached. */
  #parentGeneration: Uint32Array;
  /** Per id, how many times it was recycled. */
  #generation: Uint32Array;
  #children: Int32Array;
  /** Children proposed as victims in the current `victims()` call, per parent id. */
  #pending: Int32Array;
  /** The ids with a pending count, to clear at the next call. */
  readonly #pendingIds: number[] = [];

  /**
   * @param length - ids to allocate for
   * @param resident - whether a live id is resident (ghosts are not part of the cached tree)
   * @param becameLeaf - called when a resident id's last resident child left
   */
  constructor(length: number, resident: (id: number) => boolean, becameLeaf: (id: number) => void) {
    this.#resident = resident;
    this.#becameLeaf = becameLeaf;
    this.#parent = new Int32Array(length).fill(NONE);
    this.#parentGeneration = new Uint32Array(length);
    this.#generation = new Uint32Array(length);
    this.#children = new Int32Array(length);
    this.#pending = new Int32Array(length);
  }

  /** Grows the per-id arrays to `length` ids. */
  grow(length: number): void {
    const parent = new Int32Array(length).fill(NONE);
    this.#parent = grown(this.#parent, parent);
    this.#parentGeneration = grown(this.#parentGeneration, new Uint32Array(length));
    this.#generation = grown(this.#generation, new Uint32Array(length));
    this.#children = grown(this.#children, new Int32Array(length));
    this.#pending = grown(this.#pending, new Int32Array(length));
  }

  /** Records `id`'s parent (a fresh entry: no resident children yet) and counts it at the parent. */
  attach(id: number, parent: number): void {
    this.#parent[id] = parent;
    if (parent !== NONE) this.#parentGeneration[id] = this.#generation[parent];
    this.#children[id] = 0;
    const p = this.#residentParent(id);
    if (p !== NONE) this.#children[p]++;
  }

  /** `id` leaves the cached tree: its parent loses a child, and may become a leaf. */
  detach(id: number): void {
    const p = this.#residentParent(id);
    this.#parent[id] = NONE;
    if (p !== NONE && this.#children[p] > 0 && --this.#children[p] === 0) this.#becameLeaf(p);
  }

  /** `id` is recycled for another key: links to it are stale from now on. */
  forget(id: number): void {
    this.#generation[id]++;
    this.#parent[id] = NONE;
  }

  /** Whether `id` has no resident children left once this call's proposed victims are gone. */
  isLeaf(id: number): boolean {
    return this.#children[id] - this.#pending[id] <= 0;
  }

  /** `id` was proposed as a victim: its parent may become a leaf within the same call. */
  propose(id: number): void {
    const p = this.#residentParent(id);
    if (p === NONE) return;
    if (this.#pending[p]++ === 0) this.#pendingIds.push(p);
  }

  /** A new `victims()` call: proposals of the previous one are removed by now or given back. */
  clearProposals(): void {
    for (const id of this.#pendingIds) this.#pending[id] = 0;
    clear(this.#pendingIds);
  }

  #residentParent(id: number): number {
    const p = this.#parent[id];
    return p !== NONE && this.#generation[p] === this.#parentGeneration[id] && this.#resident(p) ? p : NONE;
  }
}
