import { encode, rfc8949EncodeOptions } from 'cborg';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { concatBytes, toHex, utf8 } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import { CONTEXTS, createSigningKey, generateKeyPair, sign } from '../identity/index.ts';
import { MemoryFeedStore } from '../store/index.ts';
import type { FeedStore } from '../store/index.ts';
import {
  MAX_ENVELOPE_BYTES,
  MAX_UPDATE_BYTES,
  ZERO_HASH,
  createEnvelope,
  createFeed,
  createSnapshot,
  decodeEnvelope,
  pullFeed,
} from './index.ts';
import type { Feed, FeedForkEvent, FeedSigner } from './index.ts';

interface Author {
  seed: Uint8Array;
  signer: FeedSigner;
  publicKey: Uint8Array;
}

async function newAuthor(): Promise<Author> {
  const { secretKey } = await generateKeyPair();
  const signer = await createSigningKey(secretKey);
  return { seed: secretKey, signer, publicKey: signer.publicKey };
}

async function openWriter(author: Author, store?: FeedStore, name = 'notes'): Promise<Feed> {
  const feed = createFeed({ store: store ?? (await startedStore()), author: author.publicKey, name, signer: author.signer });
  await feed.start();
  return feed;
}

async function openReader(author: Author, store?: FeedStore, name = 'notes', extra: { maxHeldEnvelopes?: number } = {}): Promise<Feed> {
  const feed = createFeed({ store: store ?? (await startedStore()), author: author.publicKey, name, ...extra });
  await feed.start();
  return feed;
}

async function startedStore(options: ConstructorParameters<typeof MemoryFeedStore>[0] = {}): Promise<MemoryFeedStore> {
  const store = new MemoryFeedStore(options);
  await store.start();
  return store;
}

/** Every envelope a feed's store holds, in order. */
async function envelopesOf(feed: Feed): Promise<Uint8Array[]> {
  return (await feed.pull(0, { limit: 1000 })).envelopes;
}

async function write(feed: Feed, key: string, value: unknown): Promise<void> {
  await feed.transact((doc) => doc.getMap('m').set(key, value));
}

/** Everything observable about a reader: store records, head, document state. */
async function observe(feed: Feed, store: FeedStore) {
  const { lastUsed: _, ...info } = (await store.feed(feed.id))!; // the LRU clock moves on reads
  return {
    info,
    envelopes: (await store.range(feed.id, { after: 0, limit: 1000 })).map((e) => toHex(e.bytes)),
    forks: (await store.forks(feed.id)).length,
    head: feed.head(),
    state: toHex(Y.encodeStateAsUpdate(feed.doc!)),
    json: JSON.stringify(feed.doc!.getMap('m').toJSON()),
  };
}

async function codeOf(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(P2pbError);
    return (error as P2pbError).code;
  }
  throw new Error('expected a refusal');
}

/** Signs arbitrary envelope items with the author's key: validly signed, otherwise whatever we like. */
async function craft(author: Author, fields: { name?: string; seq: number; prev: Uint8Array; update: Uint8Array; timestamp?: number }): Promise<Uint8Array> {
  const items = [1, 'feed-envelope', author.publicKey, fields.name ?? 'notes', fields.seq, fields.prev, fields.timestamp ?? 1, fields.update];
  const unsigned = encode(items, rfc8949EncodeOptions);
  return encode([...items, await sign(author.seed, CONTEXTS.FEED_ENVELOPE, unsigned)], rfc8949EncodeOptions);
}

/** A valid update on top of nothing in particular (a fresh doc's change). */
function someUpdate(key: string, value: unknown): Uint8Array {
  const doc = new Y.Doc();
  doc.getMap('m').set(key, value);
  return Y.encodeStateAsUpdate(doc);
}

