import 'fake-indexeddb/auto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { decode, encode } from 'cborg';
import { openDB } from 'idb';
import { afterAll, describe, expect, it } from 'vitest';
import { createFeed } from '../feeds/index.ts';
import { concatBytes, utf8 } from '../util/bytes.ts';
import { NAME, author, codeOf, fakeChain, runFeedStoreTests, signedChain, signedFeedId } from './acceptance.ts';
import { MAX_RANGE_ENVELOPES, RECORD_OVERHEAD_BYTES } from './constants.ts';
import type { V1Meta } from './migrate.ts';
import type { FeedStore, ForkRecord, StoredEnvelope, StoredSnapshot } from './types.ts';
import { FileFeedStore } from './file.ts';
import { IdbFeedStore } from './idb.ts';
import { MemoryFeedStore, createMemoryBacking } from './memory.ts';
import type { FeedStoreOptions } from './store.ts';

runFeedStoreTests('memory', async (options) => {
  const backing = createMemoryBacking();
  const store = new MemoryFeedStore({ ...options, backing });
  return {
    store,
    async reopen() {
      await store.stop();
      return new MemoryFeedStore({ ...options, faults: undefined, backing });
    },
  };
});

// The same suite on IndexedDB through fake-indexeddb in Node (the e2e suite covers a real browser).
runFeedStoreTests('IndexedDB', async (options) => {
  const name = `feeds-${crypto.randomUUID()}`;
  const store = new IdbFeedStore(name, options);
  return {
    store,
    async reopen() {
      await store.stop();
      return new IdbFeedStore(name, { ...options, faults: undefined });
    },
  };
});

const root = await mkdtemp(join(tmpdir(), 'p2pb-feed-store-'));
afterAll(() => rm(root, { recursive: true, force: true }));

runFeedStoreTests('file (LevelDB)', async (options: FeedStoreOptions) => {
  const path = join(root, crypto.randomUUID());
  const store = new FileFeedStore(path, options);
  return {
    store,
    async reopen() {
      await store.stop();
      return new FileFeedStore(path, { ...options, faults: undefined });
    },
  };
});

// ---------------------------------------------------------------------------------------------
// What the acceptance suite cannot say for every backend alike: damage on disk, and schema 1.

describe('a damaged stored envelope', () => {
  async function storedFeed() {
    const backing = createMemoryBacking();
    const store = new MemoryFeedStore({ backing });
    await store.start();
    const id = await signedFeedId();
    await store.ensureFeed(id, { ownership: 'own' });
    const chain = await signedChain(6);
    await store.append(id, chain);
    const records = backing.feeds.get(id)!.records;
    return { backing, store, id, chain, records };
  }

  it('is reported as STORE_CORRUPTED by get and range instead of read back as other bytes', async () => {
    const { store, id, chain, records } = await storedFeed();
    const value = records[3]!.value; // envelope 4: tag, signature, timestamp, update
    value[value.length - 1]! ^= 1;
    expect(await codeOf(() => store.get(id, 4))).toBe('STORE_CORRUPTED');
    expect(await codeOf(() => store.range(id, { after: 0 }))).toBe('STORE_CORRUPTED');
    // Its neighbours read as they were: 5 takes its prev from 4's stored hash.
    expect((await store.get(id, 5))?.bytes).toEqual(chain[4]!.bytes);
    expect((await store.range(id, { after: 0, limit: 3 })).map((e) => e.seq)).toEqual([1, 2, 3]);
    records[1]!.value[0] = 0x7f; // an unknown tag
    expect(await codeOf(() => store.get(id, 2))).toBe('STORE_CORRUPTED');
    records[5] = { ...records[5]!, value: records[5]!.value.subarray(0, 40) }; // cut short
    expect(await codeOf(() => store.get(id, 6))).toBe('STORE_CORRUPTED');
  });

  it('is reported when a record that names no prev lost the record before it', async () => {
    const { store, id, records } = await storedFeed();
    records.splice(2, 1); // envelope 3 gone, envelope 4 still names it by position
    expect(await codeOf(() => store.get(id, 4))).toBe('STORE_CORRUPTED');
  });

  it('stops Feed.start with STORE_CORRUPTED rather than load other updates', async () => {
    const { backing, store, id, records } = await storedFeed();
    records[2]!.value[70]! ^= 0x40; // inside envelope 3's signature/timestamp
    await store.stop();
    const again = new MemoryFeedStore({ backing });
    await again.start();
    const feed = createFeed({ store: again, author: (await author).publicKey, name: NAME });
    expect(feed.id).toBe(id);
    expect(await codeOf(() => feed.start())).toBe('STORE_CORRUPTED');
  });
});

