import { encode, rfc8949EncodeOptions } from 'cborg';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { fromHex, toHex, utf8 } from '../util/bytes.ts';
import { CONTEXTS, createSigningKey, generateKeyPair, sign } from '../identity/index.ts';
import { MemoryFeedStore } from '../store/index.ts';
import { expectCode } from '../util/test-errors.ts';
import { FEED_ERROR_CODES, MAX_ENVELOPE_BYTES, ZERO_HASH, compactRun, createEnvelope, createFeed, envelopeLayout, openRun } from './index.ts';
import type { EnvelopeRun, EnvelopeRunEntry, Feed } from './index.ts';
import vectors from './test-vectors.json' with { type: 'json' };
import { mulberry32 as prng } from '../util/prng.ts';

const ALICE_SEED = fromHex(vectors.keys[0]!.seed);
const alice = await createSigningKey(ALICE_SEED);
const [v1, v2] = vectors.envelopes as [(typeof vectors.envelopes)[0], (typeof vectors.envelopes)[0]];
const layout = envelopeLayout(alice.publicKey, 'social/posts');
const vectorRun = (): EnvelopeRun => compactRun([fromHex(v1.encoded), fromHex(v2.encoded)]);

/** What openRun made of each entry: the envelope's bytes (hex) or the refusal's code. */
async function outcomes(run: EnvelopeRun, on = layout): Promise<string[]> {
  return (await openRun(on, run)).map((r) => (r.ok ? toHex(r.value.bytes) : r.error.code));
}

const withEntry = (run: EnvelopeRun, index: number, patch: Partial<Record<keyof EnvelopeRunEntry, unknown>>): EnvelopeRun => ({
  ...run,
  entries: run.entries.map((e, i) => (i === index ? ({ ...e, ...patch } as EnvelopeRunEntry) : e)),
});
const flip = (bytes: Uint8Array, at: number): Uint8Array => bytes.map((b, i) => (i === at ? b ^ 1 : b));

