// The public API of @kvtier/gpu.
export {};