/** A schema 1 feed as the code before schema 2 wrote it: meta without a number, envelopes whole, accounted at + 96. */
interface V1Feed {
  meta: V1Meta;
  envelopes: StoredEnvelope[];
  snapshot: StoredSnapshot | undefined;
  forks: ForkRecord[];
}

/** What `store` holds, in schema 1's form. */
async function asSchema1(store: FeedStore): Promise<V1Feed[]> {
  const out: V1Feed[] = [];
  for (const info of await store.feeds()) {
    const envelopes = await store.range(info.id, { after: 0, limit: MAX_RANGE_ENVELOPES });
    const snapshot = await store.snapshot(info.id);
    const forks = await store.forks(info.id);
    const snapshotBytes = snapshot ? snapshot.bytes.length + RECORD_OVERHEAD_BYTES : 0;
    let bytes = snapshotBytes;
    for (const e of envelopes) bytes += e.bytes.length + 96;
    for (const f of forks) bytes += f.first.length + f.second.length + RECORD_OVERHEAD_BYTES;
    const meta: V1Meta = {
      v: 1,
      id: info.id,
      ownership: info.ownership,
      headSeq: info.head?.seq ?? 0,
      headHash: info.head?.hash ?? null,
      snapshotSeq: info.snapshotSeq ?? 0,
      snapshotBytes,
      firstSeq: info.firstSeq ?? 0,
      lastSeq: envelopes.at(-1)?.seq ?? 0,
      count: info.envelopes,
      bytes,
      forks: info.forks,
      lastUsed: info.lastUsed,
    };
    out.push({ meta, envelopes, snapshot, forks });
  }
  return out;
}

/** A tiny schema 1 writer for IndexedDB: database version 1, its four object stores. */
async function writeSchema1Idb(name: string, feeds: readonly V1Feed[]): Promise<void> {
  const stores = ['feeds', 'envelopes', 'snapshots', 'forks'];
  const db = await openDB(name, 1, { upgrade: (d) => stores.forEach((s) => d.createObjectStore(s)) });
  const tx = db.transaction(stores, 'readwrite');
  for (const { meta, envelopes, snapshot, forks } of feeds) {
    void tx.objectStore('feeds').put(meta, meta.id);
    for (const e of envelopes) void tx.objectStore('envelopes').put({ hash: e.hash, prev: e.prev, bytes: e.bytes }, [meta.id, e.seq]);
    if (snapshot) void tx.objectStore('snapshots').put(snapshot, meta.id);
    forks.forEach((f, i) => void tx.objectStore('forks').put(f, [meta.id, i]));
  }
  await tx.done;
  db.close();
}

/** A tiny schema 1 writer for LevelDB: its keys and values. */
async function writeSchema1Level(path: string, feeds: readonly V1Feed[]): Promise<void> {
  const db = new ClassicLevel<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  const batch = db.batch().put('schema', encode(1));
  for (const { meta, envelopes, snapshot, forks } of feeds) {
    batch.put(`f\0${meta.id}`, encode(meta));
    for (const e of envelopes) batch.put(`e\0${meta.id}\0${e.seq.toString(16).padStart(16, '0')}`, concatBytes(e.hash, e.prev, e.bytes));
    if (snapshot) batch.put(`s\0${meta.id}`, encode(snapshot));
    forks.forEach((f, i) => batch.put(`k\0${meta.id}\0${i.toString(16).padStart(8, '0')}`, encode(f)));
  }
  await batch.write();
  await db.close();
}

