/**
 * FeedStore on IndexedDB (through idb): the browser's store, in the offscreen document (Chrome)
 * or the background page (Firefox). Every write is one readwrite transaction over the records it
 * touches and the feed's meta record; a failure (an exception, the browser's QuotaExceededError)
 * aborts it, so nothing half-written stays. Layout (database version = STORE_SCHEMA_VERSION):
 *
 *   feeds      key id              MetaRecord
 *   envelopes  key [id, seq]       { hash, prev, bytes }
 *   snapshots  key id              { seq, hash, bytes }
 *   forks      key [id, index]     { seq, first, second, detectedAt }
 */
import { openDB } from 'idb';
import type { IDBPDatabase, IDBPTransaction } from 'idb';
import type { BeforeCommit, MetaRecord, StoreBackend } from './backend.ts';
import { STORE_SCHEMA_VERSION } from './constants.ts';
import { UnsupportedStoreVersionError } from './errors.ts';
import { BackendFeedStore } from './store.ts';
import type { FeedStoreOptions } from './store.ts';
import type { ForkRecord, StoredEnvelope, StoredSnapshot } from './types.ts';

const FEEDS = 'feeds';
const ENVELOPES = 'envelopes';
const SNAPSHOTS = 'snapshots';
const FORKS = 'forks';
const ALL = [FEEDS, ENVELOPES, SNAPSHOTS, FORKS];

interface EnvelopeValue {
  hash: Uint8Array;
  prev: Uint8Array;
  bytes: Uint8Array;
}

type Tx = IDBPTransaction<unknown, string[], 'readwrite'>;

/** Migrations by target version: each brings the layout from version - 1 to version. */
const MIGRATIONS: Record<number, (db: IDBPDatabase) => void> = {
  1(db) {
    db.createObjectStore(FEEDS);
    db.createObjectStore(ENVELOPES);
    db.createObjectStore(SNAPSHOTS);
    db.createObjectStore(FORKS);
  },
};

const envelopeRange = (id: string, from: number, to: number) => IDBKeyRange.bound([id, from], [id, to]);
const MAX_KEY_SEQ = Number.MAX_SAFE_INTEGER;

class IdbBackend implements StoreBackend {
  readonly #name: string;
  #db: IDBPDatabase | null = null;

  constructor(name: string) {
    this.#name = name;
  }

  get #open(): IDBPDatabase {
    if (!this.#db) throw new Error('IndexedDB feed store is closed');
    return this.#db;
  }

