/**
 * FeedStore on IndexedDB (through idb): the browser's store, in the offscreen document (Chrome)
 * or the background page (Firefox). Every write is one readwrite transaction over the records it
 * touches and the feed's meta record; a failure (an exception, the browser's QuotaExceededError)
 * aborts it, so nothing half-written stays. Layout (database version = STORE_SCHEMA_VERSION):
 *
 *   feeds      key id              MetaRecord
 *   counters   key "feeds"         the number the next new feed gets
 *   records    key [n, seq]        hash (32) ‖ value (compact.ts)
 *   snapshots  key id              { seq, hash, bytes }
 *   forks      key [id, index]     { seq, first, second, detectedAt }
 *
 * Schema 1 had `envelopes` keyed [id, seq] holding { hash, prev, bytes } and no counter; the
 * upgrade to 2 converts it inside the version-change transaction (migrate.ts).
 */
import { openDB } from 'idb';
import type { IDBPDatabase, IDBPTransaction } from 'idb';
import { concatBytes } from '../util/bytes.ts';
import type { BeforeCommit, EnvelopeRecord, MetaRecord, RecordVisitor, StoreBackend } from './backend.ts';
import { STORE_SCHEMA_VERSION } from './constants.ts';
import { UnsupportedStoreVersionError } from './errors.ts';
import { FeedMigration } from './migrate.ts';
import type { V1Envelope, V1Meta } from './migrate.ts';
import { BackendFeedStore } from './store.ts';
import type { FeedStoreOptions } from './store.ts';
import type { ForkRecord, StoredSnapshot } from './types.ts';

const FEEDS = 'feeds';
const COUNTERS = 'counters';
const RECORDS = 'records';
const SNAPSHOTS = 'snapshots';
const FORKS = 'forks';
const ALL = [FEEDS, RECORDS, SNAPSHOTS, FORKS];
/** The feed-number counter's key in COUNTERS. */
const FEED_NUMBER = 'feeds';
/** Schema 1's envelope store. */
const V1_ENVELOPES = 'envelopes';

type Tx = IDBPTransaction<unknown, string[], 'readwrite'>;
type UpgradeTx = IDBPTransaction<unknown, string[], 'versionchange'>;

/**
 * Migrations by target version: each brings the layout from version - 1 to version, inside the
 * version-change transaction. That transaction commits as soon as no request is pending, so a
 * migration awaits only its own requests, never other work.
 */
const MIGRATIONS: Record<number, (db: IDBPDatabase, tx: UpgradeTx) => void | Promise<void>> = {
  1(db) {
    db.createObjectStore(FEEDS);
    db.createObjectStore(V1_ENVELOPES);
    db.createObjectStore(SNAPSHOTS);
    db.createObjectStore(FORKS);
  },
  2: toSchema2,
};

/** Every envelope record re-keyed by its feed's new number and kept as compact.ts writes it; metas numbered. */
async function toSchema2(db: IDBPDatabase, tx: UpgradeTx): Promise<void> {
  db.createObjectStore(RECORDS);
  db.createObjectStore(COUNTERS);
  const metas = ((await tx.objectStore(FEEDS).getAll()) as V1Meta[]).sort((a, b) => (a.id < b.id ? -1 : 1));
  const feeds = new Map(metas.map((meta, i) => [meta.id, { n: i + 1, migration: new FeedMigration(meta, i + 1) }]));
  const records = tx.objectStore(RECORDS);
  // Keys [id, seq] come in feed order, then sequence order: what FeedMigration needs.
  for (let cursor = await tx.objectStore(V1_ENVELOPES).openCursor(); cursor; cursor = await cursor.continue()) {
    const [id, seq] = cursor.key as [string, number];
    const feed = feeds.get(id);
    if (!feed) continue; // no meta record: unreachable, not carried over
    const record = feed.migration.record(seq, cursor.value as V1Envelope);
    void records.put(recordValue(record), [feed.n, seq]).catch(() => {});
  }
  for (const { migration } of feeds.values()) {
    const meta = migration.meta();
    void tx.objectStore(FEEDS).put(meta, meta.id).catch(() => {});
  }
  void tx.objectStore(COUNTERS).put(metas.length + 1, FEED_NUMBER).catch(() => {});
  db.deleteObjectStore(V1_ENVELOPES);
}