/**
 * Feeds of every shape, through the API: signed envelopes pruned below a snapshot (A), fake
 * ones with fork evidence (B), signed ones past a snapshot the head jumped to (C), none (D).
 */
async function schema1Scene(): Promise<{ store: MemoryFeedStore; ids: string[]; chains: Map<string, StoredEnvelope[]> }> {
  const store = new MemoryFeedStore();
  await store.start();
  const [A, C] = [await signedFeedId(), await signedFeedId('social/other')];
  const [B, D] = ['z6MkBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB/fake', 'z6MkDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD/empty'];
  const a = await signedChain(12);
  const b = fakeChain(B, 3);
  const c = await signedChain(10, { name: 'social/other' });
  await store.ensureFeed(A, { ownership: 'own' });
  await store.append(A, a.slice(0, 10));
  await store.putSnapshot(A, { seq: 4, hash: a[3]!.hash, bytes: utf8('A@4') });
  await store.prune(A, 4);
  await store.ensureFeed(B, { ownership: 'cached' });
  await store.append(B, b);
  await store.addFork(B, { seq: 2, first: b[1]!.bytes, second: utf8('other 2'), detectedAt: 5 });
  await store.ensureFeed(C, { ownership: 'cached' });
  await store.append(C, c.slice(0, 3));
  await store.putSnapshot(C, { seq: 8, hash: c[7]!.hash, bytes: utf8('C@8') });
  await store.append(C, c.slice(8, 10));
  await store.ensureFeed(D, { ownership: 'own' });
  return { store, ids: [A, B, C, D], chains: new Map([[A, a], [C, c]]) };
}

/** Everything a store says about its feeds, in a comparable form (the LRU clock aside). */
async function everything(store: FeedStore, ids: readonly string[]) {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  return Promise.all(
    ids.map(async (id) => {
      const { lastUsed: _, ...info } = (await store.feed(id))!;
      const envelopes = (await store.range(id, { after: 0 })).map((e) => [e.seq, hex(e.hash), hex(e.prev), hex(e.bytes)]);
      return { info, envelopes, snapshot: await store.snapshot(id), forks: await store.forks(id) };
    }),
  );
}

