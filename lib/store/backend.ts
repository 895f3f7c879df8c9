/**
 * What each storage technology provides to BackendFeedStore (lib/store/store.ts), which holds
 * the policy (continuity checks, ownership, accounting, LRU eviction, the full state). Every
 * write method is atomic: it writes all of its records and the feed's meta record, or nothing.
 */
import type { ForkRecord, Ownership, StoredEnvelope, StoredSnapshot } from './types.ts';

/** The per-feed index record (stored, versioned: `v`). */
export interface MetaRecord {
  v: number;
  id: string;
  ownership: Ownership;
  /** 0 when the feed has no head yet. */
  headSeq: number;
  headHash: Uint8Array | null;
  /** 0 when there is no snapshot. */
  snapshotSeq: number;
  /** Accounted bytes of the stored snapshot (0 when none). */
  snapshotBytes: number;
  /** Lowest and highest stored envelope sequence; 0 when none. */
  firstSeq: number;
  lastSeq: number;
  count: number;
  bytes: number;
  forks: number;
  lastUsed: number;
}

/**
 * Called inside a write after some of its records are staged and before it commits. Tests use it
 * to inject a failure there (a crash, a QuotaExceededError); it must be synchronous, because an
 * IndexedDB transaction commits as soon as it is left idle.
 */
export type BeforeCommit = (operation: string) => void;

export interface StoreBackend {
  /** Opens (creating or migrating the layout) and returns every meta record. */
  open(): Promise<MetaRecord[]>;
  close(): Promise<void>;
  putMeta(meta: MetaRecord): Promise<void>;
  append(meta: MetaRecord, entries: readonly StoredEnvelope[], beforeCommit: BeforeCommit): Promise<void>;
  get(id: string, seq: number): Promise<StoredEnvelope | undefined>;
  /** Ascending envelopes with seq > after: at most `limit`, stopping before `maxBytes` (never fewer than one). */
  range(id: string, after: number, limit: number, maxBytes: number): Promise<StoredEnvelope[]>;
  putSnapshot(meta: MetaRecord, snapshot: StoredSnapshot, beforeCommit: BeforeCommit): Promise<void>;
  getSnapshot(id: string): Promise<StoredSnapshot | undefined>;
  /** Deletes envelopes with seq ≤ throughSeq and writes `meta`. */
  deleteEnvelopes(meta: MetaRecord, throughSeq: number, beforeCommit: BeforeCommit): Promise<void>;
  /** `index` is the fork's position among the feed's forks (part of its key). */
  putFork(meta: MetaRecord, fork: ForkRecord, index: number, beforeCommit: BeforeCommit): Promise<void>;
  getForks(id: string): Promise<ForkRecord[]>;
  /** Removes the feed entirely: meta, envelopes, snapshot, forks. */
  deleteFeed(id: string): Promise<void>;
}