describe('writing', () => {
  it('turns each local transaction into one signed envelope chained to the one before', async () => {
    const alice = await newAuthor();
    const feed = await openWriter(alice);
    const announced: number[] = [];
    feed.addEventListener('envelope', (event) => announced.push((event as CustomEvent).detail.seq));
    await write(feed, 'a', 1);
    await feed.transact((doc) => {
      doc.getMap('m').set('b', 2);
      doc.getMap('m').set('c', 3);
    });
    await write(feed, 'a', 4);
    const envelopes = await Promise.all((await envelopesOf(feed)).map((bytes) => decodeEnvelope(bytes)));
    expect(envelopes.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(announced).toEqual([1, 2, 3]);
    expect(envelopes[0]!.prev).toEqual(ZERO_HASH);
    expect(envelopes[1]!.prev).toEqual(envelopes[0]!.hash);
    expect(envelopes[2]!.prev).toEqual(envelopes[1]!.hash);
    expect(feed.head()).toEqual({ seq: 3, hash: envelopes[2]!.hash });
    expect(feed.ownership).toBe('own');
    // Edits straight on the doc (as an editor binding makes them) are published too.
    feed.doc!.getMap('m').set('d', 5);
    await feed.flush();
    expect(feed.head()?.seq).toBe(4);
  });

  it('publishes changes made while an envelope is being signed as one envelope, and a reader ends equal', async () => {
    const alice = await newAuthor();
    // A signer that waits for the test: the first change is in flight while ten more are made.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let signatures = 0;
    const slow: FeedSigner = { publicKey: alice.publicKey, sign: async (context, message) => (signatures++ === 0 && (await gate), alice.signer.sign(context, message)) };
    const feed = createFeed({ store: await startedStore(), author: alice.publicKey, name: 'notes', signer: slow });
    await feed.start();
    const text = feed.doc!.getText('t');
    text.insert(0, 'a'); // a keystroke: published at once
    await expect.poll(() => signatures).toBe(1);
    for (const key of 'bcdefghijk') text.insert(text.length, key); // typed while it is signed
    release();
    await feed.flush();
    const envelopes = await Promise.all((await envelopesOf(feed)).map((bytes) => decodeEnvelope(bytes)));
    expect(envelopes.map((e) => e.seq)).toEqual([1, 2]);
    const reader = await openReader(alice);
    for (const e of await envelopesOf(feed)) await reader.receive(e);
    expect(reader.doc!.getText('t').toString()).toBe('abcdefghijk');

    // Never past the envelope limit: two changes that do not fit one update stay two envelopes.
    const big = 'x'.repeat(Math.floor(MAX_UPDATE_BYTES * 0.6));
    feed.doc!.getMap('m').set('one', big);
    feed.doc!.getMap('m').set('two', big);
    await feed.flush();
    expect(feed.head()?.seq).toBe(4);
  });

  it('asks only the signer interface to sign, with the feed-envelope context, and never holds a key', async () => {
    const alice = await newAuthor();
    const contexts: string[] = [];
    const vault: FeedSigner = {
      publicKey: alice.publicKey,
      sign: async (context, message) => {
        contexts.push(context);
        return alice.signer.sign(context, message);
      },
    };
    const feed = createFeed({ store: await startedStore(), author: alice.publicKey, name: 'notes', signer: vault });
    await feed.start();
    await write(feed, 'x', 1);
    await feed.createSnapshot();
    expect(contexts).toEqual([CONTEXTS.FEED_ENVELOPE, CONTEXTS.FEED_SNAPSHOT]);
    const bob = await newAuthor();
    expect(() => createFeed({ store: new MemoryFeedStore(), author: alice.publicKey, name: 'notes', signer: bob.signer })).toThrow(
      expect.objectContaining({ code: 'SIGNER_MISMATCH' }),
    );
  });

  it('refuses local writes to a feed it cannot sign with FEED_NOT_WRITABLE', async () => {
    const alice = await newAuthor();
    const reader = await openReader(alice);
    expect(await codeOf(() => reader.transact((doc) => doc.getMap('m').set('x', 1)))).toBe('FEED_NOT_WRITABLE');
    expect(reader.ownership).toBe('cached');
  });

  it('keeps a change pending when the store is full, reports it, and publishes the same envelope once there is room', async () => {
    const alice = await newAuthor();
    let quota = false;
    const store = await startedStore({
      faults: {
        beforeCommit: () => {
          if (quota) throw new DOMException('quota', 'QuotaExceededError');
        },
      },
    });
    let signatures = 0;
    const signer: FeedSigner = { publicKey: alice.publicKey, sign: (c, m) => (signatures++, alice.signer.sign(c, m)) };
    const feed = createFeed({ store, author: alice.publicKey, name: 'notes', signer });
    await feed.start();
    const errors: string[] = [];
    feed.addEventListener('error', (event) => errors.push((event as CustomEvent).detail.error.code));
    await write(feed, 'a', 1);
    quota = true;
    expect(await codeOf(() => write(feed, 'b', 2))).toBe('STORAGE_FULL');
    expect(errors).toEqual(['STORAGE_FULL']);
    expect(store.state().status).toBe('full');
    expect(feed.pendingChanges).toBe(1);
    expect((await store.feed(feed.id))?.envelopes).toBe(1);
    expect(signatures).toBe(1 + 1);
    quota = false;
    await feed.flush();
    expect(signatures).toBe(2); // the envelope signed before the failure was stored as it was: no second version of seq 2
    expect(feed.head()?.seq).toBe(2);
    expect(store.state().status).toBe('ok');
    const reader = await openReader(alice);
    await reader.receiveMany(await envelopesOf(feed));
    expect(reader.doc!.getMap('m').toJSON()).toEqual({ a: 1, b: 2 });
  });

  it('stops publishing after a transaction too large for one envelope, so readers never get changes that depend on it', async () => {
    const alice = await newAuthor();
    const feed = await openWriter(alice);
    await write(feed, 'small', 1);
    const errors: string[] = [];
    feed.addEventListener('error', (event) => errors.push((event as CustomEvent).detail.error.code));
    feed.doc!.getText('t').insert(0, 'x'.repeat(MAX_ENVELOPE_BYTES));
    expect(errors).toEqual(['ENVELOPE_TOO_LARGE']);
    expect(await codeOf(() => write(feed, 'after', 2))).toBe('ENVELOPE_TOO_LARGE');
    expect(feed.head()?.seq).toBe(1);
  });

  it('reloads its document from the store after a restart and continues the chain', async () => {
    const alice = await newAuthor();
    const store = await startedStore();
    const first = await openWriter(alice, store);
    for (let i = 0; i < 5; i++) await write(first, `k${i}`, i);
    await first.createSnapshot({ prune: true });
    await write(first, 'after', 'snapshot');
    await first.stop();
    const second = await openWriter(alice, store);
    expect(second.doc!.getMap('m').toJSON()).toEqual(first.doc!.getMap('m').toJSON());
    expect(second.head()).toEqual(first.head());
    await write(second, 'more', true);
    expect(second.head()?.seq).toBe(7);
    const reader = await openReader(alice);
    const pulled = await second.pull(0);
    expect(pulled.snapshot).not.toBeNull();
    await reader.receiveSnapshot(pulled.snapshot!);
    await reader.receiveMany(pulled.envelopes);
    expect(reader.doc!.getMap('m').toJSON()).toEqual(second.doc!.getMap('m').toJSON());
  });
});

describe('receiving', () => {
  it('applies received envelopes and ends equal to the writer', async () => {
    const alice = await newAuthor();
    const writer = await openWriter(alice);
    for (let i = 0; i < 10; i++) await write(writer, `k${i % 4}`, i);
    const reader = await openReader(alice);
    const result = await reader.receiveMany(await envelopesOf(writer));
    expect(result).toMatchObject({ appended: 10, held: 0, refused: [], gapAfter: null });
    expect(reader.doc!.getMap('m').toJSON()).toEqual(writer.doc!.getMap('m').toJSON());
    expect(Y.encodeStateVector(reader.doc!)).toEqual(Y.encodeStateVector(writer.doc!));
    expect(reader.head()).toEqual(writer.head());
  });

  describe('refuses bad envelopes with named codes, leaving store and document unchanged', async () => {
    const alice = await newAuthor();
    const mallory = await newAuthor();
    const writer = await openWriter(alice);
    await write(writer, 'a', 1);
    await write(writer, 'b', 2);
    const [e1, e2] = (await envelopesOf(writer)) as [Uint8Array, Uint8Array];
    const d1 = await decodeEnvelope(e1);
    const d2 = await decodeEnvelope(e2);
    await write(writer, 'c', 3);
    const e3 = (await envelopesOf(writer))[2]!;

    const cases: Array<[string, () => Promise<Uint8Array>, string]> = [
      [
        'forged (signed by another key, claiming the author)',
        async () => {
          const items = [1, 'feed-envelope', alice.publicKey, 'notes', 3, d2.hash, 1, someUpdate('evil', 1)];
          const unsigned = encode(items, rfc8949EncodeOptions);
          return encode([...items, await sign(mallory.seed, CONTEXTS.FEED_ENVELOPE, unsigned)], rfc8949EncodeOptions);
        },
        'BAD_ENVELOPE_SIGNATURE',
      ],
      ['replayed (already held)', async () => e2, 'REPLAYED_ENVELOPE'],
      ['replayed (older than the head)', async () => e1, 'REPLAYED_ENVELOPE'],
      ['truncated', async () => e3.slice(0, e3.length - 10), 'MALFORMED_ENVELOPE'],
      ['oversized', async () => concatBytes(e3, new Uint8Array(MAX_ENVELOPE_BYTES)), 'ENVELOPE_TOO_LARGE'],
      ['out of chain (next sequence, wrong prev)', () => craft(alice, { seq: 3, prev: d1.hash, update: someUpdate('x', 1) }), 'OUT_OF_CHAIN'],
      ['for another feed of the author', () => craft(alice, { name: 'other', seq: 3, prev: d2.hash, update: someUpdate('x', 1) }), 'WRONG_FEED'],
      [
        "for another author's feed",
        async () =>
          (await createEnvelope({ signer: mallory.signer, feedName: 'notes', seq: 3, prev: d2.hash, timestamp: 1, update: someUpdate('x', 1) })).bytes,
        'WRONG_FEED',
      ],
      ['with a malformed Yjs update inside a valid signature', () => craft(alice, { seq: 3, prev: d2.hash, update: utf8('{"not":"yjs"}') }), 'MALFORMED_UPDATE'],
      [
        'with a truncated Yjs update inside a valid signature',
        async () => {
          const update = (await decodeEnvelope(e3)).update;
          return craft(alice, { seq: 3, prev: d2.hash, update: update.slice(0, update.length - 2) });
        },
        'MALFORMED_UPDATE',
      ],
    ];

    for (const [what, make, code] of cases) {
      it(`${what}: ${code}`, async () => {
        const store = await startedStore();
        const reader = await openReader(alice, store);
        await reader.receiveMany([e1, e2]);
        const bytes = await make();
        const before = await observe(reader, store);
        expect(await codeOf(() => reader.receive(bytes))).toBe(code);
        expect(await observe(reader, store)).toEqual(before);
        // The batch path refuses it the same way.
        const batch = await reader.receiveMany([bytes]);
        expect(batch.refused.map((r) => r.error.code)).toEqual([code]);
        expect(await observe(reader, store)).toEqual(before);
        // …and the genuine next envelope still goes in.
        await reader.receive(e3);
        expect(reader.doc!.getMap('m').toJSON()).toEqual({ a: 1, b: 2, c: 3 });
      });
    }
  });

  it('holds early envelopes until the gap fills, then applies them in order', async () => {
    const alice = await newAuthor();
    const writer = await openWriter(alice);
    for (let i = 1; i <= 5; i++) await write(writer, `k${i}`, i);
    const [e1, e2, e3, e4, e5] = (await envelopesOf(writer)) as Uint8Array[];
    const reader = await openReader(alice);
    expect(await reader.receive(e4!)).toMatchObject({ status: 'held', seq: 4, head: null });
    expect(await reader.receive(e3!)).toMatchObject({ status: 'held', seq: 3 });
    expect(reader.gapAfter()).toBe(0);
    expect(await codeOf(() => reader.receive(e3!))).toBe('REPLAYED_ENVELOPE');
    expect(reader.doc!.getMap('m').toJSON()).toEqual({});
    expect(await reader.receive(e1!)).toMatchObject({ status: 'appended', seq: 1, released: 0 });
    expect(reader.gapAfter()).toBe(1);
    expect(await reader.receive(e2!)).toMatchObject({ status: 'appended', seq: 2, released: 2, head: { seq: 4 } });
    expect(reader.gapAfter()).toBeNull();
    const result = await reader.receiveMany([e5!]);
    expect(result.appended).toBe(1);
    expect(reader.doc!.getMap('m').toJSON()).toEqual(writer.doc!.getMap('m').toJSON());
  });

  it('bounds the out-of-order buffer: past it, early envelopes are refused with OUT_OF_CHAIN', async () => {
    const alice = await newAuthor();
    const writer = await openWriter(alice);
    for (let i = 1; i <= 4; i++) await write(writer, `k${i}`, i);
    const [e1, e2, e3, e4] = (await envelopesOf(writer)) as Uint8Array[];
    const reader = await openReader(alice, undefined, 'notes', { maxHeldEnvelopes: 1 });
    await reader.receive(e3!);
    const error = await reader.receive(e4!).catch((e: unknown) => e as P2pbError & { headSeq: number });
    expect(error).toMatchObject({ code: 'OUT_OF_CHAIN', headSeq: 0 });
    const result = await reader.receiveMany([e1!, e2!, e4!]);
    expect(result).toMatchObject({ appended: 4, refused: [] });
  });

  it('records a fork (two signed envelopes at one sequence), surfaces it, and never merges the second', async () => {
    const alice = await newAuthor();
    const e1 = await createEnvelope({ signer: alice.signer, feedName: 'notes', seq: 1, prev: ZERO_HASH, timestamp: 1, update: someUpdate('a', 1) });
    const twoA = await createEnvelope({ signer: alice.signer, feedName: 'notes', seq: 2, prev: e1.hash, timestamp: 2, update: someUpdate('b', 'A') });
    const twoB = await createEnvelope({ signer: alice.signer, feedName: 'notes', seq: 2, prev: e1.hash, timestamp: 2, update: someUpdate('b', 'B') });
    const store = await startedStore();
    const reader = await openReader(alice, store);
    const forks: FeedForkEvent[] = [];
    reader.addEventListener('fork', (event) => forks.push((event as CustomEvent<FeedForkEvent>).detail));
    await reader.receiveMany([e1.bytes, twoA.bytes]);
    const before = await observe(reader, store);
    const error = await reader.receive(twoB.bytes).catch((e: unknown) => e as P2pbError & { seq: number });
    expect(error).toMatchObject({ code: 'FORK_DETECTED', seq: 2 });
    expect(forks).toHaveLength(1);
    expect(forks[0]).toMatchObject({ feedId: reader.id, seq: 2 });
    const recorded = await reader.forks();
    expect(recorded).toHaveLength(1);
    expect(toHex(recorded[0]!.first)).toBe(toHex(twoA.bytes));
    expect(toHex(recorded[0]!.second)).toBe(toHex(twoB.bytes));
    const after = await observe(reader, store);
    expect({ ...after, info: undefined, forks: 0 }).toEqual({ ...before, info: undefined, forks: 0 });
    expect(reader.doc!.getMap('m').toJSON()).toEqual({ a: 1, b: 'A' });
    // The same pair again is recorded once; a fork among held envelopes is caught too.
    await reader.receive(twoB.bytes).catch(() => {});
    expect(await reader.forks()).toHaveLength(1);
    const fourA = await createEnvelope({ signer: alice.signer, feedName: 'notes', seq: 4, prev: twoA.hash, timestamp: 4, update: someUpdate('d', 1) });
    const fourB = await createEnvelope({ signer: alice.signer, feedName: 'notes', seq: 4, prev: twoA.hash, timestamp: 4, update: someUpdate('d', 2) });
    expect((await reader.receive(fourA.bytes)).status).toBe('held');
    expect(await codeOf(() => reader.receive(fourB.bytes))).toBe('FORK_DETECTED');
    expect((await reader.forks()).map((f) => f.seq)).toEqual([2, 4]);
    expect(forks).toHaveLength(2);
  });

  it('a caching feed with no document stores, verifies and re-serves what passes by', async () => {
    const alice = await newAuthor();
    const writer = await openWriter(alice);
    for (let i = 0; i < 3; i++) await write(writer, `k${i}`, i);
    const cacheStore = await startedStore();
    const cache = createFeed({ store: cacheStore, author: alice.publicKey, name: 'notes', doc: false });
    await cache.start();
    expect(cache.doc).toBeNull();
    await cache.receiveMany(await envelopesOf(writer));
    const served = await pullFeed(cacheStore, cache.id, 1);
    expect(served.envelopes.map(toHex)).toEqual((await envelopesOf(writer)).slice(1).map(toHex));
    expect(await codeOf(() => cache.receive(utf8('junk')))).toBe('MALFORMED_ENVELOPE');
  });
});

describe('snapshots', () => {
  it('let a new reader start from the snapshot and the envelopes after it, and end equal', async () => {
    const alice = await newAuthor();
    const writer = await openWriter(alice);
    for (let i = 0; i < 20; i++) await write(writer, `k${i % 7}`, i);
    await writer.createSnapshot({ prune: true });
    for (let i = 0; i < 3; i++) await write(writer, `late${i}`, i);
    const pulled = await writer.pull(0);
    expect(pulled.snapshot).not.toBeNull();
    expect(pulled.envelopes).toHaveLength(3);
    const reader = await openReader(alice);
    expect(await reader.receiveSnapshot(pulled.snapshot!)).toMatchObject({ status: 'applied', seq: 20 });
    await reader.receiveMany(pulled.envelopes);
    expect(reader.doc!.getMap('m').toJSON()).toEqual(writer.doc!.getMap('m').toJSON());
    expect(reader.head()).toEqual(writer.head());
    expect(await reader.receiveSnapshot(pulled.snapshot!)).toMatchObject({ status: 'ignored' });
  });

  it('a reader that holds the history checks the snapshot against it and keeps it for re-serving', async () => {
    const alice = await newAuthor();
    const writer = await openWriter(alice);
    for (let i = 0; i < 4; i++) await write(writer, `k${i}`, i);
    const all = await envelopesOf(writer);
    const snapshot = await writer.createSnapshot();
    await write(writer, 'k5', 5);
    const store = await startedStore();
    const reader = await openReader(alice, store);
    await reader.receiveMany(all);
    expect(await reader.receiveSnapshot(snapshot)).toMatchObject({ status: 'stored', seq: 4 });
    expect((await store.snapshot(reader.id))?.seq).toBe(4);
    expect(reader.doc!.getMap('m').toJSON()).toEqual({ k0: 0, k1: 1, k2: 2, k3: 3 });
  });

  it('a snapshot that binds another envelope than the one held is a fork', async () => {
    const alice = await newAuthor();
    const writer = await openWriter(alice);
    await write(writer, 'a', 1);
    await write(writer, 'b', 2);
    const [e1, e2] = (await envelopesOf(writer)) as [Uint8Array, Uint8Array];
    const reader = await openReader(alice);
    await reader.receiveMany([e1, e2]);
    const other = await createSnapshot({
      signer: alice.signer,
      feedName: 'notes',
      seq: 2,
      headHash: new Uint8Array(32).fill(7),
      timestamp: 1,
      state: someUpdate('z', 1),
    });
    expect(await codeOf(() => reader.receiveSnapshot(other.bytes))).toBe('FORK_DETECTED');
    const forks = await reader.forks();
    expect(forks).toHaveLength(1);
    expect(toHex(forks[0]!.first)).toBe(toHex(e2));
    expect(reader.doc!.getMap('m').toJSON()).toEqual({ a: 1, b: 2 });
  });

  it('refuses forged and wrong-feed snapshots', async () => {
    const alice = await newAuthor();
    const mallory = await newAuthor();
    const writer = await openWriter(alice);
    await write(writer, 'a', 1);
    const head = writer.head()!;
    const reader = await openReader(alice);
    const items = [1, 'feed-snapshot', alice.publicKey, 'notes', 1, head.hash, 1, someUpdate('evil', 1)];
    const unsigned = encode(items, rfc8949EncodeOptions);
    const forged = encode([...items, await sign(mallory.seed, CONTEXTS.FEED_SNAPSHOT, unsigned)], rfc8949EncodeOptions);
    expect(await codeOf(() => reader.receiveSnapshot(forged))).toBe('BAD_SNAPSHOT_SIGNATURE');
    // An envelope signature cannot pass as a snapshot signature.
    const crossed = encode([...items, await sign(alice.seed, CONTEXTS.FEED_ENVELOPE, unsigned)], rfc8949EncodeOptions);
    expect(await codeOf(() => reader.receiveSnapshot(crossed))).toBe('BAD_SNAPSHOT_SIGNATURE');
    const otherFeed = await createSnapshot({ signer: alice.signer, feedName: 'other', seq: 1, headHash: head.hash, timestamp: 1, state: someUpdate('x', 1) });
    expect(await codeOf(() => reader.receiveSnapshot(otherFeed.bytes))).toBe('WRONG_FEED');
    expect(reader.head()).toBeNull();
    expect(reader.doc!.getMap('m').toJSON()).toEqual({});
  });
});
