// Entry of an adapter host thread. Workers do not inherit the main thread's tsx hooks, and on
// Node 20 `--import tsx` in a worker's execArgv does not reach modules imported later (adapter
// modules by URL), so this plain-JS file registers tsx before loading the TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('./host-worker.ts');
