/**
 * Finding and owning a Dawn device (docs/architecture.md §9): hardware first, then Mesa's lavapipe (Vulkan),
 * then llvmpipe (OpenGL ES, compatibility mode), else a NO_GPU error naming what to install.
 */
import { ErrorCode, KvtierError, type Logger } from '@kvtier/core';
import { resolveLogger } from '@kvtier/core/authoring';
import { create } from './dawn.ts';
import { withNativeStderr } from './native-stderr.ts';

/** How a device was reached. `vulkan`, `metal` and `d3d12` are the platform's native backend. */
export type GpuBackend = 'vulkan' | 'metal' | 'd3d12' | 'opengles';

/** The kinds of adapter {@link openGpu} tries, in its default order. */
export type GpuSource = 'hardware' | 'software-vulkan' | 'software-opengles';

/** Options of {@link openGpu}. */
export interface OpenGpuOptions {
  /** Which sources to try, in order; default `['hardware', 'software-vulkan', 'software-opengles']`. */
  readonly sources?: readonly GpuSource[];
  /**
   * Where uncaptured GPU errors and device loss (`error`) and the native stack's warnings (known
   * harmless ones at `debug`, others at `warn`) are reported; default `stderrLogger()`: warnings and errors to stderr.
   */
  readonly logger?: Logger;
}

/** What the adapter says about itself (`adapter.info`). */
export interface GpuAdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
}

const DEFAULT_SOURCES: readonly GpuSource[] = ['hardware', 'software-vulkan', 'software-opengles'];
const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|warp/i;

/** Debian packages each software path needs; the NO_GPU message lists them. */
export const SOFTWARE_GPU_PACKAGES =
  'Vulkan: mesa-vulkan-drivers (>= 24, from bookworm-backports) and libvulkan1; ' +
  'or OpenGL ES: libegl1 libgles2 libegl-mesa0';

function nativeBackend(): GpuBackend {
  if (process.platform === 'darwin') return 'metal';
  if (process.platform === 'win32') return 'd3d12';
  return 'vulkan';
}

function describe(adapter: GPUAdapter): GpuAdapterDescription {
  const { vendor, architecture, device, description } = adapter.info;
  return { vendor, architecture, device, description };
}

function isSoftware(adapter: GPUAdapter): boolean {
  const d = describe(adapter);
  return adapter.info.isFallbackAdapter || SOFTWARE_NAMES.test(`${d.device} ${d.description} ${d.architecture}`);
}

interface Candidate {
  readonly instance: GPU;
  readonly adapter: GPUAdapter;
  readonly backend: GpuBackend;
}

async function tryHardware(log: Logger): Promise<Candidate | null> {
  const instance = create([]);
  const adapter = await withNativeStderr(() => instance.requestAdapter({ powerPreference: 'high-performance' }), log);
  if (adapter === null || isSoftware(adapter)) return null;
  return { instance, adapter, backend: nativeBackend() };
}

async function trySoftwareVulkan(log: Logger): Promise<Candidate | null> {
  if (process.platform !== 'linux') return null;
  const instance = create(['backend=vulkan']);
  const adapter = await withNativeStderr(() => instance.requestAdapter(), log);
  return adapter === null ? null : { instance, adapter, backend: 'vulkan' };
}

async function trySoftwareOpenGles(log: Logger): Promise<Candidate | null> {
  if (process.platform !== 'linux') return null;
  // Mesa's EGL needs a platform without a display server; read when the instance starts EGL.
  process.env.EGL_PLATFORM ??= 'surfaceless';
  const instance = create(['backend=opengles']);
  const adapter = await withNativeStderr(() => instance.requestAdapter({ featureLevel: 'compatibility' }), log);
  return adapter === null ? null : { instance, adapter, backend: 'opengles' };
}

const ATTEMPTS: Record<GpuSource, (log: Logger) => Promise<Candidate | null>> = {
  hardware: tryHardware,
  'software-vulkan': trySoftwareVulkan,
  'software-opengles': trySoftwareOpenGles,
};

/** Limits kvtier raises from the WebGPU defaults to what the adapter really offers. */
const REQUESTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
] as const;

/**
 * One Dawn device and everything that must live as long as it: the Dawn instance (dawn.node
 * segfaults when it is collected while a device lives), the adapter's identity, and the loss state.
 * One thread owns it; GPU objects cannot cross threads.
 */
export class Gpu {
  /** The WebGPU device. */
  readonly device: GPUDevice;
  /** The backend the device runs on. */
  readonly backend: GpuBackend;
  /** What the adapter reported about itself. */
  readonly adapterInfo: GpuAdapterDescription;
  /** True when the adapter is a CPU implementation (lavapipe, llvmpipe, SwiftShader, WARP). */
  readonly software: boolean;
  // Never read: holding it is the point (see the class comment).
  readonly #instance: GPU;
  #lostMessage: string | null = null;
  #closed = false;

