// The public API of @kvtier/adapters.
export {};
