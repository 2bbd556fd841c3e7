// Run by native-stderr.test.ts in a process of its own: opens the GPU with a recording logger (or
// the default one, given `default`), writes a marker to stderr through Node, and prints the
// records as JSON on stdout. Its stderr shows what reached file descriptor 2.
import { recordingLogger } from '@kvtier/core/testing';
import { openGpu } from '../src/index.ts';

const logger = recordingLogger();
const gpu = await openGpu(process.argv[2] === 'default' ? {} : { logger });
process.stderr.write('after-open\n');
gpu.close();
process.stdout.write(JSON.stringify(logger.records));
