/**
 * The policy half of every FeedStore: continuity checks, ownership, byte accounting, the LRU of
 * cached feeds, quota handling and the "full" state. Each storage technology supplies a
 * StoreBackend (memory.ts, idb.ts, file.ts); this class serialises writes, keeps the index of
 * feeds in memory (one small record per feed), and is the one place envelopes become stored
 * records and back (compact.ts), so every backend keeps the same values.
 */
import { copyBytes, equalBytes } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import type { BeforeCommit, EnvelopeRecord, MetaRecord, StoreBackend } from './backend.ts';
import { envelopeCost, feedPrefix, impliesPrev, packEnvelope, unpackEnvelope, withOwnPrev } from './compact.ts';
import {
  DEFAULT_CACHE_LIMIT_BYTES,
  DEFAULT_RANGE_BYTES,
  DEFAULT_RANGE_ENVELOPES,
  MAX_FEED_ID_LENGTH,
  MAX_RANGE_BYTES,
  MAX_RANGE_ENVELOPES,
  QUOTA_RETRY_FREE_BYTES,
  RECORD_OVERHEAD_BYTES,
  STORE_SCHEMA_VERSION,
} from './constants.ts';
import {
  StorageFullError,
  StoreArgumentError,
  StoreConflictError,
  StoreFailedError,
  StoreNotStartedError,
  UnknownFeedError,
  UnsupportedStoreVersionError,
  isQuotaError,
} from './errors.ts';
import type {
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

export interface FeedStoreOptions {
  /** Bound of the LRU of cached feeds (bytes). Default DEFAULT_CACHE_LIMIT_BYTES. */
  cacheLimitBytes?: number;
  /**
   * Total bound (own + cached) this store enforces itself. Default none: only the backend's
   * own quota applies (the browser's, a disk's).
   */
  maxBytes?: number | null;
  /** Clock for the LRU (ms). */
  now?: () => number;
  /** Failure injection for tests: see BeforeCommit. */
  faults?: { beforeCommit?: BeforeCommit };
  /**
   * false: keep every envelope as given instead of as a compact entry (compact.ts). What
   * bench/feeds.bench.ts measures compaction against; either way, both kinds are read.
   */
  compact?: boolean;
}

const HASH_LENGTH = 32;

const recordCost = (bytes: number): number => bytes + RECORD_OVERHEAD_BYTES;

function checkId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_FEED_ID_LENGTH || id.includes('\u0000')) {
    throw new StoreArgumentError(`invalid feed id ${JSON.stringify(String(id).slice(0, 80))}`);
  }
  return id;
}

function checkSeq(seq: unknown, what: string, min = 1): number {
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < min) {
    throw new StoreArgumentError(`${what} must be an integer ≥ ${min}`);
  }
  return seq;
}

function checkHash(hash: unknown, what: string): Uint8Array {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_LENGTH) {
    throw new StoreArgumentError(`${what} must be ${HASH_LENGTH} bytes`);
  }
  return hash;
}

function toInfo(meta: MetaRecord): FeedInfo {
  return {
    id: meta.id,
    ownership: meta.ownership,
    head: meta.headSeq > 0 && meta.headHash ? { seq: meta.headSeq, hash: copyBytes(meta.headHash) } : null,
    snapshotSeq: meta.snapshotSeq > 0 ? meta.snapshotSeq : null,
    firstSeq: meta.firstSeq > 0 ? meta.firstSeq : null,
    envelopes: meta.count,
    bytes: meta.bytes,
    forks: meta.forks,
    lastUsed: meta.lastUsed,
  };
}

export class BackendFeedStore implements FeedStore {
  readonly #backend: StoreBackend;
  readonly #cacheLimit: number;
  readonly #maxBytes: number | null;
  readonly #now: () => number;
  readonly #beforeCommit: BeforeCommit;
  readonly #compact: boolean;
  readonly #metas = new Map<string, MetaRecord>();
  /** Each feed's envelope prefix (compact.ts feedPrefix), computed once: it decodes the author key. */
  readonly #prefixes = new Map<string, Uint8Array | null>();
  readonly #dirty = new Set<string>();
  readonly #retained = new Map<string, number>();
  #started = false;
  #nextNumber = 1;
  #tail: Promise<unknown> = Promise.resolve();
  #full: { at: number; neededBytes: number; message: string } | null = null;

