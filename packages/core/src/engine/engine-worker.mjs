// The Piscina worker entry. Workers do not inherit the main thread's tsx hooks, and on Node 20
// `--import tsx` in a worker's execArgv does not reach modules it imports later (adapter modules
// by URL), so this plain-JS file registers tsx in the worker before loading the TypeScript entry.
import { register } from 'tsx/esm/api';

register();
const { default: runEngineTask } = await import('./engine-worker.ts');
export default runEngineTask;
