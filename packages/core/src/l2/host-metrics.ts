/**
 * Counters of one adapter host, rendered as Prometheus samples labelled with the adapter.
 * Samples only (no `# HELP`/`# TYPE` lines): the engine concatenates every adapter's samples and
 * writes those lines once per metric name.
 */
import type { EnvelopeFault } from './envelope.ts';

/** Counters of one adapter host. Plain numbers, read by tests and `status()`. */
export class HostMetrics {
  readonly #labels: string;
  /** Keys stored. */
  storesOk = 0;
  /** Keys not stored (answered 0, or their adapter call failed). */
  storesFailed = 0;
  /** Payload bytes stored. */
  storedBytes = 0;
  /** Keys loaded and verified. */
  loadHits = 0;
  /** Keys not loaded: absent, bad envelope, or a failed call. */
  loadMisses = 0;
  /** Payload bytes loaded. */
  loadedBytes = 0;
  /** Keys looked up. */
  lookups = 0;
  /** Keys a lookup found (and pinned). */
  lookupHits = 0;
  /** Keys deleted through `delete`. */
  deletes = 0;
  /** Keys `delete` skipped because they were pinned. */
  deleteSkippedPinned = 0;
  /** Objects that failed their integrity check (and were deleted), by fault. */
  readonly integrityFailures = new Map<EnvelopeFault, number>();
  /** Failed adapter calls, by operation. */
  readonly errors = new Map<string, number>();

  constructor(index: number, type: string) {
    this.#labels = `adapter="${index}",type="${type}"`;
  }

  /** Total integrity failures, every fault together. */
  get integrityFailureCount(): number {
    let n = 0;
    for (const v of this.integrityFailures.values()) n += v;
    return n;
  }

  /** Counts one key's store. */
  stored(ok: boolean, bytes: number): void {
    if (ok) {
      this.storesOk++;
      this.storedBytes += bytes;
    } else this.storesFailed++;
  }

  /** Counts one key's load. */
  loaded(hit: boolean, bytes: number): void {
    if (hit) {
      this.loadHits++;
      this.loadedBytes += bytes;
    } else this.loadMisses++;
  }

  /** Counts one lookup call. */
  lookedUp(keys: number, hits: number): void {
    this.lookups += keys;
    this.lookupHits += hits;
  }

  /** Counts one deleted key. */
  deleted(): void {
    this.deletes++;
  }

  /** Counts one pinned key `delete` skipped. */
  skippedPinned(): void {
    this.deleteSkippedPinned++;
  }

  /** Counts one object that failed its envelope check. */
  integrityFailure(fault: EnvelopeFault): void {
    this.integrityFailures.set(fault, (this.integrityFailures.get(fault) ?? 0) + 1);
  }

  /** Counts one failed adapter call of `op`. */
  error(op: string): void {
    this.errors.set(op, (this.errors.get(op) ?? 0) + 1);
  }

  /** Prometheus sample lines; `pinnedKeys` is the current pin gauge. */
  prometheus(pinnedKeys: number): string {
    const l = this.#labels;
    const lines = [
      `kvtier_l2_stores_total{${l},result="ok"} ${this.storesOk}`,
      `kvtier_l2_stores_total{${l},result="failed"} ${this.storesFailed}`,
      `kvtier_l2_stored_bytes_total{${l}} ${this.storedBytes}`,
      `kvtier_l2_loads_total{${l},result="hit"} ${this.loadHits}`,
      `kvtier_l2_loads_total{${l},result="miss"} ${this.loadMisses}`,
      `kvtier_l2_loaded_bytes_total{${l}} ${this.loadedBytes}`,
      `kvtier_l2_lookups_total{${l}} ${this.lookups}`,
      `kvtier_l2_lookup_hits_total{${l}} ${this.lookupHits}`,
      `kvtier_l2_deletes_total{${l}} ${this.deletes}`,
      `kvtier_l2_delete_skipped_pinned_total{${l}} ${this.deleteSkippedPinned}`,
      `kvtier_l2_pinned_keys{${l}} ${pinnedKeys}`,
    ];
    for (const [fault, n] of this.integrityFailures) lines.push(`kvtier_l2_integrity_failures_total{${l},reason="${fault}"} ${n}`);
    for (const [op, n] of this.errors) lines.push(`kvtier_l2_errors_total{${l},op="${op}"} ${n}`);
    return lines.join('\n') + '\n';
  }
}
