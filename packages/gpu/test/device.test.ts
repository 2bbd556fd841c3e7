import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ErrorCode, KvtierError } from '@kvtier/core';
import { withDeadline } from '@kvtier/core/testing';
import { openGpu, SOFTWARE_GPU_PACKAGES } from '../src/index.ts';
import { openTestGpu, TEST_MS } from './helpers.ts';

const deviceModule = fileURLToPath(new URL('../src/device.ts', import.meta.url));

test('openGpu finds lavapipe here and names its backend and adapter', () =>
  withDeadline((async () => {
    const gpu = await openTestGpu();
    try {
      assert.is(gpu.backend, 'vulkan');
      assert.ok(gpu.software, 'lavapipe is a software adapter');
      assert.match(gpu.adapterName, /llvmpipe/);
      assert.is(gpu.adapterInfo.vendor, 'mesa');
      assert.match(gpu.identity, /^vulkan\/.*llvmpipe/);
    } finally {
      gpu.close();
    }
  })(), TEST_MS, 'test'));

test('openGpu requests the adapter limits, not the WebGPU defaults', () =>
  withDeadline((async () => {
    const gpu = await openTestGpu();
    try {
      // The default maxBufferSize is 256 MiB; lavapipe offers 4 GiB.
      assert.ok(gpu.device.limits.maxBufferSize > 256 * 2 ** 20, `maxBufferSize ${gpu.device.limits.maxBufferSize}`);
    } finally {
      gpu.close();
    }
  })(), TEST_MS, 'test'));

test('openGpu reaches llvmpipe through OpenGL ES in compatibility mode', () =>
  withDeadline((async () => {
    const gpu = await openTestGpu([], { sources: ['software-opengles'] });
    try {
      assert.is(gpu.backend, 'opengles');
      assert.match(gpu.adapterName, /OpenGL ES/);
    } finally {
      gpu.close();
    }
  })(), TEST_MS, 'test'));

test('uncaptured GPU errors go to the logger, not to stderr', () =>
  withDeadline((async () => {
    const log: string[] = [];
    const gpu = await openTestGpu(log);
    try {
      // MAP_READ may only be combined with COPY_DST: a validation error nobody captures.
      gpu.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
      await gpu.device.queue.onSubmittedWorkDone();
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(log.some((m) => /uncaptured GPU error/.test(m)), `log: ${JSON.stringify(log)}`);
    } finally {
      gpu.close();
    }
  })(), TEST_MS, 'test'));

test('a closed GPU refuses work with CLOSED', () =>
  withDeadline((async () => {
    const gpu = await openTestGpu();
    gpu.close();
    try {
      gpu.assertUsable('probe');
      assert.unreachable('assertUsable passed on a closed GPU');
    } catch (err) {
      assert.instance(err, KvtierError);
      assert.is((err as KvtierError).code, ErrorCode.CLOSED);
    }
  })(), TEST_MS, 'test'));

test('an unknown source is INVALID_ARGUMENT', () =>
  withDeadline((async () => {
    try {
      await openGpu({ sources: ['quantum' as never] });
      assert.unreachable('opened an unknown source');
    } catch (err) {
      assert.is((err as KvtierError).code, ErrorCode.INVALID_ARGUMENT);
      assert.match((err as Error).message, /quantum/);
    }
  })(), TEST_MS, 'test'));

test('with no driver, openGpu fails with NO_GPU naming the packages to install', () => {
  // A child process whose Vulkan loader finds no driver; only the Vulkan source is tried.
  const script = `
    const { openGpu } = await import(${JSON.stringify(deviceModule)});
    try { await openGpu({ sources: ['software-vulkan'] }); console.log('OPENED'); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' },
    encoding: 'utf8',
    timeout: TEST_MS,
  });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  assert.not.equal(line, 'OPENED', 'a device opened without a driver');
  const result = JSON.parse(line) as { code: string; message: string };
  assert.is(result.code, ErrorCode.NO_GPU);
  assert.ok(result.message.includes(SOFTWARE_GPU_PACKAGES), result.message);
  assert.match(result.message, /mesa-vulkan-drivers/);
});

test.run();
