/**
 * A second process for fs-temps.test.ts: opens a real fs adapter on the shared directory given as
 * argv[2] (its recovery scan runs), then leaves a temp file named as its own store in flight for
 * key argv[3] would be, prints `ready <scan removed> <temp path>` and stays alive until killed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FsAdapter } from '../src/fs.ts';
import { TempOwner } from '../src/fs-temps.ts';

const [dir, hex] = process.argv.slice(2);
const adapter = await FsAdapter.open({ type: 'fs', baseDir: dir, ioThreads: 1 });
const shard = join(dir, hex.slice(0, 2));
await mkdir(shard, { recursive: true });
const temp = join(shard, new TempOwner(undefined, 0).nameFor(hex));
await writeFile(temp, 'a store in flight');
process.stdout.write(`ready ${adapter.removedTempFiles} ${temp}\n`);
setInterval(() => {}, 60_000);