describe('compact runs', () => {
  it('carry what the run does not imply, and rebuild the vector envelopes byte for byte', async () => {
    const run = vectorRun();
    expect({ seq: run.seq, prev: toHex(run.prev) }).toEqual({ seq: 1, prev: v1.prev });
    expect(run.entries.map((e) => [e.timestamp, toHex(e.update), toHex(e.signature)])).toEqual([
      [v1.timestamp, v1.update, v1.signature],
      [v2.timestamp, v2.update, v2.signature],
    ]);
    const opened = await openRun(layout, run);
    expect(opened.map((r) => r.ok && [toHex(r.value.bytes), toHex(r.value.hash), r.value.feedId, r.value.seq])).toEqual([
      [v1.encoded, v1.hash, `${vectors.keys[0]!.publicKeyText}/social/posts`, 1],
      [v2.encoded, v2.hash, `${vectors.keys[0]!.publicKeyText}/social/posts`, 2],
    ]);
    // A run may start anywhere: its first prev says what it follows.
    const later = compactRun([fromHex(v2.encoded)]);
    expect(toHex(later.prev)).toBe(v1.hash);
    expect(await outcomes(later)).toEqual([v2.encoded]);
  });

  it('refuses every tampered or misplaced entry with a named code', async () => {
    const run = vectorRun();
    const [e1, e2] = run.entries as [EnvelopeRunEntry, EnvelopeRunEntry];
    const BAD = 'BAD_ENVELOPE_SIGNATURE';
    const FIELD = 'INVALID_FEED_FIELD';
    const cases: Array<[string, EnvelopeRun, string[]]> = [
      // The signature covers what the receiver rebuilt: any change makes bytes the author never signed…
      ['a timestamp changed', withEntry(run, 0, { timestamp: v1.timestamp + 1 }), [BAD, BAD]],
      ['an update byte changed', withEntry(run, 1, { update: flip(e2.update, 5) }), [v1.encoded, BAD]],
      ['a signature byte changed', withEntry(run, 0, { signature: flip(e1.signature, 63) }), [BAD, BAD]],
      ['a wrong first prev', { ...run, seq: 2, prev: ZERO_HASH, entries: [e2] }, [BAD]],
      ['the run shifted by one sequence', { ...run, seq: 2, prev: fromHex(v1.hash) }, [BAD, BAD]],
      ['entries swapped', { ...run, entries: [e2, e1] }, [BAD, BAD]],
      ['the first entry dropped', { ...run, entries: [e2] }, [BAD]],
      ['an entry repeated', { ...run, entries: [e1, e1, e2] }, [v1.encoded, BAD, BAD]],
      // …and the fields must pass the rules an envelope's do; what follows an entry that cannot be
      // rebuilt has no known prev.
      ['envelope 1 with a non-zero prev', { ...run, prev: fromHex(v1.hash) }, [FIELD, FIELD]],
      ['sequence 0', { ...run, seq: 0 }, [FIELD, FIELD]],
      ['a 63-byte signature', withEntry(run, 0, { signature: e1.signature.slice(1) }), [FIELD, FIELD]],
      ['a negative timestamp', withEntry(run, 0, { timestamp: -1 }), [FIELD, FIELD]],
      ['a timestamp past 2^53', withEntry(run, 1, { timestamp: 2 ** 53 }), [v1.encoded, FIELD]],
      ['a text update', withEntry(run, 0, { update: 'hello' }), [FIELD, FIELD]],
      ['a missing entry', { ...run, entries: [undefined as unknown as EnvelopeRunEntry, e2] }, [FIELD, FIELD]],
      ['an update that cannot fit', withEntry(run, 0, { update: new Uint8Array(MAX_ENVELOPE_BYTES) }), ['ENVELOPE_TOO_LARGE', FIELD]],
    ];
    for (const [what, changed, expected] of cases) expect(await outcomes(changed), what).toEqual(expected);
    // Sent under another feed: rebuilt with that feed's author and name, so signed by nobody.
    const bob = await createSigningKey((await generateKeyPair()).secretKey);
    expect(await outcomes(run, envelopeLayout(alice.publicKey, 'social/other'))).toEqual([BAD, BAD]);
    expect(await outcomes(run, envelopeLayout(bob.publicKey, 'social/posts'))).toEqual([BAD, BAD]);
    await expectCode(() => openRun(layout, { ...run, entries: 'none' as unknown as EnvelopeRunEntry[] }), 'MALFORMED_ENVELOPE');
  });

  it('refuses a signed entry whose Yjs bytes do not parse with MALFORMED_UPDATE, after checking its signature', async () => {
    const update = utf8('not yjs');
    const items = [1, 'feed-envelope', alice.publicKey, 'social/posts', 1, ZERO_HASH, 5, update];
    const signature = await sign(ALICE_SEED, CONTEXTS.FEED_ENVELOPE, encode(items, rfc8949EncodeOptions));
    expect(await outcomes({ seq: 1, prev: ZERO_HASH, entries: [{ timestamp: 5, update, signature }] })).toEqual(['MALFORMED_UPDATE']);
  });

  it('compactRun takes consecutive envelopes of one feed only', async () => {
    await expectCode(() => compactRun([]), 'MALFORMED_ENVELOPE');
    await expectCode(() => compactRun([fromHex(v2.encoded), fromHex(v1.encoded)]), 'MALFORMED_ENVELOPE');
    await expectCode(() => compactRun([fromHex(v1.encoded), fromHex(v1.encoded)]), 'MALFORMED_ENVELOPE');
    await expectCode(() => compactRun([utf8('junk')]), 'MALFORMED_ENVELOPE');
    const other = await createEnvelope({ signer: alice, feedName: 'social/other', seq: 2, prev: fromHex(v1.hash), timestamp: 1, update: fromHex(v2.update) });
    await expectCode(() => compactRun([fromHex(v1.encoded), other.bytes]), 'MALFORMED_ENVELOPE');
  });
});

