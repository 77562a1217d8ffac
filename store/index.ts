export { openStore, type SqliteStoreOptions } from './sqlite-store.js';
export { createMemoryStore } from './memory-store.js';
export { GENESIS_HASH, rowHash } from './rows.js';
export { isProcessAlive, systemLeaseEnvironment, type LeaseEnvironment } from './lease-policy.js';
export * from './errors.js';
export type * from './types.js';
