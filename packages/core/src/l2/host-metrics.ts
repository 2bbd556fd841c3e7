/**
 * Counters of one adapter host, rendered as a Prometheus exposition labelled with the adapter
 * (valid on its own; the engine merges every host's into its own, family by family). Names differ
 * from the engine's families: a family is declared once in the merged text.
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

  /** The Prometheus exposition (`# HELP`, `# TYPE`, samples per family); `pinnedKeys` is the current pin gauge. */
  prometheus(pinnedKeys: number): string {
    const l = this.#labels;
    const family = (name: string, type: 'counter' | 'gauge', help: string, samples: readonly (readonly [string, number])[]) =>
      [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, v]) => `${name}{${l}${labels}} ${v}`)];
    const lines = [
      ...family('kvtier_l2_stores_total', 'counter', 'Keys an adapter host stored (ok) or did not store (failed).',
        [[',result="ok"', this.storesOk], [',result="failed"', this.storesFailed]]),
      ...family('kvtier_l2_stored_bytes_total', 'counter', 'Payload bytes an adapter host stored.', [['', this.storedBytes]]),
      ...family('kvtier_l2_loads_total', 'counter', 'Keys an adapter host loaded and verified (hit) or did not load (miss).',
        [[',result="hit"', this.loadHits], [',result="miss"', this.loadMisses]]),
      ...family('kvtier_l2_loaded_bytes_total', 'counter', 'Payload bytes an adapter host loaded.', [['', this.loadedBytes]]),
      ...family('kvtier_l2_lookups_total', 'counter', 'Keys an adapter host looked up.', [['', this.lookups]]),
      ...family('kvtier_l2_host_lookup_hits_total', 'counter', 'Keys an adapter host lookup found (and pinned).', [['', this.lookupHits]]),
      ...family('kvtier_l2_deletes_total', 'counter', 'Keys an adapter host deleted.', [['', this.deletes]]),
      ...family('kvtier_l2_delete_skipped_pinned_total', 'counter', 'Keys an adapter host did not delete because they were pinned.',
        [['', this.deleteSkippedPinned]]),
      ...family('kvtier_l2_pinned_keys', 'gauge', 'Keys an adapter host holds pinned now.', [['', pinnedKeys]]),
      ...family('kvtier_l2_integrity_failures_total', 'counter', 'Objects that failed their integrity check (and were deleted), by fault.',
        [...this.integrityFailures].map(([fault, n]) => [`,reason="${fault}"`, n] as const)),
      ...family('kvtier_l2_errors_total', 'counter', 'Failed adapter calls in a host, by operation.',
        [...this.errors].map(([op, n]) => [`,op="${op}"`, n] as const)),
    ];
    return lines.join('\n') + '\n';
  }
}