  async open(): Promise<MetaRecord[]> {
    const db = await openDB(this.#name, STORE_SCHEMA_VERSION, {
      upgrade(database, oldVersion, newVersion) {
        for (let version = oldVersion + 1; version <= (newVersion ?? STORE_SCHEMA_VERSION); version++) {
          const migrate = MIGRATIONS[version];
          if (!migrate) throw new UnsupportedStoreVersionError(version);
          migrate(database);
        }
      },
    }).catch((error: unknown) => {
      // A database written by a newer version refuses to open at a lower version.
      if ((error as { name?: string })?.name === 'VersionError') throw new UnsupportedStoreVersionError('newer than ' + STORE_SCHEMA_VERSION);
      throw error;
    });
    this.#db = db;
    return (await db.getAll(FEEDS)) as MetaRecord[];
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = null;
  }

  async putMeta(meta: MetaRecord): Promise<void> {
    await this.#open.put(FEEDS, meta, meta.id);
  }

  /** Runs `stage` inside one readwrite transaction, then the failure hook; aborts on any throw. */
  async #transact(stores: string[], stage: (tx: Tx) => void, beforeCommit: BeforeCommit, operation: string): Promise<void> {
    const tx = this.#open.transaction(stores, 'readwrite') as Tx;
    try {
      stage(tx);
      beforeCommit(operation);
    } catch (error) {
      try {
        tx.abort();
      } catch {
        // already finished
      }
      await tx.done.catch(() => {});
      throw error;
    }
    await tx.done;
  }

  async append(meta: MetaRecord, entries: readonly StoredEnvelope[], beforeCommit: BeforeCommit): Promise<void> {
    await this.#transact(
      [FEEDS, ENVELOPES],
      (tx) => {
        const envelopes = tx.objectStore(ENVELOPES);
        for (const e of entries) {
          void envelopes.put({ hash: e.hash, prev: e.prev, bytes: e.bytes } satisfies EnvelopeValue, [meta.id, e.seq]).catch(() => {});
        }
        void tx.objectStore(FEEDS).put(meta, meta.id).catch(() => {});
      },
      beforeCommit,
      'append',
    );
  }

  async get(id: string, seq: number): Promise<StoredEnvelope | undefined> {
    const value = (await this.#open.get(ENVELOPES, [id, seq])) as EnvelopeValue | undefined;
    return value ? { seq, hash: value.hash, prev: value.prev, bytes: value.bytes } : undefined;
  }

  async range(id: string, after: number, limit: number, maxBytes: number): Promise<StoredEnvelope[]> {
    const tx = this.#open.transaction(ENVELOPES, 'readonly');
    const out: StoredEnvelope[] = [];
    let bytes = 0;
    let cursor = await tx.store.openCursor(envelopeRange(id, after + 1, MAX_KEY_SEQ));
    while (cursor && out.length < limit) {
      const value = cursor.value as EnvelopeValue;
      if (out.length > 0 && bytes + value.bytes.length > maxBytes) break;
      bytes += value.bytes.length;
      out.push({ seq: (cursor.key as [string, number])[1], hash: value.hash, prev: value.prev, bytes: value.bytes });
      cursor = await cursor.continue();
    }
    await tx.done.catch(() => {});
    return out;
  }

  async putSnapshot(meta: MetaRecord, snapshot: StoredSnapshot, beforeCommit: BeforeCommit): Promise<void> {
    await this.#transact(
      [FEEDS, SNAPSHOTS],
      (tx) => {
        void tx.objectStore(SNAPSHOTS).put({ seq: snapshot.seq, hash: snapshot.hash, bytes: snapshot.bytes }, meta.id).catch(() => {});
        void tx.objectStore(FEEDS).put(meta, meta.id).catch(() => {});
      },
      beforeCommit,
      'snapshot',
    );
  }

  async getSnapshot(id: string): Promise<StoredSnapshot | undefined> {
    return (await this.#open.get(SNAPSHOTS, id)) as StoredSnapshot | undefined;
  }

  async deleteEnvelopes(meta: MetaRecord, throughSeq: number, beforeCommit: BeforeCommit): Promise<void> {
    await this.#transact(
      [FEEDS, ENVELOPES],
      (tx) => {
        void tx.objectStore(ENVELOPES).delete(envelopeRange(meta.id, 0, throughSeq)).catch(() => {});
        void tx.objectStore(FEEDS).put(meta, meta.id).catch(() => {});
      },
      beforeCommit,
      'prune',
    );
  }

  async putFork(meta: MetaRecord, fork: ForkRecord, index: number, beforeCommit: BeforeCommit): Promise<void> {
    await this.#transact(
      [FEEDS, FORKS],
      (tx) => {
        void tx.objectStore(FORKS).put({ ...fork }, [meta.id, index]).catch(() => {});
        void tx.objectStore(FEEDS).put(meta, meta.id).catch(() => {});
      },
      beforeCommit,
      'fork',
    );
  }

  async getForks(id: string): Promise<ForkRecord[]> {
    return (await this.#open.getAll(FORKS, IDBKeyRange.bound([id, 0], [id, MAX_KEY_SEQ]))) as ForkRecord[];
  }

  async deleteFeed(id: string): Promise<void> {
    const tx = this.#open.transaction(ALL, 'readwrite');
    void tx.objectStore(ENVELOPES).delete(envelopeRange(id, 0, MAX_KEY_SEQ)).catch(() => {});
    void tx.objectStore(FORKS).delete(IDBKeyRange.bound([id, 0], [id, MAX_KEY_SEQ])).catch(() => {});
    void tx.objectStore(SNAPSHOTS).delete(id).catch(() => {});
    void tx.objectStore(FEEDS).delete(id).catch(() => {});
    await tx.done;
  }
}

export class IdbFeedStore extends BackendFeedStore {
  /** `name`: the IndexedDB database name (one per profile/engine). */
  constructor(name: string, options: FeedStoreOptions = {}) {
    super(new IdbBackend(name), options);
  }
}
