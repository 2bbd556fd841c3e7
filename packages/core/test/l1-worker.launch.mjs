// Entry of the l1-threads.test.ts workers: a worker gets no tsx hooks from its parent (and on
// Node 20 `--import tsx` in execArgv does not take), so register tsx here, then load the fixture.
import { register } from 'tsx/esm/api';

register();
await import('./l1-worker.fixture.ts');
