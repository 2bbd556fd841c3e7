/**
 * Modules started by URL (worker entries, adapter modules) must name a file of the tree their
 * caller runs from: the workspace runs the TypeScript sources under tsx, the published package runs
 * the JavaScript that `tsc -b` emits into `dist/` under plain `node`, where no `.ts` file exists.
 * The caller's own URL tells which tree it is in.
 */

/** Whether a module URL is built JavaScript (`dist/`) rather than a TypeScript source. */
function isBuilt(base: string): boolean {
  return base.endsWith('.js');
}

/**
 * URL of a sibling module named by its source path (`'./fs.ts'`), relative to `base` (the caller's
 * `import.meta.url`): the `.ts` source from sources, the emitted `.js` from `dist/`.
 */
export function siblingModule(sourcePath: string, base: string): URL {
  return new URL(isBuilt(base) ? sourcePath.replace(/\.ts$/, '.js') : sourcePath, base);
}

/**
 * URL of a worker thread's entry `name` (`'./engine-worker'`) relative to `base`: from sources the
 * `.mjs` launcher that registers tsx in the new thread before loading the `.ts` entry (a worker
 * gets no loader hooks from its parent), from `dist/` the emitted `.js` entry itself.
 */
export function workerEntry(name: string, base: string): URL {
  return new URL(`${name}${isBuilt(base) ? '.js' : '.mjs'}`, base);
}