  constructor(backend: StoreBackend, options: FeedStoreOptions = {}) {
    this.#backend = backend;
    this.#cacheLimit = options.cacheLimitBytes ?? DEFAULT_CACHE_LIMIT_BYTES;
    this.#maxBytes = options.maxBytes ?? null;
    this.#now = options.now ?? Date.now;
    const hook = options.faults?.beforeCommit;
    this.#beforeCommit = hook ? (operation) => hook(operation) : () => {};
    this.#compact = options.compact ?? true;
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle

  async start(options: CallOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    if (this.#started) return;
    let opened: { metas: MetaRecord[]; nextNumber: number };
    try {
      opened = await this.#backend.open();
    } catch (cause) {
      if (cause instanceof P2pbError) throw cause;
      throw new StoreFailedError(`cannot open the feed store: ${String((cause as Error)?.message ?? cause)}`, { cause });
    }
    this.#metas.clear();
    this.#prefixes.clear();
    for (const meta of opened.metas) {
      if (meta.v !== STORE_SCHEMA_VERSION) throw new UnsupportedStoreVersionError(meta.v);
      this.#metas.set(meta.id, meta);
    }
    this.#nextNumber = opened.nextNumber;
    this.#started = true;
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    await this.#serial(async () => {
      for (const id of this.#dirty) {
        const meta = this.#metas.get(id);
        if (meta) await this.#backend.putMeta(meta).catch(() => {}); // only LRU clocks: best effort
      }
      this.#dirty.clear();
      this.#started = false;
      await this.#backend.close();
    });
  }

  // -------------------------------------------------------------------------------------------
  // Feeds

