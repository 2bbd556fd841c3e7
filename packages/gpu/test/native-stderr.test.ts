// Dawn prints its adapter-limit warnings from native code to file descriptor 2 at every adapter
// discovery. openGpu captures them and hands them to its logger at debug level: a process that
// opens a device writes nothing to fd 2 itself, and stderr works as before afterwards.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDeadline } from '@kvtier/core/testing';
import { OPEN_MS } from './helpers.ts';

const FIXTURE = fileURLToPath(new URL('./native-stderr.fixture.ts', import.meta.url));

/**
 * Runs the fixture with stderr on a file, as a terminal, a pipe or a redirect gives it (Node's own
 * 'pipe' is a socket, which cannot be reopened: nothing is captured there).
 */
async function runFixture(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kvtier-native-stderr-test-'));
  const stderrPath = join(dir, 'stderr.txt');
  const stderrFd = openSync(stderrPath, 'w+');
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], { stdio: ['ignore', 'pipe', stderrFd] });
  closeSync(stderrFd);
  let stdout = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    const code = await withDeadline(done, OPEN_MS * 2, 'native-stderr fixture');
    return { code, stdout, stderr: readFileSync(stderrPath, 'utf8') };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the limit warnings reach the logger at debug, not fd 2; stderr works after', async () => {
  const { code, stdout, stderr } = await runFixture();
  assert.is(code, 0, stderr);
  assert.is(stderr, 'after-open\n');
  const records = JSON.parse(stdout) as { level: string; message: string }[];
  const native = records.filter((r) => r.message.startsWith('native: '));
  assert.ok(native.length >= 2, JSON.stringify(records));
  assert.ok(native.every((r) => r.level === 'debug'), JSON.stringify(native));
  assert.ok(native.some((r) => /^native: Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from \d+ to 16/.test(r.message)), JSON.stringify(native));
  assert.ok(native.some((r) => /^native: Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced/.test(r.message)), JSON.stringify(native));
});

test('with the default logger (warnings and errors to stderr) nothing of them is printed', async () => {
  const { code, stdout, stderr } = await runFixture('default');
  assert.is(code, 0, stderr);
  assert.is(stderr, 'after-open\n');
  assert.is(stdout, '[]');
});

test.run();
