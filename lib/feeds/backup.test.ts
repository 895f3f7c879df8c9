import 'fake-indexeddb/auto';
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import { createSigningKey, generateKeyPair } from '../identity/index.ts';
import { IdbFeedStore, MemoryFeedStore } from '../store/index.ts';
import type { FeedStore } from '../store/index.ts';
import { createFeed, exportBackup, importBackup } from './index.ts';
import type { FeedSigner } from './index.ts';

async function signer(): Promise<FeedSigner> {
  return createSigningKey((await generateKeyPair()).secretKey);
}

async function started<T extends FeedStore>(store: T): Promise<T> {
  await store.start();
  return store;
}

/** A store with two own feeds (one compacted) and one cached feed of someone else. */
async function populated() {
  const store = await started(new MemoryFeedStore());
  const me = await signer();
  const other = await signer();
  const posts = createFeed({ store, author: me.publicKey, name: 'posts', signer: me });
  const likes = createFeed({ store, author: me.publicKey, name: 'likes', signer: me });
  const theirs = createFeed({ store, author: other.publicKey, name: 'posts', signer: other, ownership: 'cached' });
  for (const feed of [posts, likes, theirs]) await feed.start();
  for (let i = 0; i < 6; i++) await posts.transact((doc) => doc.getMap('m').set(`p${i}`, i));
  await posts.createSnapshot({ prune: true });
  await posts.transact((doc) => doc.getMap('m').set('after', true));
  for (let i = 0; i < 3; i++) await likes.transact((doc) => doc.getArray('l').push([i]));
  await likes.createSnapshot(); // full history and a snapshot
  await theirs.transact((doc) => doc.getMap('m').set('x', 1));
  return { store, me, posts, likes, theirs };
}

describe('backup of own feeds', () => {
  for (const target of ['memory', 'IndexedDB'] as const) {
    it(`exports own feeds only and imports them back, verified, into ${target}`, async () => {
      const { store, me, posts, likes } = await populated();
      const backup = await exportBackup(store);
      const fresh = await started(target === 'memory' ? new MemoryFeedStore() : new IdbFeedStore(`backup-${crypto.randomUUID()}`));
      const result = await importBackup(fresh, backup);
      expect(result).toMatchObject({ feeds: 2, refused: [], skipped: 0 });
      expect(result.envelopes).toBe(1 + 3);
      expect(result.snapshots).toBe(2);
      const ids = (await fresh.feeds()).map((f) => [f.id, f.ownership]).sort();
      expect(ids).toEqual([posts.id, likes.id].sort().map((id) => [id, 'own']));
      for (const original of [posts, likes]) {
        const restored = createFeed({ store: fresh, author: me.publicKey, name: original.name, signer: me });
        await restored.start();
        expect(restored.head()).toEqual(original.head());
        expect(restored.doc!.getMap('m').toJSON()).toEqual(original.doc!.getMap('m').toJSON());
        expect(restored.doc!.getArray('l').toJSON()).toEqual(original.doc!.getArray('l').toJSON());
        // And the person can keep writing where they left off.
        await restored.transact((doc) => doc.getMap('m').set('restored', 1));
        expect(restored.head()!.seq).toBe(original.head()!.seq + 1);
      }
      // Importing the same backup again changes nothing.
      const again = await importBackup(fresh, backup);
      expect(again.refused).toEqual([]);
      expect(again.envelopes).toBe(0);
    });
  }

  it('verifies every envelope on import: a tampered one is refused and nothing after it is stored', async () => {
    const { store, likes } = await populated();
    const backup = decode(await exportBackup(store, { feedIds: [likes.id] })) as [number, string, number, Array<[Uint8Array, string, Uint8Array, Uint8Array[]]>];
    const entry = backup[3][0]!;
    const second = Uint8Array.from(entry[3][1]!);
    second[second.length - 5]! ^= 0x01; // inside the signature
    entry[3][1] = second;
    entry[2] = new Uint8Array(0); // no snapshot to jump over the gap
    const fresh = await started(new MemoryFeedStore());
    const result = await importBackup(fresh, encode(backup, rfc8949EncodeOptions));
    expect(result.refused.map((r) => r.code)).toEqual(['BAD_ENVELOPE_SIGNATURE']);
    expect(result.envelopes).toBe(1);
    expect((await fresh.feed(likes.id))?.head?.seq).toBe(1);
  });

  it('refuses a file that is not a backup with MALFORMED_BACKUP', async () => {
    const store = await started(new MemoryFeedStore());
    for (const bad of [utf8('not cbor at all'), encode([1, 'feed-envelope', 0, []]), encode([2, 'feed-backup', 0, []]), encode([1, 'feed-backup', 0, [[1, 2]]])]) {
      const error = await importBackup(store, bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(P2pbError);
      expect((error as P2pbError).code).toBe('MALFORMED_BACKUP');
    }
    expect(await store.feeds()).toEqual([]);
  });

  it('is deterministic for the same store and time', async () => {
    const { store } = await populated();
    const a = await exportBackup(store, { now: () => 1 });
    const b = await exportBackup(store, { now: () => 1 });
    expect(toHex(a)).toBe(toHex(b));
  });
});