  async ensureFeed(id: string, options: { ownership: Ownership } & CallOptions): Promise<FeedInfo> {
    checkId(id);
    const ownership = checkOwnership(options.ownership);
    options.signal?.throwIfAborted();
    return this.#serial(async () => {
      const existing = this.#metas.get(id);
      if (existing && (existing.ownership === ownership || ownership === 'cached')) {
        this.#touch(existing);
        return toInfo(existing);
      }
      if (existing) {
        const meta = { ...existing, ownership, lastUsed: this.#now() };
        await this.#write(meta, 0, () => this.#backend.putMeta(meta));
        return toInfo(meta);
      }
      const meta: MetaRecord = {
        v: STORE_SCHEMA_VERSION,
        id,
        n: this.#nextNumber,
        ownership,
        headSeq: 0,
        headHash: null,
        snapshotSeq: 0,
        snapshotBytes: 0,
        firstSeq: 0,
        lastSeq: 0,
        count: 0,
        bytes: 0,
        forks: 0,
        lastUsed: this.#now(),
      };
      await this.#write(meta, 0, () => this.#backend.addFeed(meta));
      this.#nextNumber = meta.n + 1;
      return toInfo(meta);
    });
  }

  async setOwnership(id: string, ownership: Ownership, options: CallOptions = {}): Promise<FeedInfo> {
    checkId(id);
    checkOwnership(ownership);
    options.signal?.throwIfAborted();
    return this.#serial(async () => {
      const meta = { ...this.#meta(id), ownership };
      await this.#write(meta, 0, () => this.#backend.putMeta(meta));
      return toInfo(meta);
    });
  }

  async feed(id: string): Promise<FeedInfo | undefined> {
    this.#requireStarted();
    const meta = this.#metas.get(id);
    return meta ? toInfo(meta) : undefined;
  }

  async feeds(): Promise<FeedInfo[]> {
    this.#requireStarted();
    return [...this.#metas.values()].map(toInfo);
  }

  async head(id: string): Promise<FeedHead | null> {
    this.#requireStarted();
    const meta = this.#metas.get(id);
    return meta ? toInfo(meta).head : null;
  }

  async deleteFeed(id: string, options: CallOptions = {}): Promise<boolean> {
    checkId(id);
    options.signal?.throwIfAborted();
    return this.#serial(async () => {
      this.#requireStarted();
      const meta = this.#metas.get(id);
      if (!meta) return false;
      await this.#guard(() => this.#backend.deleteFeed(meta));
      this.#forget(id);
      this.#full = null; // room was freed: the next own write finds out whether it is enough
      return true;
    });
  }

  retain(id: string): () => void {
    this.#retained.set(id, (this.#retained.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const count = (this.#retained.get(id) ?? 1) - 1;
      if (count <= 0) this.#retained.delete(id);
      else this.#retained.set(id, count);
    };
  }

  // -------------------------------------------------------------------------------------------
  // Envelopes

  async append(id: string, entries: readonly StoredEnvelope[], options: CallOptions = {}): Promise<FeedHead> {
    checkId(id);
    if (!Array.isArray(entries) || entries.length === 0) throw new StoreArgumentError('append needs at least one envelope');
    for (const entry of entries) {
      checkSeq(entry?.seq, 'seq');
      checkHash(entry.hash, 'hash');
      checkHash(entry.prev, 'prev');
      if (!(entry.bytes instanceof Uint8Array) || entry.bytes.length === 0) throw new StoreArgumentError('bytes must be a non-empty Uint8Array');
    }
    options.signal?.throwIfAborted();
    return this.#serial(async () => {
      const meta = this.#meta(id);
      let seq = meta.headSeq;
      let hash = meta.headHash;
      for (const entry of entries) {
        if (entry.seq !== seq + 1) throw new StoreConflictError(`append of ${entry.seq} does not follow head ${seq}`);
        if (hash !== null && !equalBytes(entry.prev, hash)) {
          throw new StoreConflictError(`envelope ${entry.seq} does not name envelope ${seq} as its previous one`);
        }
        seq = entry.seq;
        hash = entry.hash;
      }
      const records = this.#pack(meta, entries);
      let need = 0;
      for (const record of records) need += envelopeCost(record.value);
      const last = entries[entries.length - 1]!;
      const next: MetaRecord = {
        ...meta,
        headSeq: last.seq,
        headHash: copyBytes(last.hash),
        firstSeq: meta.firstSeq > 0 ? meta.firstSeq : entries[0]!.seq,
        lastSeq: last.seq,
        count: meta.count + entries.length,
        bytes: meta.bytes + need,
        lastUsed: this.#now(),
      };
      await this.#write(next, need, () => this.#backend.append(next, records, this.#beforeCommit));
      return { seq: last.seq, hash: copyBytes(last.hash) };
    });
  }

  async get(id: string, seq: number, options: CallOptions = {}): Promise<StoredEnvelope | undefined> {
    checkId(id);
    checkSeq(seq, 'seq');
    options.signal?.throwIfAborted();
    this.#requireStarted();
    const meta = this.#metas.get(id);
    if (!meta || meta.count === 0 || seq < meta.firstSeq || seq > meta.lastSeq) return undefined;
    this.#touch(meta);
    const [found] = await this.#read(meta, seq - 1, 1, Number.MAX_SAFE_INTEGER);
    return found?.seq === seq ? found : undefined;
  }

  async range(id: string, options: RangeOptions): Promise<StoredEnvelope[]> {
    checkId(id);
    const after = checkSeq(options.after, 'after', 0);
    const limit = Math.min(checkSeq(options.limit ?? DEFAULT_RANGE_ENVELOPES, 'limit'), MAX_RANGE_ENVELOPES);
    const maxBytes = Math.min(checkSeq(options.maxBytes ?? DEFAULT_RANGE_BYTES, 'maxBytes'), MAX_RANGE_BYTES);
    options.signal?.throwIfAborted();
    this.#requireStarted();
    const meta = this.#metas.get(id);
    if (!meta || meta.count === 0 || after >= meta.lastSeq) return [];
    this.#touch(meta);
    return this.#read(meta, after, limit, maxBytes);
  }

  // -------------------------------------------------------------------------------------------
  // Snapshots, pruning, forks

  async putSnapshot(id: string, snapshot: StoredSnapshot, options: CallOptions = {}): Promise<boolean> {
    checkId(id);
    checkSeq(snapshot?.seq, 'seq');
    checkHash(snapshot.hash, 'hash');
    if (!(snapshot.bytes instanceof Uint8Array) || snapshot.bytes.length === 0) throw new StoreArgumentError('bytes must be a non-empty Uint8Array');
    options.signal?.throwIfAborted();
    return this.#serial(async () => {
      const meta = this.#meta(id);
      if (meta.snapshotSeq >= snapshot.seq) return false;
      const cost = recordCost(snapshot.bytes.length);
      const need = cost - meta.snapshotBytes;
      const advances = snapshot.seq > meta.headSeq;
      const next: MetaRecord = {
        ...meta,
        snapshotSeq: snapshot.seq,
        snapshotBytes: cost,
        headSeq: advances ? snapshot.seq : meta.headSeq,
        headHash: advances ? copyBytes(snapshot.hash) : meta.headHash,
        bytes: meta.bytes + need,
        lastUsed: this.#now(),
      };
      await this.#write(next, need, () => this.#backend.putSnapshot(next, snapshot, this.#beforeCommit));
      return true;
    });
  }

  async snapshot(id: string, options: CallOptions = {}): Promise<StoredSnapshot | undefined> {
    checkId(id);
    options.signal?.throwIfAborted();
    this.#requireStarted();
    const meta = this.#metas.get(id);
    if (!meta || meta.snapshotSeq === 0) return undefined;
    this.#touch(meta);
    return this.#guard(() => this.#backend.getSnapshot(id));
  }

  async prune(id: string, throughSeq: number, options: CallOptions = {}): Promise<number> {
    checkId(id);
    checkSeq(throughSeq, 'throughSeq');
    options.signal?.throwIfAborted();
    return this.#serial(async () => {
      const meta = this.#meta(id);
      if (throughSeq > meta.snapshotSeq) {
        throw new StoreArgumentError(`cannot prune through ${throughSeq}: the snapshot is at ${meta.snapshotSeq}`);
      }
      if (meta.count === 0 || meta.firstSeq > throughSeq) return 0;
      const { removed, removedBytes, last, kept } = await this.#pruned(meta, throughSeq, options.signal);
      // The first record left may name its prev by the one before it, which goes: it carries it now.
      const rewrite = kept && withOwnPrev(id, kept, last);
      const count = meta.count - removed;
      const next: MetaRecord = {
        ...meta,
        count,
        firstSeq: kept ? kept.seq : 0,
        lastSeq: count > 0 ? meta.lastSeq : 0,
        bytes: meta.bytes - removedBytes + (rewrite ? rewrite.value.length - kept.value.length : 0),
        lastUsed: this.#now(),
      };
      await this.#write(next, 0, () => this.#backend.deleteEnvelopes(next, throughSeq, rewrite, this.#beforeCommit));
      if (removed > 0 && meta.ownership === 'own') this.#full = null;
      return removed;
    });
  }

  async addFork(id: string, fork: ForkRecord, options: CallOptions = {}): Promise<boolean> {
    checkId(id);
    checkSeq(fork?.seq, 'seq');
    if (!(fork.first instanceof Uint8Array) || !(fork.second instanceof Uint8Array)) {
      throw new StoreArgumentError('a fork record holds two byte strings');
    }
    options.signal?.throwIfAborted();
    return this.#serial(async () => {
      const meta = this.#meta(id);
      const existing = await this.#guard(() => this.#backend.getForks(id));
      const same = (a: Uint8Array, b: Uint8Array) => equalBytes(a, b);
      if (
        existing.some(
          (f) =>
            f.seq === fork.seq &&
            ((same(f.first, fork.first) && same(f.second, fork.second)) || (same(f.first, fork.second) && same(f.second, fork.first))),
        )
      ) {
        return false;
      }
      const need = recordCost(fork.first.length + fork.second.length);
      const next: MetaRecord = { ...meta, forks: meta.forks + 1, bytes: meta.bytes + need, lastUsed: this.#now() };
      await this.#write(next, need, () => this.#backend.putFork(next, fork, existing.length, this.#beforeCommit));
      return true;
    });
  }

  async forks(id: string, options: CallOptions = {}): Promise<ForkRecord[]> {
    checkId(id);
    options.signal?.throwIfAborted();
    this.#requireStarted();
    const meta = this.#metas.get(id);
    if (!meta || meta.forks === 0) return [];
    return this.#guard(() => this.#backend.getForks(id));
  }

  // -------------------------------------------------------------------------------------------
  // Usage

  state(): StoreState {
    let ownBytes = 0;
    let cachedBytes = 0;
    let ownFeeds = 0;
    let cachedFeeds = 0;
    for (const meta of this.#metas.values()) {
      if (meta.ownership === 'own') {
        ownBytes += meta.bytes;
        ownFeeds++;
      } else {
        cachedBytes += meta.bytes;
        cachedFeeds++;
      }
    }
    return {
      status: !this.#started ? 'stopped' : this.#full ? 'full' : 'ok',
      ownBytes,
      cachedBytes,
      cacheLimitBytes: this.#cacheLimit,
      maxBytes: this.#maxBytes,
      ownFeeds,
      cachedFeeds,
      full: this.#full ? { ...this.#full } : null,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** What prune() deletes (how many, their accounted bytes, the last of them) and the first record it keeps. */
  async #pruned(meta: MetaRecord, throughSeq: number, signal: AbortSignal | undefined) {
    const found = { removed: 0, removedBytes: 0, last: null as EnvelopeRecord | null, kept: null as EnvelopeRecord | null };
    await this.#guard(() =>
      this.#backend.scan(meta, meta.firstSeq, Number.POSITIVE_INFINITY, (record) => {
        signal?.throwIfAborted();
        if (record.seq > throughSeq) {
          found.kept = record;
          return false;
        }
        found.removed++;
        found.removedBytes += envelopeCost(record.value);
        found.last = record;
        return true;
      }),
    );
    return found;
  }

  /**
   * The records of `entries`, appended after what `meta` says is stored. A record names its prev
   * only when the record before it is not stored: the first of a feed after a snapshot moved its
   * head past what is stored, or after everything was pruned.
   */
  #pack(meta: MetaRecord, entries: readonly StoredEnvelope[]): EnvelopeRecord[] {
    const prefix = this.#compact ? this.#prefix(meta.id) : null;
    const stored = meta.count > 0 && meta.headSeq === meta.lastSeq && meta.headHash ? { seq: meta.lastSeq, hash: meta.headHash } : null;
    return entries.map((entry, i) => {
      const before = i === 0 ? stored : entries[i - 1]!;
      return { seq: entry.seq, hash: entry.hash, value: packEnvelope(prefix, entry, !impliesPrev(entry.seq, entry.prev, before)) };
    });
  }

  /**
   * Envelopes after `after`, rebuilt from one consistent read of the backend. Record `after`
   * is read too when it is stored: its hash is the prev of the next one.
   */
  async #read(meta: MetaRecord, after: number, limit: number, maxBytes: number): Promise<StoredEnvelope[]> {
    const prefix = this.#prefix(meta.id);
    const out: StoredEnvelope[] = [];
    let before: EnvelopeRecord | null = null;
    let bytes = 0;
    await this.#guard(() =>
      this.#backend.scan(meta, after, limit + 1, (record) => {
        if (record.seq > after) {
          const envelope = unpackEnvelope(meta.id, prefix, record, before);
          if (out.length > 0 && bytes + envelope.bytes.length > maxBytes) return false;
          bytes += envelope.bytes.length;
          out.push(envelope);
        }
        before = record;
        return out.length < limit;
      }),
    );
    return out;
  }

  #requireStarted(): void {
    if (!this.#started) throw new StoreNotStartedError();
  }

  #meta(id: string): MetaRecord {
    this.#requireStarted();
    const meta = this.#metas.get(id);
    if (!meta) throw new UnknownFeedError(id);
    return meta;
  }

  #forget(id: string): void {
    this.#metas.delete(id);
    this.#dirty.delete(id);
    this.#prefixes.delete(id);
  }

  #prefix(id: string): Uint8Array | null {
    let prefix = this.#prefixes.get(id);
    if (prefix === undefined) {
      prefix = feedPrefix(id);
      this.#prefixes.set(id, prefix);
    }
    return prefix;
  }

  #touch(meta: MetaRecord): void {
    meta.lastUsed = Math.max(meta.lastUsed, this.#now());
    this.#dirty.add(meta.id);
  }

  /** Runs a backend call, turning anything that is not a P2pbError into StoreFailedError. */
  async #guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (cause) {
      if (cause instanceof P2pbError) throw cause;
      throw new StoreFailedError(`feed store operation failed: ${String((cause as Error)?.message ?? cause)}`, { cause });
    }
  }

  /**
   * Makes room for `need` more bytes of `next`'s feed (evicting cached feeds as the policy
   * says), runs the atomic backend write, and on the backend's own quota error evicts and
   * retries once. On success the new meta becomes current.
   */
  async #write(next: MetaRecord, need: number, op: () => Promise<void>): Promise<void> {
    if (need > 0) await this.#makeRoom(next, need);
    try {
      await op();
    } catch (cause) {
      if (!isQuotaError(cause)) {
        if (cause instanceof P2pbError) throw cause;
        throw new StoreFailedError(`feed store write failed: ${String((cause as Error)?.message ?? cause)}`, { cause });
      }
      const freed = await this.#evict(Math.max(need, QUOTA_RETRY_FREE_BYTES), next.id);
      try {
        if (freed === 0) throw cause;
        await op();
      } catch (again) {
        if (!isQuotaError(again)) {
          if (again instanceof P2pbError) throw again;
          throw new StoreFailedError(`feed store write failed: ${String((again as Error)?.message ?? again)}`, { cause: again });
        }
        throw this.#fullError(next.ownership, need, 'the storage quota is exhausted', again);
      }
    }
    this.#metas.set(next.id, next);
    this.#dirty.delete(next.id);
    if (next.ownership === 'own' && need > 0) this.#full = null;
  }

  async #makeRoom(next: MetaRecord, need: number): Promise<void> {
    if (next.ownership === 'cached') {
      if (next.bytes > this.#cacheLimit) {
        throw this.#fullError('cached', need, `feed ${next.id} would outgrow the cache bound of ${this.#cacheLimit} bytes`);
      }
      const over = this.#bytes('cached') + need - this.#cacheLimit;
      if (over > 0 && (await this.#evict(over, next.id)) < over) {
        throw this.#fullError('cached', need, `the cache bound of ${this.#cacheLimit} bytes is taken by feeds in use`);
      }
    }
    if (this.#maxBytes !== null) {
      const over = this.#bytes('own') + this.#bytes('cached') + need - this.#maxBytes;
      if (over > 0 && (await this.#evict(over, next.id)) < over) {
        throw this.#fullError(next.ownership, need, `storage limit of ${this.#maxBytes} bytes reached`);
      }
    }
  }

  #bytes(ownership: Ownership): number {
    let total = 0;
    for (const meta of this.#metas.values()) if (meta.ownership === ownership) total += meta.bytes;
    return total;
  }

  /** Evicts least recently used cached feeds (not retained, not `except`) until `bytes` are freed. */
  async #evict(bytes: number, except: string): Promise<number> {
    const candidates = [...this.#metas.values()]
      .filter((m) => m.ownership === 'cached' && m.id !== except && !this.#retained.has(m.id))
      .sort((a, b) => a.lastUsed - b.lastUsed);
    let freed = 0;
    for (const meta of candidates) {
      if (freed >= bytes) break;
      await this.#guard(() => this.#backend.deleteFeed(meta));
      this.#forget(meta.id);
      freed += meta.bytes;
    }
    return freed;
  }

  #fullError(ownership: Ownership, need: number, message: string, cause?: unknown): StorageFullError {
    if (ownership === 'own') {
      this.#full = { at: this.#now(), neededBytes: need, message };
      return new StorageFullError('own', need, `storage full: ${message}`, { cause });
    }
    return new StorageFullError('cache', need, `cache full: ${message}`, { cause });
  }
}

function checkOwnership(ownership: unknown): Ownership {
  if (ownership !== 'own' && ownership !== 'cached') throw new StoreArgumentError('ownership must be "own" or "cached"');
  return ownership;
}
