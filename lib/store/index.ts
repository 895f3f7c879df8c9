/**
 * lib/store — where feeds live: one FeedStore interface, three implementations.
 *   MemoryFeedStore  (here)             tests, and the memory twin of everything above
 *   IdbFeedStore     (here)              the browser: IndexedDB through idb
 *   FileFeedStore    (lib/store/file.ts) the always-on node: LevelDB on disk (Node only)
 * Layout, atomicity, quota and eviction rules: docs/store.md.
 */
export {
  DEFAULT_CACHE_LIMIT_BYTES,
  DEFAULT_RANGE_BYTES,
  DEFAULT_RANGE_ENVELOPES,
  ENVELOPE_KEY_BYTES,
  ENVELOPE_OVERHEAD_BYTES,
  MAX_FEED_ID_LENGTH,
  MAX_RANGE_BYTES,
  MAX_RANGE_ENVELOPES,
  QUOTA_RETRY_FREE_BYTES,
  RECORD_OVERHEAD_BYTES,
  STORE_SCHEMA_VERSION,
} from './constants.ts';
export {
  STORE_ERROR_CODES,
  StorageFullError,
  StoreArgumentError,
  StoreConflictError,
  StoreCorruptedError,
  StoreFailedError,
  StoreNotStartedError,
  UnknownFeedError,
  UnsupportedStoreVersionError,
  isQuotaError,
} from './errors.ts';
export type { StoreErrorCode } from './errors.ts';
export type {
  CallOptions,
  FeedHead,
  FeedInfo,
  FeedStore,
  ForkRecord,
  Ownership,
  RangeOptions,
  StoreState,
  StoredEnvelope,
  StoredSnapshot,
} from './types.ts';
export type { BeforeCommit, EnvelopeRecord, MetaRecord, RecordVisitor, StoreBackend } from './backend.ts';
export { envelopeCost } from './compact.ts';
export { BackendFeedStore } from './store.ts';
export type { FeedStoreOptions } from './store.ts';
export { MemoryFeedStore, createMemoryBacking } from './memory.ts';
export { IdbFeedStore } from './idb.ts';
export type { MemoryBacking } from './memory.ts';
