import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createSigningKey, encodePublicKey, generateKeyPair } from '../identity/index.ts';
import { MemoryFeedStore } from '../store/index.ts';
import { createMemoryLogger } from '../util/log.ts';
import { expectCode } from '../util/test-errors.ts';
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
});
