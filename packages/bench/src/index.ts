// The public API of @kvtier/bench.
export {};
