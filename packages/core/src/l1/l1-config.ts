/**
 * L1 options, validated eagerly into a {@link ResolvedL1Config}. Every error is a `KVT_ERR_CONFIG`
 * naming the field (`config.l1.slotBytes: …`). Unknown fields are ignored here; the engine's
 * config refuses them ({@link l1Block}) before passing its `l1` block through.
 */
import * as v from 'valibot';
import { configError } from '../errors.ts';
import { L1_MEMORY_FRACTION, MAX_BUFFER_BYTES, machineMemory, type MachineMemory } from '../limits.ts';
import { block, integerIn, lenientBlock, parseBlock, thrownText } from '../validate.ts';
import { metaLayout } from './layout.ts';

/** Options of `L1Manager.create`. */
export interface L1Options {
  /** Bytes per slot (one chunk); rounded up to a multiple of 4 KiB. Required. */
  readonly slotBytes: number;
  /** Arena bytes; the slot count is `floor(capacityBytes / slot size)`. Give this or `slotCount`. */
  readonly capacityBytes?: number;
  /** Number of slots. Give this or `capacityBytes`. */
  readonly slotCount?: number;
  /** Most bytes per arena segment (one SharedArrayBuffer), at most 1 GiB (the default). */
  readonly segmentBytes?: number;
  /** Write-lock lease in ms; default 600 000. */
  readonly writeLeaseMs?: number;
  /** Read-lock lease in ms; default 300 000. */
  readonly readLeaseMs?: number;
  /** Most threads attached at once (each registers an owner id); default 32. */
  readonly maxThreads?: number;
  /** Records in the event ring, a power of two; default 65 536. */
  readonly eventRingCapacity?: number;
  /** Entries inline emergency eviction samples per freed slot; default 16. */
  readonly emergencySample?: number;
}

/** L1's configuration with every default applied and every derived figure computed. */
export interface ResolvedL1Config {
  /** Slot size in bytes, a multiple of {@link SLOT_ALIGN}. */
  readonly slotBytes: number;
  readonly totalSlots: number;
  /** `totalSlots × slotBytes`. */
  readonly capacityBytes: number;
  readonly slotsPerSegment: number;
  readonly writeLeaseMs: number;
  readonly readLeaseMs: number;
  readonly maxThreads: number;
  readonly eventRingCapacity: number;
  readonly emergencySample: number;
}

/** Slot sizes are rounded up to a multiple of this (one page). */
export const SLOT_ALIGN = 4096;
/** Largest arena segment: a typed array over more than this is unsafe on Node 20. */
export const MAX_SEGMENT_BYTES = 1 << 30;
/** Most slots one L1 holds (bounds the index and per-thread lock tables). */
export const MAX_SLOTS = 1 << 20;
/** Most threads: owner ids must fit the mutex word beside its waiters bit. */
export const MAX_THREADS = 256;

/** Defaults of the optional fields. */
export const L1_DEFAULTS = {
  segmentBytes: MAX_SEGMENT_BYTES,
  writeLeaseMs: 600_000,
  readLeaseMs: 300_000,
  maxThreads: 32,
  eventRingCapacity: 65_536,
  emergencySample: 16,
} as const;

const MAX_LEASE_MS = 2 ** 31 - 1;

/** L1's messages show a wrong value that is not a number by its kind (`got string`). */
const numberOrKind = (value: unknown): string => (typeof value === 'number' ? String(value) : typeof value);
const integer = (min: number, max: number) => integerIn(min, max, numberOrKind);

/** Each field of {@link L1Options}; the rules between them are {@link resolveL1Config}'s. */
const L1_FIELDS = {
  slotBytes: integer(1, MAX_SEGMENT_BYTES),
  capacityBytes: v.optional(integer(1, Number.MAX_SAFE_INTEGER)),
  slotCount: v.optional(integer(1, MAX_SLOTS)),
  segmentBytes: v.optional(integer(1, MAX_SEGMENT_BYTES)),
  writeLeaseMs: v.optional(integer(1, MAX_LEASE_MS)),
  readLeaseMs: v.optional(integer(1, MAX_LEASE_MS)),
  maxThreads: v.optional(integer(1, MAX_THREADS)),
  eventRingCapacity: v.optional(v.pipe(
    integer(16, 1 << 24),
    v.check((n) => (n & (n - 1)) === 0, (issue) => `must be a power of two, got ${String(issue.input)}`),
  )),
  emergencySample: v.optional(integer(1, 1024)),
};
const L1_OPTION_FIELDS = Object.keys(L1_FIELDS) as (keyof L1Options)[];

/** The engine config's `l1` block: {@link L1Options}, unknown fields refused. */
export const l1Block = block(L1_FIELDS);

/** L1's fields as {@link resolveL1Config} checks them: unknown ones ignored. */
const l1Fields = lenientBlock(L1_FIELDS);

function gib(bytes: number): string {
  return `${bytes} bytes (${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 3 : 1)} GiB)`;
}

