/**
 * FeedStore on disk for the always-on node (Node only: not exported from lib/store/index.ts so
 * browser bundles never see it). Backed by LevelDB through classic-level: every write is one
 * WriteBatch (all its records and the feed's meta record), which LevelDB applies atomically
 * through its write-ahead log — a crash or a full disk leaves the batch wholly applied or not at
 * all. Writes to the person's own feeds are synced to disk before they resolve.
 *
 * Keys (UTF-8; feed ids never contain U+0000):
 *   "schema"                       STORE_SCHEMA_VERSION (CBOR)
 *   "n"                            the number the next new feed gets (CBOR)
 *   "f\0" id                       MetaRecord (CBOR)
 *   "r" n "\0" seq                 hash (32) ‖ value (compact.ts); n in base 36, seq as
 *                                  its base-36 digit count (one base-36 digit) then the digits,
 *                                  so keys sort by sequence
 *   "s\0" id                       { seq, hash, bytes } (CBOR)
 *   "k\0" id "\0" index(8 hex)     { seq, first, second, detectedAt } (CBOR)
 *
 * Schema 1 kept "e\0" id "\0" seq(16 hex) → hash ‖ prev ‖ envelope bytes; opening it converts
 * one feed per batch (its records and its meta record together), then writes "schema" 2, so an
 * interrupted migration resumes where it stopped (migrate.ts).
 */
import { mkdir } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import { decode, encode } from 'cborg';
import { concatBytes } from '../util/bytes.ts';
import type { BeforeCommit, EnvelopeRecord, MetaRecord, RecordVisitor, StoreBackend } from './backend.ts';
import { STORE_SCHEMA_VERSION } from './constants.ts';
import { UnsupportedStoreVersionError } from './errors.ts';
import { FeedMigration } from './migrate.ts';
import type { V1Meta } from './migrate.ts';
import { BackendFeedStore } from './store.ts';
import type { FeedStoreOptions } from './store.ts';
import type { ForkRecord, StoredSnapshot } from './types.ts';

const SCHEMA_KEY = 'schema';
const FEED_NUMBER_KEY = 'n';
const SEP = '\u0000';
const AFTER_SEP = '\u0001';
const HASH_LENGTH = 32;
const metaKey = (id: string) => `f${SEP}${id}`;
/** A whole number as its digit count and its digits, base 36: shorter numbers sort first. */
const sortable = (value: number) => {
  const digits = value.toString(36);
  return digits.length.toString(36) + digits;
};
const recordPrefix = (n: number) => `r${n.toString(36)}${SEP}`;
const recordEnd = (n: number) => `r${n.toString(36)}${AFTER_SEP}`;
const recordKey = (n: number, seq: number) => recordPrefix(n) + sortable(seq);
const seqOfKey = (key: string) => parseInt(key.slice(key.indexOf(SEP) + 2), 36);
const snapshotKey = (id: string) => `s${SEP}${id}`;
const forkPrefix = (id: string) => `k${SEP}${id}${SEP}`;
const forkKey = (id: string, index: number) => forkPrefix(id) + index.toString(16).padStart(8, '0');
const v1EnvelopePrefix = (id: string) => `e${SEP}${id}${SEP}`;

type Db = ClassicLevel<string, Uint8Array>;
type Batch = ReturnType<Db['batch']>;

const plain = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const cbor = (value: unknown): Uint8Array => encode(value);
const uncbor = <T>(value: Uint8Array): T => decode(plain(value)) as T;
const recordValue = (record: EnvelopeRecord): Uint8Array => concatBytes(record.hash, record.value);

async function readMetas(db: Db): Promise<MetaRecord[]> {
  const metas: MetaRecord[] = [];
  for await (const value of db.values({ gt: metaKey(''), lt: `f${AFTER_SEP}` })) metas.push(uncbor<MetaRecord>(value));
  return metas;
}

/**
 * Schema 1 → 2, one feed per atomic batch: its records re-keyed and compacted, the old ones
 * deleted, its meta record numbered (v 2 marks it done). Then the schema key.
 */
async function toSchema2(db: Db): Promise<void> {
  const metas = (await readMetas(db)) as Array<MetaRecord | V1Meta>;
  let next = Math.max(0, ...metas.map((m) => ('n' in m && m.v === 2 ? m.n : 0))) + 1;
  for (const meta of metas.filter((m) => m.v === 1).sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const migration = new FeedMigration(meta, next);
    const batch = db.batch();
    for await (const [key, value] of db.iterator({ gt: v1EnvelopePrefix(meta.id), lt: `e${SEP}${meta.id}${AFTER_SEP}` })) {
      const v = plain(value);
      const seq = parseInt(key.slice(key.lastIndexOf(SEP) + 1), 16);
      const record = migration.record(seq, { hash: v.slice(0, 32), prev: v.slice(32, 64), bytes: v.slice(64) });
      batch.put(recordKey(next, seq), recordValue(record));
      batch.del(key);
    }
    batch.put(metaKey(meta.id), cbor(migration.meta()));
    batch.put(FEED_NUMBER_KEY, cbor(next + 1));
    await batch.write({ sync: true });
    next++;
  }
  await db.put(SCHEMA_KEY, cbor(2), { sync: true });
}

class FileBackend implements StoreBackend {
  readonly #path: string;
  #db: Db | null = null;

  constructor(path: string) {
    this.#path = path;
  }

  get #open(): Db {
    if (!this.#db) throw new Error('file feed store is closed');
    return this.#db;
  }

