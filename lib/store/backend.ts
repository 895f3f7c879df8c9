/**
 * What each storage technology provides to BackendFeedStore (lib/store/store.ts), which holds
 * the policy (continuity checks, ownership, accounting, LRU eviction, the full state) and turns
 * envelopes into stored records and back (compact.ts). Every write method is atomic: it writes
 * all of its records and the feed's meta record, or nothing.
 */
import type { ForkRecord, Ownership, StoredSnapshot } from './types.ts';

/** The per-feed index record (stored, versioned: `v`). */
export interface MetaRecord {
  v: number;
  id: string;
  /** The feed's number: the short key its envelope records are filed under. Never reused. */
  n: number;
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

/** One stored envelope as a backend keeps it: filed under (meta.n, seq), `value` as compact.ts writes it. */
export interface EnvelopeRecord {
  readonly seq: number;
  /** SHA-256 of the envelope. */
  readonly hash: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * Called inside a write after some of its records are staged and before it commits. Tests use it
 * to inject a failure there (a crash, a QuotaExceededError); it must be synchronous, because an
 * IndexedDB transaction commits as soon as it is left idle.
 */
export type BeforeCommit = (operation: string) => void;

/** Called for each record of a scan, in ascending order; false stops the scan. Synchronous, like BeforeCommit. */
export type RecordVisitor = (record: EnvelopeRecord) => boolean;

export interface StoreBackend {
  /** Opens (creating or migrating the layout): every meta record, and the number the next new feed gets. */
  open(): Promise<{ metas: MetaRecord[]; nextNumber: number }>;
  close(): Promise<void>;
  putMeta(meta: MetaRecord): Promise<void>;
  /** Writes the meta record of a new feed and moves the feed-number counter past meta.n. */
  addFeed(meta: MetaRecord): Promise<void>;
  append(meta: MetaRecord, records: readonly EnvelopeRecord[], beforeCommit: BeforeCommit): Promise<void>;
  /** Visits the feed's records with seq ≥ from, ascending, at most `limit`, from one consistent read. */
  scan(meta: MetaRecord, from: number, limit: number, visit: RecordVisitor): Promise<void>;
  putSnapshot(meta: MetaRecord, snapshot: StoredSnapshot, beforeCommit: BeforeCommit): Promise<void>;
  getSnapshot(id: string): Promise<StoredSnapshot | undefined>;
  /** Deletes records with seq ≤ throughSeq, puts `rewrite` (the first one left, now carrying its prev) and writes `meta`. */
  deleteEnvelopes(meta: MetaRecord, throughSeq: number, rewrite: EnvelopeRecord | null, beforeCommit: BeforeCommit): Promise<void>;
  /** `index` is the fork's position among the feed's forks (part of its key). */
  putFork(meta: MetaRecord, fork: ForkRecord, index: number, beforeCommit: BeforeCommit): Promise<void>;
  getForks(id: string): Promise<ForkRecord[]>;
  /** Removes the feed entirely: meta, envelope records, snapshot, forks. */
  deleteFeed(meta: MetaRecord): Promise<void>;
}