describe('a feed receiving runs', () => {
  async function writer(count: number): Promise<{ feed: Feed; envelopes: Uint8Array[] }> {
    const store = new MemoryFeedStore();
    await store.start();
    const feed = createFeed({ store, author: alice.publicKey, name: 'runs', signer: alice });
    await feed.start();
    for (let i = 0; i < count; i++) await feed.transact((doc) => doc.getText('t').insert(0, `${i};`));
    return { feed, envelopes: (await feed.pull(0, { limit: 1000 })).envelopes };
  }

  async function reader() {
    const store = new MemoryFeedStore();
    await store.start();
    const feed = createFeed({ store, author: alice.publicKey, name: 'runs' });
    await feed.start();
    const observe = async () => ({
      stored: (await store.range(feed.id, { after: 0, limit: 1000 })).map((e) => toHex(e.bytes)),
      head: feed.head(),
      text: feed.doc!.getText('t').toString(),
    });
    return { feed, observe };
  }

  it('stores exactly the envelopes the author signed, and ends equal to the writer', async () => {
    const { feed: source, envelopes } = await writer(12);
    const { feed, observe } = await reader();
    expect(await feed.receiveRun(compactRun(envelopes.slice(0, 5)))).toMatchObject({ appended: 5, refused: [] });
    expect(await feed.receiveRun(compactRun(envelopes.slice(5)))).toMatchObject({ appended: 7, refused: [] });
    const seen = await observe();
    expect(seen.stored).toEqual(envelopes.map(toHex));
    expect(seen.head).toEqual(source.head());
    expect(seen.text).toBe(source.doc!.getText('t').toString());
    // The same run again is a replay, not a refusal of the run's form.
    const again = await feed.receiveRun(compactRun(envelopes.slice(10)));
    expect(again.refused.map((r) => r.error.code)).toEqual(['REPLAYED_ENVELOPE', 'REPLAYED_ENVELOPE']);
  });

  it('a tampered run changes neither the store nor the document; the chain rules apply to what it rebuilds', async () => {
    const { envelopes } = await writer(6);
    const { feed, observe } = await reader();
    await feed.receiveRun(compactRun(envelopes.slice(0, 2)));
    const before = await observe();
    const run = compactRun(envelopes.slice(2));
    const tampered = withEntry(run, 0, { update: flip(run.entries[0]!.update, 3) });
    const result = await feed.receiveRun(tampered);
    expect(result.appended).toBe(0);
    expect(result.refused.map((r) => [r.index, r.error.code])).toEqual([0, 1, 2, 3].map((i) => [i, 'BAD_ENVELOPE_SIGNATURE']));
    expect(await observe()).toEqual(before);
    // A valid run that starts past the head is held until the gap fills, as whole envelopes are.
    expect(await feed.receiveRun(compactRun(envelopes.slice(4)))).toMatchObject({ appended: 0, held: 2, gapAfter: 2 });
    expect(await feed.receiveRun(compactRun(envelopes.slice(2, 4)))).toMatchObject({ appended: 4, held: 0, gapAfter: null });
  });
});