/**
 * Throws `KVT_ERR_CONFIG` naming `field` (`l1.slotCount` or `l1.capacityBytes`) unless the memory
 * `config` asks for can be allocated: each buffer (the largest arena segment, the `metaBytes`
 * metadata buffer) at most `maxBuffer` bytes, and arena plus metadata at most
 * {@link L1_MEMORY_FRACTION} of `machine`'s memory. Called before anything is allocated.
 */
export function checkL1Memory(
  config: ResolvedL1Config, metaBytes: number, field: string,
  machine: MachineMemory = machineMemory(), maxBuffer: number = MAX_BUFFER_BYTES,
): void {
  const segmentBytes = Math.min(config.slotsPerSegment, config.totalSlots) * config.slotBytes;
  if (segmentBytes > maxBuffer) {
    configError('l1.segmentBytes', `makes arena segments of ${gib(segmentBytes)}; a typed array on this platform holds at most ${gib(maxBuffer)} (lower l1.segmentBytes)`);
  }
  if (metaBytes > maxBuffer) {
    configError(field, `needs a metadata buffer of ${gib(metaBytes)} (${config.totalSlots} slots, ${config.maxThreads} threads, an event ring of ${config.eventRingCapacity}); `
      + `a typed array on this platform holds at most ${gib(maxBuffer)} (lower ${field} or l1.maxThreads)`);
  }
  const asked = config.capacityBytes + metaBytes;
  const allowed = Math.floor(machine.bytes * L1_MEMORY_FRACTION);
  if (asked > allowed) {
    configError(field, `asks for ${gib(asked)} of memory (an arena of ${config.totalSlots} slots × ${config.slotBytes} bytes, plus ${metaBytes} bytes of metadata); `
      + `this machine has ${gib(machine.bytes)} (${machine.source}) and L1 may take at most ${Math.round(L1_MEMORY_FRACTION * 100)}% of it, ${gib(allowed)}`);
  }
}

/**
 * Validates `options` and derives slot count and segment geometry; throws `KVT_ERR_CONFIG` naming
 * the field, also when the memory asked for does not fit the machine ({@link checkL1Memory}).
 */
export function resolveL1Config(options: L1Options): ResolvedL1Config {
  if (options === null || typeof options !== 'object') configError('l1', `must be an object, got ${options === null ? 'null' : typeof options}`);
  // Each field read once, a throwing getter or Proxy trap answered with CONFIG naming the field.
  const raw: Record<string, unknown> = {};
  for (const key of L1_OPTION_FIELDS) {
    try {
      raw[key] = (options as unknown as Record<string, unknown>)[key];
    } catch (err) {
      configError(`l1.${key}`, `could not be read: ${thrownText(err)}`);
    }
  }
  const fields = parseBlock(l1Fields, raw, 'l1');
  const slotBytes = Math.ceil(fields.slotBytes / SLOT_ALIGN) * SLOT_ALIGN;
  const segmentBytes = fields.segmentBytes ?? L1_DEFAULTS.segmentBytes;
  if (segmentBytes < slotBytes) configError('l1.segmentBytes', `must hold at least one slot of ${slotBytes} bytes, got ${segmentBytes}`);
  if ((fields.capacityBytes === undefined) === (fields.slotCount === undefined)) {
    configError('l1.capacityBytes', 'give exactly one of l1.capacityBytes and l1.slotCount');
  }
  let totalSlots: number;
  if (fields.slotCount !== undefined) {
    totalSlots = fields.slotCount;
  } else {
    const capacity = fields.capacityBytes!;
    totalSlots = Math.floor(capacity / slotBytes);
    if (totalSlots < 1) configError('l1.capacityBytes', `must hold at least one slot of ${slotBytes} bytes, got ${capacity}`);
    if (totalSlots > MAX_SLOTS) configError('l1.capacityBytes', `holds ${totalSlots} slots of ${slotBytes} bytes; the limit is ${MAX_SLOTS} (raise l1.slotBytes)`);
  }
  const config: ResolvedL1Config = {
    slotBytes,
    totalSlots,
    capacityBytes: totalSlots * slotBytes,
    slotsPerSegment: Math.floor(segmentBytes / slotBytes),
    writeLeaseMs: fields.writeLeaseMs ?? L1_DEFAULTS.writeLeaseMs,
    readLeaseMs: fields.readLeaseMs ?? L1_DEFAULTS.readLeaseMs,
    maxThreads: fields.maxThreads ?? L1_DEFAULTS.maxThreads,
    eventRingCapacity: fields.eventRingCapacity ?? L1_DEFAULTS.eventRingCapacity,
    emergencySample: fields.emergencySample ?? L1_DEFAULTS.emergencySample,
  };
  const metaBytes = metaLayout(config.totalSlots, config.maxThreads, config.eventRingCapacity).byteLength;
  checkL1Memory(config, metaBytes, fields.slotCount !== undefined ? 'l1.slotCount' : 'l1.capacityBytes');
  return config;
}
