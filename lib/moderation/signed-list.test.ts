/**
 * A list is only as trustworthy as its feed: these tests publish a list through a real signed
 * feed (lib/feeds) and read it on another device, and show that changed bytes never reach the
 * list a subscriber reads.
 */
import { describe, expect, it } from 'vitest';
import { FEED_ERROR_CODES, createFeed } from '../feeds/index.ts';
import type { Feed } from '../feeds/index.ts';
import { createSigningKey, encodePublicKey, generateKeyPair } from '../identity/index.ts';
import { MemoryFeedStore } from '../store/index.ts';
import { P2pbError } from '../util/errors.ts';
import { putEntry, readList, removeEntry, writeListChanges } from './list.ts';
import { key } from './test-support.ts';
import { createEffectiveView } from './view.ts';

const FEED = 'moderation/lists/spam';
const M = key('Mark');
const N = key('Niaj');

async function curatorFeed() {
  const { secretKey } = await generateKeyPair();
  const signer = await createSigningKey(secretKey);
  const store = new MemoryFeedStore();
  await store.start();
  const feed = createFeed({ store, author: signer.publicKey, name: FEED, signer });
  await feed.start();
  return { feed, publicKey: signer.publicKey, ref: { curator: encodePublicKey(signer.publicKey), feed: FEED } };
}

async function subscriberFeed(author: Uint8Array): Promise<Feed> {
  const store = new MemoryFeedStore();
  await store.start();
  const feed = createFeed({ store, author, name: FEED });
  await feed.start();
  return feed;
}

async function refusal(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(P2pbError);
    return (error as P2pbError).code;
  }
  throw new Error('expected a refusal');
}

describe('signed lists', () => {
  it('a curator\'s list, published as signed envelopes, verifies and reads the same on a subscriber\'s device', async () => {
    const curator = await curatorFeed();
    await writeListChanges(curator.feed, [putEntry(M, 'block', 1, 'spam'), putEntry(N, 'block', 2)]);
    await writeListChanges(curator.feed, [removeEntry(N)]);
    const { envelopes } = await curator.feed.pull(0);
    expect(envelopes).toHaveLength(2); // one signed envelope per transaction

    const subscriber = await subscriberFeed(curator.publicKey);
    const received = await subscriber.receiveMany(envelopes);
    expect({ appended: received.appended, refused: received.refused }).toEqual({ appended: 2, refused: [] });
    const read = readList(subscriber.doc!, curator.ref);
    expect(read.refused).toBeNull();
    expect([...read.list.entries.values()]).toEqual([{ key: M, kind: 'block', ts: 1, reason: 'spam' }]);
    expect(createEffectiveView({ subscriptions: [read.list] }).explain(M).because).toMatchObject({ kind: 'list-block', list: curator.ref, note: 'spam' });
  });

  it('refuses a tampered envelope (any changed byte) with a feed error code, and the list stays as it was', async () => {
    const curator = await curatorFeed();
    await writeListChanges(curator.feed, [putEntry(M, 'trust', 1)]);
    await writeListChanges(curator.feed, [putEntry(M, 'block', 2, 'turned out to be spam')]);
    const [first, second] = (await curator.feed.pull(0)).envelopes as [Uint8Array, Uint8Array];

    const subscriber = await subscriberFeed(curator.publicKey);
    await subscriber.receive(first);
    const before = readList(subscriber.doc!, curator.ref).list;
    expect(before.entries.get(M)?.kind).toBe('trust');

    // Flip bytes across the whole envelope: header, author, name, chain, timestamp, the Yjs update, the signature.
    const codes = new Set<string>();
    for (let at = 0; at < second.length; at += 7) {
      const tampered = Uint8Array.from(second);
      tampered[at]! ^= 0x01;
      const code = await refusal(() => subscriber.receive(tampered));
      expect(FEED_ERROR_CODES as readonly string[]).toContain(code);
      codes.add(code);
    }
    // A change inside the signed update itself (the entry's kind) is a bad signature.
    const kindAt = Buffer.from(second).indexOf('block');
    expect(kindAt).toBeGreaterThan(0);
    const forged = Uint8Array.from(second);
    forged.set(new TextEncoder().encode('trust'), kindAt);
    expect(await refusal(() => subscriber.receive(forged))).toBe('BAD_ENVELOPE_SIGNATURE');
    expect(codes.has('BAD_ENVELOPE_SIGNATURE')).toBe(true);

    const after = readList(subscriber.doc!, curator.ref).list;
    expect([...after.entries.values()]).toEqual([...before.entries.values()]);
    // The genuine envelope still applies afterwards.
    await subscriber.receive(second);
    expect(readList(subscriber.doc!, curator.ref).list.entries.get(M)).toEqual({ key: M, kind: 'block', ts: 2, reason: 'turned out to be spam' });
  });

  it('refuses a list someone else signed in the curator\'s name (WRONG_FEED)', async () => {
    const curator = await curatorFeed();
    const impostor = await curatorFeed();
    await writeListChanges(impostor.feed, [putEntry(M, 'block', 1)]);
    const subscriber = await subscriberFeed(curator.publicKey);
    const [envelope] = (await impostor.feed.pull(0)).envelopes as [Uint8Array];
    expect(await refusal(() => subscriber.receive(envelope))).toBe('WRONG_FEED');
    expect(readList(subscriber.doc!, curator.ref).list.entries.size).toBe(0);
  });
});