describe('schema 1 → 2', () => {
  async function checkMigrated(migrated: FeedStore, scene: Awaited<ReturnType<typeof schema1Scene>>) {
    await migrated.start();
    expect(await everything(migrated, scene.ids)).toEqual(await everything(scene.store, scene.ids));
    expect(migrated.state()).toMatchObject({ ownBytes: scene.store.state().ownBytes, cachedBytes: scene.store.state().cachedBytes });
    // It goes on as any schema 2 store: the chain continues, new feeds get numbers of their own.
    const [A, , , D] = scene.ids as [string, string, string, string];
    const a = scene.chains.get(A)!;
    await migrated.append(A, a.slice(10));
    await migrated.append(D, fakeChain(D, 2));
    await migrated.ensureFeed('z6MkEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE/new', { ownership: 'own' });
    await migrated.append('z6MkEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE/new', fakeChain('E', 2));
    expect((await migrated.range(A, { after: 0 })).map((e) => e.bytes)).toEqual(a.slice(4).map((e) => e.bytes));
    expect((await migrated.range(D, { after: 0 })).length).toBe(2);
    await migrated.stop();
  }

  it('IndexedDB: converts every record and meta record in the upgrade transaction', async () => {
    const scene = await schema1Scene();
    const name = `feeds-v1-${crypto.randomUUID()}`;
    await writeSchema1Idb(name, await asSchema1(scene.store));
    await checkMigrated(new IdbFeedStore(name), scene);
    const db = await openDB(name);
    expect([...db.objectStoreNames].sort()).toEqual(['counters', 'feeds', 'forks', 'records', 'snapshots']);
    expect(((await db.getAll('feeds')) as Array<{ v: number; n: number }>).map((m) => [m.v, m.n]).sort()).toEqual([[2, 1], [2, 2], [2, 3], [2, 4], [2, 5]]);
    db.close();
  });

  it('IndexedDB: a migration that fails leaves the schema 1 database as it was', async () => {
    const scene = await schema1Scene();
    const feeds = await asSchema1(scene.store);
    const name = `feeds-v1-${crypto.randomUUID()}`;
    await writeSchema1Idb(name, feeds);
    const broken = await openDB(name, 1);
    await broken.put('envelopes', 'not a record', [feeds[0]!.meta.id, 99]);
    broken.close();
    expect(await codeOf(() => new IdbFeedStore(name).start())).toBe('STORE_FAILED');
    const db = await openDB(name);
    expect(db.version).toBe(1);
    expect([...db.objectStoreNames].sort()).toEqual(['envelopes', 'feeds', 'forks', 'snapshots']);
    expect(((await db.getAll('feeds')) as V1Meta[]).map((m) => m.v)).toEqual([1, 1, 1, 1]);
    db.close();
  });

  it('LevelDB: converts one feed per batch and resumes an interrupted migration', async () => {
    const scene = await schema1Scene();
    const feeds = await asSchema1(scene.store);
    const path = join(root, crypto.randomUUID());
    await writeSchema1Level(path, feeds);
    // Interrupted after the first feed's batch: that feed as schema 2 wrote it, the rest still schema 1.
    const first = feeds.sort((x, y) => (x.meta.id < y.meta.id ? -1 : 1))[0]!;
    const alone = join(root, crypto.randomUUID());
    await writeSchema1Level(alone, [first]);
    const once = new FileFeedStore(alone);
    await once.start();
    await once.stop();
    const [db, done] = [new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' }), new ClassicLevel<string, Uint8Array>(alone, { valueEncoding: 'view' })];
    await Promise.all([db.open(), done.open()]);
    for await (const key of db.keys({ gte: `e\0${first.meta.id}\0`, lt: `e\0${first.meta.id}\u0001` })) await db.del(key);
    for await (const [key, value] of done.iterator()) if (key !== 'schema') await db.put(key, value);
    expect(decode((await db.get('schema'))!)).toBe(1);
    await Promise.all([db.close(), done.close()]);

    await checkMigrated(new FileFeedStore(path), scene);
    const after = new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' });
    await after.open();
    expect(decode((await after.get('schema'))!)).toBe(2);
    expect(await after.keys({ gte: 'e\0', lt: 'e\u0001' }).all()).toEqual([]);
    await after.close();
  });

  it('refuses a layout newer than 2 with UNSUPPORTED_STORE_VERSION on every backend', async () => {
    const name = `feeds-v3-${crypto.randomUUID()}`;
    (await openDB(name, 3)).close();
    expect(await codeOf(() => new IdbFeedStore(name).start())).toBe('UNSUPPORTED_STORE_VERSION');
    const path = join(root, crypto.randomUUID());
    const db = new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' });
    await db.put('schema', encode(3));
    await db.close();
    expect(await codeOf(() => new FileFeedStore(path).start())).toBe('UNSUPPORTED_STORE_VERSION');
    const backing = createMemoryBacking();
    const store = new MemoryFeedStore({ backing });
    await store.start();
    await store.ensureFeed('z6MkAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/x', { ownership: 'own' });
    await store.stop();
    backing.feeds.get('z6MkAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/x')!.meta.v = 3;
    expect(await codeOf(() => new MemoryFeedStore({ backing }).start())).toBe('UNSUPPORTED_STORE_VERSION');
  });
});