describe('a long run', () => {
  it('is stored and applied chunk by chunk, and a refusal past the first chunk keeps its index', async () => {
    const store = new MemoryFeedStore();
    await store.start();
    const source = createFeed({ store, author: alice.publicKey, name: 'long', signer: alice });
    await source.start();
    // One envelope per change: each published before the next (changes queued meanwhile would travel as one).
    for (let i = 0; i < 150; i++) await source.transact((doc) => doc.getText('t').insert(0, `${i};`));
    const envelopes = (await source.pull(0, { limit: 1000 })).envelopes;
    expect(envelopes.length).toBe(150);
    const readerStore = new MemoryFeedStore();
    await readerStore.start();
    const reader = createFeed({ store: readerStore, author: alice.publicKey, name: 'long' });
    await reader.start();
    const appends: number[] = [];
    const append = readerStore.append.bind(readerStore);
    readerStore.append = async (id, entries, options) => (appends.push(entries.length), append(id, entries, options));
    const run = compactRun(envelopes);
    const result = await reader.receiveRun(withEntry(run, 100, { timestamp: run.entries[100]!.timestamp + 1 }));
    expect(result.appended).toBe(100);
    expect(result.refused.map((r) => r.index)).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
    expect(new Set(result.refused.map((r) => r.error.code))).toEqual(new Set(['BAD_ENVELOPE_SIGNATURE']));
    expect(result.head?.seq).toBe(100);
    expect(appends).toEqual([64, 36]); // chunks of RUN_INGEST_CHUNK: one store write each
    expect(await reader.receiveRun(compactRun(envelopes.slice(100)))).toMatchObject({ appended: 50, refused: [] });
    expect(reader.doc!.getText('t').toString()).toBe(source.doc!.getText('t').toString());
  });
});

describe('fuzz', () => {
  it('a mutated run rebuilds only envelopes the author signed; everything else is a named refusal', { timeout: 60_000 }, async () => {
    const random = prng(20260104);
    const pick = (n: number) => Math.floor(random() * n);
    // Eight envelopes of one feed (Yjs updates of a text), compacted.
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 8; i++) doc.getText('t').insert(0, `edit ${i} `);
    const envelopes: Uint8Array[] = [];
    let prev = ZERO_HASH;
    for (let i = 0; i < updates.length; i++) {
      const e = await createEnvelope({ signer: alice, feedName: 'social/posts', seq: i + 1, prev, timestamp: 1_767_225_600_000 + i, update: updates[i]! });
      envelopes.push(e.bytes);
      prev = e.hash;
    }
    const original = new Map(envelopes.map((bytes, i) => [i + 1, toHex(bytes)]));
    const codes = new Map<string, number>();
    let accepted = 0;
    for (let round = 0; round < 600; round++) {
      const from = pick(4);
      const base = compactRun(envelopes.slice(from, from + 1 + pick(8 - from)));
      let entries = [...base.entries];
      let seq = base.seq;
      let first = base.prev;
      for (let k = 1 + pick(3); k > 0; k--) {
        const at = pick(entries.length);
        const e = entries[at]!;
        switch (pick(8)) {
          case 0: entries[at] = { ...e, update: flip(e.update, pick(e.update.length)) }; break;
          case 1: entries[at] = { ...e, signature: flip(e.signature, pick(64)) }; break;
          case 2: entries[at] = { ...e, timestamp: e.timestamp + 1 + pick(1000) }; break;
          case 3: seq += pick(2) === 0 ? 1 : -1; break;
          case 4: first = flip(first, pick(32)); break;
          case 5: entries.splice(at, 1); break;
          case 6: entries.splice(at, 0, e); break;
          default: entries = entries.reverse();
        }
        if (entries.length === 0) entries = [e];
      }
      const results = await openRun(layout, { seq, prev: first, entries });
      results.forEach((r, i) => {
        if (r.ok) {
          // Accepted means: byte for byte the envelope the author signed at that sequence.
          expect(toHex(r.value.bytes), `round ${round}, entry ${i}`).toBe(original.get(r.value.seq));
          accepted++;
        } else {
          expect(FEED_ERROR_CODES).toContain(r.error.code);
          codes.set(r.error.code, (codes.get(r.error.code) ?? 0) + 1);
        }
      });
    }
    expect(accepted).toBeGreaterThan(0);
    expect(codes.get('BAD_ENVELOPE_SIGNATURE')).toBeGreaterThan(0);
    expect(codes.get('INVALID_FEED_FIELD')).toBeGreaterThan(0);
  });
});
