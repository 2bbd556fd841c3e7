/**
 * Fixed limits that size shared memory. Layouts and metric tables import them from here, never
 * from the config validators, so the shared-memory structures sit below config validation.
 */

/** Most adapters one cache hosts (each gets a worker thread and per-adapter metric slots). */
export const MAX_ADAPTERS = 16;
