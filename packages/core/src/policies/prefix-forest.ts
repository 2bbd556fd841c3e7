/**
 * The cached prefix tree as a tree-aware policy sees it: each tracked node's parent key and how
 * many resident children it has. A node with resident children is not a leaf and must not be
 * evicted: its children would become orphans, cached chunks that can never hit (SGLang's
 * radix-tree rule).
 *
 * Parents are kept as keys, not node indices, and resolved through the queues' index when a
 * count changes: a parent's node may be recycled for another key after it left. Counts never go
 * below zero; a parent removed before its children (an explicit delete) and entered again simply
 * starts from zero, which at worst lets one of its children's siblings be evicted early.
 *
 * Memory: one reference and two small integers per tracked node (parent, children, pending).
 */
import { NONE, type KeyQueues } from './key-queues.ts';

/** Parent links and resident-children counts over the nodes of one {@link KeyQueues}. */
export class PrefixForest<K> {
  readonly #queues: KeyQueues<K>;
  readonly #resident: (node: number) => boolean;
  readonly #becameLeaf: (node: number) => void;
  readonly #parent: (K | undefined)[] = [];
  readonly #children: number[] = [];
  /** Children proposed as victims in the current `victims()` call, per parent node. */
  readonly #pending = new Map<number, number>();

  /**
   * @param queues - the queues whose nodes this forest annotates
   * @param resident - whether a live node is resident (ghosts are not part of the cached tree)
   * @param becameLeaf - called when a resident node's last resident child left
   */
  constructor(queues: KeyQueues<K>, resident: (node: number) => boolean, becameLeaf: (node: number) => void) {
    this.#queues = queues;
    this.#resident = resident;
    this.#becameLeaf = becameLeaf;
  }

  /** Records `node`'s parent (a fresh entry: no resident children yet) and counts it at the parent. */
  attach(node: number, parent: K | undefined): void {
    this.#parent[node] = parent;
    this.#children[node] = 0;
    const p = this.#residentParent(node);
    if (p !== NONE) this.#children[p]++;
  }

  /** `node` leaves the cached tree: its parent loses a child, and may become a leaf. */
  detach(node: number): void {
    const p = this.#residentParent(node);
    this.#parent[node] = undefined;
    if (p !== NONE && this.#children[p] > 0 && --this.#children[p] === 0) this.#becameLeaf(p);
  }

  /** The parent key recorded for `node`. */
  parentOf(node: number): K | undefined {
    return this.#parent[node];
  }

  /** Whether `node` has no resident children left once this call's proposed victims are gone. */
  isLeaf(node: number): boolean {
    return (this.#children[node] ?? 0) - (this.#pending.get(node) ?? 0) <= 0;
  }

  /** `node` was proposed as a victim: its parent may become a leaf within the same call. */
  propose(node: number): void {
    const p = this.#residentParent(node);
    if (p !== NONE) this.#pending.set(p, (this.#pending.get(p) ?? 0) + 1);
  }

  /** A new `victims()` call: proposals of the previous one are removed by now or given back. */
  clearProposals(): void {
    this.#pending.clear();
  }

  #residentParent(node: number): number {
    const parent = this.#parent[node];
    if (parent === undefined) return NONE;
    const p = this.#queues.find(parent);
    return p !== NONE && this.#resident(p) ? p : NONE;
  }
}