const recordRange = (n: number, from: number, to: number) => IDBKeyRange.bound([n, from], [n, to]);
const MAX_KEY_SEQ = Number.MAX_SAFE_INTEGER;
const HASH_LENGTH = 32;
const recordValue = (record: EnvelopeRecord): Uint8Array => concatBytes(record.hash, record.value);

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

  async open(): Promise<{ metas: MetaRecord[]; nextNumber: number }> {
    let failure: unknown;
    const db = await openDB(this.#name, STORE_SCHEMA_VERSION, {
      upgrade(database, oldVersion, newVersion, transaction) {
        const target = newVersion ?? STORE_SCHEMA_VERSION;
        const run = async () => {
          for (let version = oldVersion + 1; version <= target; version++) {
            const migrate = MIGRATIONS[version];
            if (!migrate) throw new UnsupportedStoreVersionError(version);
            await migrate(database, transaction);
          }
        };
        // A failed migration aborts the version change: the database stays as it was.
        run().catch((error: unknown) => {
          failure = error;
          transaction.done.catch(() => {}); // the open request reports the abort
          try {
            transaction.abort();
          } catch {
            // already finished
          }
        });
      },
    }).catch((error: unknown) => {
      if (failure !== undefined) throw failure;
      // A database written by a newer version refuses to open at a lower version.
      if ((error as { name?: string })?.name === 'VersionError') throw new UnsupportedStoreVersionError('newer than ' + STORE_SCHEMA_VERSION);
      throw error;
    });
    this.#db = db;
    const tx = db.transaction([FEEDS, COUNTERS], 'readonly');
    const [metas, next] = await Promise.all([tx.objectStore(FEEDS).getAll(), tx.objectStore(COUNTERS).get(FEED_NUMBER)]);
    return { metas: metas as MetaRecord[], nextNumber: (next as number | undefined) ?? 1 };
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = null;
  }

  async putMeta(meta: MetaRecord): Promise<void> {
    await this.#open.put(FEEDS, meta, meta.id);
  }

  async addFeed(meta: MetaRecord): Promise<void> {
    const tx = this.#open.transaction([FEEDS, COUNTERS], 'readwrite');
    void tx.objectStore(FEEDS).put(meta, meta.id).catch(() => {});
    void tx.objectStore(COUNTERS).put(meta.n + 1, FEED_NUMBER).catch(() => {});
    await tx.done;
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

  async append(meta: MetaRecord, records: readonly EnvelopeRecord[], beforeCommit: BeforeCommit): Promise<void> {
    await this.#transact(
      [FEEDS, RECORDS],
      (tx) => {
        const store = tx.objectStore(RECORDS);
        for (const record of records) void store.put(recordValue(record), [meta.n, record.seq]).catch(() => {});
        void tx.objectStore(FEEDS).put(meta, meta.id).catch(() => {});
      },
      beforeCommit,
      'append',
    );
  }

  async scan(meta: MetaRecord, from: number, limit: number, visit: RecordVisitor): Promise<void> {
    const tx = this.#open.transaction(RECORDS, 'readonly');
    try {
      let cursor = await tx.store.openCursor(recordRange(meta.n, from, MAX_KEY_SEQ));
      for (let seen = 0; cursor && seen < limit; seen++) {
        const stored = cursor.value as Uint8Array;
        const record = { seq: (cursor.key as [number, number])[1], hash: stored.subarray(0, HASH_LENGTH), value: stored.subarray(HASH_LENGTH) };
        if (!visit(record)) break;
        cursor = await cursor.continue();
      }
    } finally {
      await tx.done.catch(() => {});
    }
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

  async deleteEnvelopes(meta: MetaRecord, throughSeq: number, rewrite: EnvelopeRecord | null, beforeCommit: BeforeCommit): Promise<void> {
    await this.#transact(
      [FEEDS, RECORDS],
      (tx) => {
        void tx.objectStore(RECORDS).delete(recordRange(meta.n, 0, throughSeq)).catch(() => {});
        if (rewrite) void tx.objectStore(RECORDS).put(recordValue(rewrite), [meta.n, rewrite.seq]).catch(() => {});
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

  async deleteFeed(meta: MetaRecord): Promise<void> {
    const tx = this.#open.transaction(ALL, 'readwrite');
    void tx.objectStore(RECORDS).delete(recordRange(meta.n, 0, MAX_KEY_SEQ)).catch(() => {});
    void tx.objectStore(FORKS).delete(IDBKeyRange.bound([meta.id, 0], [meta.id, MAX_KEY_SEQ])).catch(() => {});
    void tx.objectStore(SNAPSHOTS).delete(meta.id).catch(() => {});
    void tx.objectStore(FEEDS).delete(meta.id).catch(() => {});
    await tx.done;
  }
}

export class IdbFeedStore extends BackendFeedStore {
  /** `name`: the IndexedDB database name (one per profile/engine). */
  constructor(name: string, options: FeedStoreOptions = {}) {
    super(new IdbBackend(name), options);
  }
}