  /** Use {@link openGpu}. Routes uncaptured errors and device loss to `log` (as errors). */
  constructor(instance: GPU, device: GPUDevice, backend: GpuBackend, adapterInfo: GpuAdapterDescription, software: boolean, log: Logger) {
    this.#instance = instance;
    this.device = device;
    this.backend = backend;
    this.adapterInfo = adapterInfo;
    this.software = software;
    device.addEventListener('uncapturederror', (event) => {
      event.preventDefault();
      log.error(`uncaptured GPU error on ${this.identity}: ${(event as GPUUncapturedErrorEvent).error.message}`);
    });
    void device.lost.then((info) => {
      this.#lostMessage ??= `${info.reason}: ${info.message}`;
      if (!this.#closed) log.error(`device ${this.identity} lost (${info.reason}): ${info.message}`);
    });
  }

  /** A one-line adapter name: the description, else vendor and device. */
  get adapterName(): string {
    const { vendor, device, description } = this.adapterInfo;
    return description || [vendor, device].filter(Boolean).join(' ') || 'unknown adapter';
  }

  /** `backend/adapter`, the key measurements are cached under. */
  get identity(): string {
    return `${this.backend}/${this.adapterName}`;
  }

  /** True once the device was lost (or destroyed); GPU-resident data is gone. */
  get lost(): boolean {
    return this.#lostMessage !== null;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws `CLOSED` or `DEVICE_LOST` when the device cannot take work; `what` names the call. */
  assertUsable(what: string): void {
    if (this.#closed) throw new KvtierError(ErrorCode.CLOSED, `${what}: the GPU was closed`);
    if (this.#lostMessage !== null) throw this.#lostError(what);
  }

  /**
   * The error to raise for a failure `err` of a GPU call named `what`: `DEVICE_LOST` once the device
   * is lost (a destroyed device rejects pending maps with a bare AbortError), otherwise `GPU`.
   */
  failure(err: unknown, what: string): KvtierError {
    if (err instanceof KvtierError) return err;
    if (this.#lostMessage !== null) return this.#lostError(what, err);
    return new KvtierError(ErrorCode.GPU, `${what}: ${err instanceof Error ? `${err.name} ${err.message}` : String(err)}`, { cause: err });
  }

  /**
   * {@link failure}, once the device's loss (if that is what made the call fail) had its chance
   * to be reported: Dawn may reject a pending map before it resolves `device.lost`.
   */
  async settledFailure(err: unknown, what: string): Promise<KvtierError> {
    if (this.#lostMessage === null) {
      await Promise.race([this.device.lost, new Promise((resolve) => setImmediate(resolve))]);
    }
    return this.failure(err, what);
  }

  /** Destroys the device. Buffers made on it become unusable. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.device.destroy();
  }

  #lostError(what: string, cause?: unknown): KvtierError {
    return new KvtierError(
      ErrorCode.DEVICE_LOST,
      `${what}: the GPU device (${this.identity}) was lost (${this.#lostMessage}); GPU-resident KV blocks are gone, host copies are intact; reopen the GPU`,
      { cause },
    );
  }
}

function requiredLimits(adapter: GPUAdapter): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) limits[name] = adapter.limits[name];
  return limits;
}

/**
 * Opens a device: the first of `opts.sources` that yields an adapter (hardware by default first,
 * then lavapipe, then llvmpipe through OpenGL ES). Throws `NO_GPU` naming the packages to install
 * when none does.
 */
export async function openGpu(opts: OpenGpuOptions = {}): Promise<Gpu> {
  const sources = opts.sources ?? DEFAULT_SOURCES;
  const log = resolveLogger(opts.logger, 'openGpu opts.logger');
  const failures: string[] = [];
  for (const source of sources) {
    const attempt = ATTEMPTS[source];
    if (attempt === undefined) throw new KvtierError(ErrorCode.INVALID_ARGUMENT, `openGpu: unknown source '${String(source)}' (known: ${DEFAULT_SOURCES.join(', ')})`);
    let candidate: Candidate | null;
    try {
      candidate = await attempt(log);
    } catch (err) {
      failures.push(`${source}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    if (candidate === null) {
      failures.push(`${source}: no adapter`);
      continue;
    }
    const { instance, adapter, backend } = candidate;
    const device = await adapter.requestDevice({ requiredLimits: requiredLimits(adapter) });
    return new Gpu(instance, device, backend, describe(adapter), isSoftware(adapter), log);
  }
  throw new KvtierError(
    ErrorCode.NO_GPU,
    `no usable GPU adapter (${failures.join('; ')}). For a software GPU install ${SOFTWARE_GPU_PACKAGES}`,
  );
}