  async open(): Promise<{ metas: MetaRecord[]; nextNumber: number }> {
    await mkdir(this.#path, { recursive: true });
    const db: Db = new ClassicLevel<string, Uint8Array>(this.#path, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    try {
      const stored = await db.get(SCHEMA_KEY);
      const schema = stored === undefined ? STORE_SCHEMA_VERSION : uncbor<number>(stored);
      if (stored === undefined) await db.put(SCHEMA_KEY, cbor(STORE_SCHEMA_VERSION), { sync: true });
      else if (schema === 1) await toSchema2(db);
      else if (schema !== STORE_SCHEMA_VERSION) throw new UnsupportedStoreVersionError(schema);
      const next = await db.get(FEED_NUMBER_KEY);
      const metas = await readMetas(db);
      this.#db = db;
      return { metas, nextNumber: next === undefined ? 1 : uncbor<number>(next) };
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = null;
    await db?.close();
  }

  async putMeta(meta: MetaRecord): Promise<void> {
    await this.#open.put(metaKey(meta.id), cbor(meta), { sync: meta.ownership === 'own' });
  }

  async addFeed(meta: MetaRecord): Promise<void> {
    await this.#open.batch().put(metaKey(meta.id), cbor(meta)).put(FEED_NUMBER_KEY, cbor(meta.n + 1)).write({ sync: true });
  }

  /** Stages puts/deletes in one WriteBatch, calls the failure hook between them, writes atomically. */
  async #batch(meta: MetaRecord, stage: (batch: Batch) => void, beforeCommit: BeforeCommit, operation: string): Promise<void> {
    const batch = this.#open.batch();
    try {
      stage(batch);
      beforeCommit(operation); // a failure "between writes": the records are staged, the meta is not
      batch.put(metaKey(meta.id), cbor(meta));
    } catch (error) {
      await batch.close();
      throw error;
    }
    await batch.write({ sync: meta.ownership === 'own' });
  }

  async append(meta: MetaRecord, records: readonly EnvelopeRecord[], beforeCommit: BeforeCommit): Promise<void> {
    await this.#batch(meta, (batch) => {
      for (const record of records) batch.put(recordKey(meta.n, record.seq), recordValue(record));
    }, beforeCommit, 'append');
  }

  async scan(meta: MetaRecord, from: number, limit: number, visit: RecordVisitor): Promise<void> {
    const iterator = this.#open.iterator({ gte: recordKey(meta.n, from), lt: recordEnd(meta.n), limit: Number.isFinite(limit) ? limit : -1 });
    try {
      for await (const [key, value] of iterator) {
        const v = plain(value);
        if (!visit({ seq: seqOfKey(key), hash: v.subarray(0, HASH_LENGTH), value: v.subarray(HASH_LENGTH) })) break;
      }
    } finally {
      await iterator.close();
    }
  }

  async putSnapshot(meta: MetaRecord, snapshot: StoredSnapshot, beforeCommit: BeforeCommit): Promise<void> {
    await this.#batch(meta, (batch) => {
      batch.put(snapshotKey(meta.id), cbor({ seq: snapshot.seq, hash: snapshot.hash, bytes: snapshot.bytes }));
    }, beforeCommit, 'snapshot');
  }

  async getSnapshot(id: string): Promise<StoredSnapshot | undefined> {
    const value = await this.#open.get(snapshotKey(id));
    return value === undefined ? undefined : uncbor<StoredSnapshot>(value);
  }

  async deleteEnvelopes(meta: MetaRecord, throughSeq: number, rewrite: EnvelopeRecord | null, beforeCommit: BeforeCommit): Promise<void> {
    const keys: string[] = [];
    for await (const key of this.#open.keys({ gte: recordPrefix(meta.n), lte: recordKey(meta.n, throughSeq) })) keys.push(key);
    await this.#batch(meta, (batch) => {
      for (const key of keys) batch.del(key);
      if (rewrite) batch.put(recordKey(meta.n, rewrite.seq), recordValue(rewrite));
    }, beforeCommit, 'prune');
  }

  async putFork(meta: MetaRecord, fork: ForkRecord, index: number, beforeCommit: BeforeCommit): Promise<void> {
    await this.#batch(meta, (batch) => {
      batch.put(forkKey(meta.id, index), cbor({ ...fork }));
    }, beforeCommit, 'fork');
  }

  async getForks(id: string): Promise<ForkRecord[]> {
    const out: ForkRecord[] = [];
    for await (const value of this.#open.values({ gt: forkPrefix(id), lt: `k${SEP}${id}${AFTER_SEP}` })) out.push(uncbor<ForkRecord>(value));
    return out;
  }

  async deleteFeed(meta: MetaRecord): Promise<void> {
    const db = this.#open;
    const batch = db.batch();
    for await (const key of db.keys({ gte: recordPrefix(meta.n), lt: recordEnd(meta.n) })) batch.del(key);
    for await (const key of db.keys({ gt: forkPrefix(meta.id), lt: `k${SEP}${meta.id}${AFTER_SEP}` })) batch.del(key);
    batch.del(snapshotKey(meta.id));
    batch.del(metaKey(meta.id));
    await batch.write({ sync: true });
  }
}

export class FileFeedStore extends BackendFeedStore {
  /** `path`: a directory of its own (created if missing); one process opens it at a time. */
  constructor(path: string, options: FeedStoreOptions = {}) {
    super(new FileBackend(path), options);
  }
}
