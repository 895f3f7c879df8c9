import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createSigningKey, encodePublicKey, generateKeyPair } from '../identity/index.ts';
import { MemoryFeedStore } from '../store/index.ts';
import { createMemoryLogger } from '../util/log.ts';
import { expectCode } from '../util/test-errors.ts';
import { compactRun } from '../feeds/index.ts';
import { PULL_BATCH_BYTES } from './constants.ts';
import { FeedLibrary } from './library.ts';
import { textUpdate } from './test-support.ts';

describe('FeedLibrary', () => {
  it('a write refused for lack of space leaves neither the store nor the document changed, and the next write works', async () => {
    const { secretKey } = await generateKeyPair();
    const signer = await createSigningKey(secretKey);
    const author = encodePublicKey(signer.publicKey);
    const store = new MemoryFeedStore({ maxBytes: 64 * 1024 });
    await store.start();
    const library = new FeedLibrary({ store, log: createMemoryLogger(), signerFor: () => signer, keeps: () => true });
    const doc = new Y.Doc();
    await library.write(author, 'notes', textUpdate('kept;', doc));
    const big = textUpdate('x'.repeat(100 * 1024), doc);
    await expectCode(() => library.write(author, 'notes', big), 'STORAGE_FULL');
    expect(store.state().status).toBe('full');
    const feed = `${author}/notes`;
    expect((await library.head(feed))?.seq).toBe(1);
    const read = new Y.Doc();
    Y.applyUpdate(read, (await library.state(feed)).update);
    expect(read.getText('t').toString()).toBe('kept;');
    // A small write still fits, on top of what was kept.
    const small = new Y.Doc();
    Y.applyUpdate(small, (await library.state(feed)).update);
    await library.write(author, 'notes', textUpdate('more;', small));
    expect((await library.head(feed))?.seq).toBe(2);
    const after = new Y.Doc();
    Y.applyUpdate(after, (await library.state(feed)).update);
    expect(after.getText('t').toString()).toBe('kept;more;');
    await library.close();
  });

  it('receives compact runs as sync sends them, and refuses a tampered one leaving store and document unchanged', async () => {
    const { secretKey } = await generateKeyPair();
    const signer = await createSigningKey(secretKey);
    const author = encodePublicKey(signer.publicKey);
    const feed = `${author}/notes`;
    const start = async (own: boolean) => {
      const store = new MemoryFeedStore();
      await store.start();
      return new FeedLibrary({ store, log: createMemoryLogger(), signerFor: () => (own ? signer : undefined), keeps: () => own });
    };
    const writer = await start(true);
    const doc = new Y.Doc();
    for (const text of ['one;', 'two;', 'three;']) await writer.write(author, 'notes', textUpdate(text, doc));
    const served = await writer.pull(feed, 0, 256);
    const reader = await start(false);
    const first = await reader.receive(feed, { snapshot: null, run: compactRun(served.envelopes.slice(0, 1)) });
    expect(first).toMatchObject({ appended: 1, refused: [] });

    const run = compactRun(served.envelopes.slice(1));
    const entries = run.entries.map((e, i) => (i === 0 ? { ...e, timestamp: e.timestamp + 1 } : e));
    const refused = await reader.receive(feed, { snapshot: null, run: { ...run, entries } });
    expect(refused.appended).toBe(0);
    expect(refused.refused.map((e) => e.code)).toEqual(['BAD_ENVELOPE_SIGNATURE', 'BAD_ENVELOPE_SIGNATURE']);
    expect((await reader.head(feed))?.seq).toBe(1);
    expect((await reader.doc(feed)).getText('t').toString()).toBe('one;');

    expect(await reader.receive(feed, { snapshot: null, run })).toMatchObject({ appended: 2, refused: [] });
    expect((await reader.doc(feed)).getText('t').toString()).toBe('one;two;three;');
    // What the reader stored (and would re-serve) is what the author signed, byte for byte.
    expect((await reader.pull(feed, 0, 256)).envelopes).toEqual(served.envelopes);
    await writer.close();
    await reader.close();
  });

  it('serves a pull in one bounded batch: at most PULL_BATCH_BYTES of envelopes (always at least one)', async () => {
    const { secretKey } = await generateKeyPair();
    const signer = await createSigningKey(secretKey);
    const author = encodePublicKey(signer.publicKey);
    const store = new MemoryFeedStore();
    await store.start();
    const library = new FeedLibrary({ store, log: createMemoryLogger(), signerFor: () => signer, keeps: () => true });
    const doc = new Y.Doc();
    const big = 900 * 1024; // three envelopes of ~0.9 MiB: two fit in 2 MiB, three do not
    for (const c of ['a', 'b', 'c']) await library.write(author, 'big', textUpdate(c.repeat(big), doc));
    const feed = `${author}/big`;
    const first = await library.pull(feed, 0, 256);
    expect(first.envelopes.length).toBe(2);
    expect(first.envelopes.reduce((n, e) => n + e.length, 0)).toBeLessThanOrEqual(PULL_BATCH_BYTES);
    expect((await library.pull(feed, 2, 256)).envelopes.length).toBe(1);
    await library.close();
  });
});
