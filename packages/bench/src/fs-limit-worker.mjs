// Entry of a thread of the fs limit when running from sources: a worker gets no loader hooks
// from its parent, so this plain-JS file registers tsx before loading the TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('./fs-limit-worker.ts');
