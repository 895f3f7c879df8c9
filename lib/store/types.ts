/**
 * The storage interface for feeds: opaque, already verified envelope bytes filed by feed id and
 * sequence. The store checks that appends continue the head (sequence and prev hash) and keeps
 * the books (ownership, bytes, LRU); it never parses or verifies envelopes — lib/feeds does.
 */

/** "own": the person's own feeds, never evicted. "cached": anyone else's, in a bounded LRU. */
export type Ownership = 'own' | 'cached';

/** The last envelope of the chain as stored (or the snapshot that stands in for it). */
export interface FeedHead {
  readonly seq: number;
  /** SHA-256 of that envelope's encoded bytes. */
  readonly hash: Uint8Array;
}

export interface StoredEnvelope {
  readonly seq: number;
  /** SHA-256 of `bytes`. */
  readonly hash: Uint8Array;
  /** The hash of envelope seq - 1 (what `bytes` says it follows). */
  readonly prev: Uint8Array;
  /** The encoded, signed envelope. */
  readonly bytes: Uint8Array;
}

export interface StoredSnapshot {
  /** The last envelope the snapshot's state includes. */
  readonly seq: number;
  /** The hash of that envelope. */
  readonly hash: Uint8Array;
  /** The encoded, signed snapshot. */
  readonly bytes: Uint8Array;
}

/** Evidence that the author signed two different things for one sequence. Both are kept. */
export interface ForkRecord {
  readonly seq: number;
  /** What this store held first (an envelope, or a snapshot binding another hash). */
  readonly first: Uint8Array;
  /** The conflicting one that arrived later. */
  readonly second: Uint8Array;
  readonly detectedAt: number;
}

export interface FeedInfo {
  readonly id: string;
  readonly ownership: Ownership;
  readonly head: FeedHead | null;
  /** Sequence of the stored snapshot, if any. */
  readonly snapshotSeq: number | null;
  /** Lowest stored envelope sequence (envelopes at or below a snapshot may have been pruned). */
  readonly firstSeq: number | null;
  readonly envelopes: number;
  /** Bytes accounted to this feed: envelopes, snapshot and fork evidence, plus overheads. */
  readonly bytes: number;
  readonly forks: number;
  /** ms since the epoch of the last read or write (the LRU's clock). */
  readonly lastUsed: number;
}

/** What the popup shows. `status` is "full" after the person's own data did not fit. */
export interface StoreState {
  readonly status: 'ok' | 'full' | 'stopped';
  readonly ownBytes: number;
  readonly cachedBytes: number;
  readonly cacheLimitBytes: number;
  /** The total bound this store enforces itself, or null when only the backend's quota applies. */
  readonly maxBytes: number | null;
  readonly ownFeeds: number;
  readonly cachedFeeds: number;
  /** Set while status is "full": when it happened, how much did not fit, and why. */
  readonly full: { readonly at: number; readonly neededBytes: number; readonly message: string } | null;
}

export interface RangeOptions {
  /** Return envelopes with seq > after (0: from the start). */
  after: number;
  /** At most this many (default DEFAULT_RANGE_ENVELOPES, at most MAX_RANGE_ENVELOPES). */
  limit?: number;
  /** Stop before exceeding this many bytes; at least one envelope is returned (default DEFAULT_RANGE_BYTES). */
  maxBytes?: number;
  signal?: AbortSignal;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface FeedStore {
  /** Opens the backend and loads the feed index. */
  start(options?: CallOptions): Promise<void>;
  /** Waits for pending writes, saves LRU clocks and closes the backend. */
  stop(): Promise<void>;

  /** Registers a feed (idempotent). Upgrades cached → own; never downgrades. */
  ensureFeed(id: string, options: { ownership: Ownership } & CallOptions): Promise<FeedInfo>;
  setOwnership(id: string, ownership: Ownership, options?: CallOptions): Promise<FeedInfo>;
  feed(id: string): Promise<FeedInfo | undefined>;
  feeds(): Promise<FeedInfo[]>;
  head(id: string): Promise<FeedHead | null>;

  /**
   * Appends consecutive envelopes atomically: all or none. The first must be head.seq + 1 with
   * prev = head.hash (seq 1 on an empty feed), each next one seq + 1 with prev = the one
   * before's hash. @throws StoreConflictError, UnknownFeedError, StorageFullError, StoreFailedError
   */
  append(id: string, entries: readonly StoredEnvelope[], options?: CallOptions): Promise<FeedHead>;
  get(id: string, seq: number, options?: CallOptions): Promise<StoredEnvelope | undefined>;
  /** Envelopes after `after`, ascending, in one bounded batch (may skip pruned sequences). */
  range(id: string, options: RangeOptions): Promise<StoredEnvelope[]>;

  /**
   * Keeps the snapshot if it is newer than the stored one; when it is past the head, the head
   * moves to (snapshot.seq, snapshot.hash). Returns whether it was kept.
   */
  putSnapshot(id: string, snapshot: StoredSnapshot, options?: CallOptions): Promise<boolean>;
  snapshot(id: string, options?: CallOptions): Promise<StoredSnapshot | undefined>;
  /** Deletes envelopes with seq ≤ throughSeq; only below a stored snapshot. Returns how many. */
  prune(id: string, throughSeq: number, options?: CallOptions): Promise<number>;

  /** Records fork evidence (ignored when the same pair is already recorded). */
  addFork(id: string, fork: ForkRecord, options?: CallOptions): Promise<boolean>;
  forks(id: string, options?: CallOptions): Promise<ForkRecord[]>;

  deleteFeed(id: string, options?: CallOptions): Promise<boolean>;
  /** Keeps a feed out of eviction while it is open; call the returned function to let go. */
  retain(id: string): () => void;
  /** Usage and the "full" state, without I/O. */
  state(): StoreState;
}
