/**
 * Dawn and Mesa print some warnings from native code straight to file descriptor 2
 * (`fprintf(stderr)`), where `process.stderr` never sees them: with Mesa's lavapipe or llvmpipe,
 * every adapter discovery prints `Warning: maxDynamicUniformBuffersPerPipelineLayout artificially
 * reduced from 1000000 to 16 ...` and the same for storage buffers (Dawn caps what the driver
 * reports; nothing is wrong). Measured with Dawn in webgpu 0.6.2: they are printed synchronously
 * inside `GPU.requestAdapter()`, before it returns its promise, and at no later point.
 *
 * So a discovery runs with fd 2 pointed at an unlinked temporary file, and what it printed is handed
 * to the logger line by line: the known-harmless lines at `debug`, anything else at `warn`. Node
 * has no dup2: fd 2 is closed and the capture file reopened, which takes the lowest free
 * descriptor, 2; the original is reopened through /proc/self/fd the same way afterwards. A thread
 * that opens a file in the microseconds between a close and the open that follows would take fd 2
 * instead; that is detected, and the capture then ends with fd 2 restored as best it can be and an
 * error logged. Elsewhere than Linux, or when fd 2 cannot be reopened (a socket), nothing is captured.
 */
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@kvtier/core';

/** Native lines known to be harmless: Dawn's limit caps, Mesa's conformance notice (Mesa < 25 prints it for lavapipe). */
const HARMLESS = [
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/,
  /^WARNING: lavapipe is not a conformant vulkan implementation, testing use only\.$/i,
];

const STDERR = 2;
let captures = 0;

/** Reopens the file behind descriptor `fd` as the lowest free descriptor; true when that is fd 2. */
function reopenAsStderr(fd: number, flags: string): boolean {
  const at = openSync(`/proc/self/fd/${fd}`, flags);
  if (at === STDERR) return true;
  closeSync(at);
  return false;
}

/**
 * Runs `call` (synchronous) with native writes to fd 2 captured, then logs each captured line on
 * `logger`: known-harmless ones at `debug`, others at `warn`. Returns what `call` returned.
 */
export function withNativeStderr<T>(call: () => T, logger: Logger): T {
  if (process.platform !== 'linux') return call();
  let saved: number;
  try {
    saved = openSync(`/proc/self/fd/${STDERR}`, 'a');
  } catch {
    return call();
  }
  const path = join(tmpdir(), `kvtier-native-stderr-${process.pid}-${++captures}`);
  const capture = openSync(path, 'wx+', 0o600);
  unlinkSync(path);
  let lines: string[] = [];
  try {
    closeSync(STDERR);
    if (!reopenAsStderr(capture, 'r+')) {
      reopenAsStderr(saved, 'a');
      logger.error('native stderr: a concurrent open took file descriptor 2; not capturing');
      return call();
    }
    try {
      return call();
    } finally {
      closeSync(STDERR);
      if (!reopenAsStderr(saved, 'a')) logger.error('native stderr: a concurrent open took file descriptor 2; stderr is lost');
      const bytes = Buffer.alloc(fstatSync(capture).size);
      readSync(capture, bytes, 0, bytes.length, 0);
      lines = bytes.toString('utf8').split('\n').filter((l) => l.length > 0);
    }
  } finally {
    closeSync(saved);
    closeSync(capture);
    for (const line of lines) {
      if (HARMLESS.some((re) => re.test(line))) logger.debug(`native: ${line}`);
      else logger.warn(`native: ${line}`);
    }
  }
}
