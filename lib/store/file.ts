/**
 * FeedStore on disk for the always-on node (Node only: not exported from lib/store/index.ts so
 * browser bundles never see it). Backed by LevelDB through classic-level: every write is one
 * WriteBatch (all its records and the feed's meta record), which LevelDB applies atomically
 * through its write-ahead log — a crash or a full disk leaves the batch wholly applied or not at
 * all. Writes to the person's own feeds are synced to disk before they resolve.
 *
 * Keys (UTF-8; feed ids never contain U+0000):
 *   "schema"                       STORE_SCHEMA_VERSION (CBOR)
 *   "f\0" id                       MetaRecord (CBOR)
 *   "e\0" id "\0" seq(16 hex)      hash(32) ‖ prev(32) ‖ envelope bytes
 *   "s\0" id                       { seq, hash, bytes } (CBOR)
 *   "k\0" id "\0" index(8 hex)     { seq, first, second, detectedAt } (CBOR)
 */
import { mkdir } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import { decode, encode } from 'cborg';
import type { BeforeCommit, MetaRecord, StoreBackend } from './backend.ts';
import { STORE_SCHEMA_VERSION } from './constants.ts';
import { UnsupportedStoreVersionError } from './errors.ts';
import { BackendFeedStore } from './store.ts';
import type { FeedStoreOptions } from './store.ts';
import type { ForkRecord, StoredEnvelope, StoredSnapshot } from './types.ts';

const SCHEMA_KEY = 'schema';
const SEP = '\u0000';
const AFTER_SEP = '\u0001';
const metaKey = (id: string) => `f${SEP}${id}`;
const envelopePrefix = (id: string) => `e${SEP}${id}${SEP}`;
const seqHex = (seq: number) => seq.toString(16).padStart(16, '0');
const envelopeKey = (id: string, seq: number) => envelopePrefix(id) + seqHex(seq);
const snapshotKey = (id: string) => `s${SEP}${id}`;
const forkPrefix = (id: string) => `k${SEP}${id}${SEP}`;
const forkKey = (id: string, index: number) => forkPrefix(id) + index.toString(16).padStart(8, '0');

type Db = ClassicLevel<string, Uint8Array>;

const plain = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function packEnvelope(e: StoredEnvelope): Uint8Array {
  const out = new Uint8Array(64 + e.bytes.length);
  out.set(e.hash, 0);
  out.set(e.prev, 32);
  out.set(e.bytes, 64);
  return out;
}

function unpackEnvelope(key: string, value: Uint8Array): StoredEnvelope {
  const v = plain(value);
  return {
    seq: parseInt(key.slice(key.lastIndexOf(SEP) + 1), 16),
    hash: v.slice(0, 32),
    prev: v.slice(32, 64),
    bytes: v.slice(64),
  };
}

const cbor = (value: unknown): Uint8Array => encode(value);
const uncbor = <T>(value: Uint8Array): T => decode(plain(value)) as T;

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

  async open(): Promise<MetaRecord[]> {
    await mkdir(this.#path, { recursive: true });
    const db: Db = new ClassicLevel<string, Uint8Array>(this.#path, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    try {
      const schema = await db.get(SCHEMA_KEY);
      if (schema === undefined) {
        await db.put(SCHEMA_KEY, cbor(STORE_SCHEMA_VERSION), { sync: true });
      } else if (uncbor<number>(schema) !== STORE_SCHEMA_VERSION) {
        throw new UnsupportedStoreVersionError(uncbor<number>(schema));
      }
      const metas: MetaRecord[] = [];
      for await (const value of db.values({ gt: metaKey(''), lt: `f${AFTER_SEP}` })) metas.push(uncbor<MetaRecord>(value));
      this.#db = db;
      return metas;
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

  /** Stages puts/deletes in one WriteBatch, calls the failure hook between them, writes atomically. */
  async #batch(meta: MetaRecord, stage: (batch: ReturnType<Db['batch']>) => void, beforeCommit: BeforeCommit, operation: string): Promise<void> {
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

  async append(meta: MetaRecord, entries: readonly StoredEnvelope[], beforeCommit: BeforeCommit): Promise<void> {
    await this.#batch(meta, (batch) => {
      for (const e of entries) batch.put(envelopeKey(meta.id, e.seq), packEnvelope(e));
    }, beforeCommit, 'append');
  }

  async get(id: string, seq: number): Promise<StoredEnvelope | undefined> {
    const key = envelopeKey(id, seq);
    const value = await this.#open.get(key);
    return value === undefined ? undefined : unpackEnvelope(key, value);
  }

  async range(id: string, after: number, limit: number, maxBytes: number): Promise<StoredEnvelope[]> {
    const out: StoredEnvelope[] = [];
    let bytes = 0;
    const iterator = this.#open.iterator({ gt: envelopeKey(id, after), lt: `e${SEP}${id}${AFTER_SEP}`, limit });
    try {
      for await (const [key, value] of iterator) {
        const size = value.byteLength - 64;
        if (out.length > 0 && bytes + size > maxBytes) break;
        bytes += size;
        out.push(unpackEnvelope(key, value));
      }
    } finally {
      await iterator.close();
    }
    return out;
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

  async deleteEnvelopes(meta: MetaRecord, throughSeq: number, beforeCommit: BeforeCommit): Promise<void> {
    const keys: string[] = [];
    for await (const key of this.#open.keys({ gte: envelopeKey(meta.id, 0), lte: envelopeKey(meta.id, throughSeq) })) keys.push(key);
    await this.#batch(meta, (batch) => {
      for (const key of keys) batch.del(key);
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

  async deleteFeed(id: string): Promise<void> {
    const db = this.#open;
    const batch = db.batch();
    for await (const key of db.keys({ gt: envelopePrefix(id), lt: `e${SEP}${id}${AFTER_SEP}` })) batch.del(key);
    for await (const key of db.keys({ gt: forkPrefix(id), lt: `k${SEP}${id}${AFTER_SEP}` })) batch.del(key);
    batch.del(snapshotKey(id));
    batch.del(metaKey(id));
    await batch.write({ sync: true });
  }
}

export class FileFeedStore extends BackendFeedStore {
  /** `path`: a directory of its own (created if missing); one process opens it at a time. */
  constructor(path: string, options: FeedStoreOptions = {}) {
    super(new FileBackend(path), options);
  }
}
