export { openStore, type SqliteStoreOptions } from './sqlite-store.js';
export { createMemoryStore } from './memory-store.js';
export { GENESIS_HASH, rawOf, rowHash } from './rows.js';
export { isProcessAlive, systemLeaseEnvironment, type LeaseEnvironment } from './lease-policy.js';
export * from './errors.js';
export type * from './types.js';
export { exportLines, parseExport, EXPORT_FORMAT, EXPORT_FORMAT_VERSION } from './export.js';
export { ImportError } from './import-rows.js';
export { ANY_EVENT_CODEC, upcast, MissingUpcasterError, type EventCheck, type Upcaster, type EventCodec } from './codec.js';
