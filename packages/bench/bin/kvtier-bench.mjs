#!/usr/bin/env node
// Runs the TypeScript CLI through tsx; worker threads get tsx from the pool's own execArgv.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
