import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical } from '../util/cbor.ts';
import { fromHex, toHex } from '../util/bytes.ts';
import { expectCode } from '../util/test-errors.ts';
import { FEED_ERROR_CODES, envelopeLayout, openRun, parseFeedId } from '../feeds/index.ts';
import type { EnvelopeRun } from '../feeds/index.ts';
import feedVectors from '../feeds/test-vectors.json' with { type: 'json' };
import { MAX_PUSH_ENVELOPES, MAX_QUERY_ITEMS, MAX_SYNC_MESSAGE_BYTES, PULL_BATCH_ENVELOPES } from './constants.ts';
import { decodeSyncMessage, encodeSyncMessage } from './wire.ts';
import type { SyncMessage, SyncResponse } from './wire.ts';
import { P2pbError } from '../util/errors.ts';
import vectors from './test-vectors.json' with { type: 'json' };

const AUTHOR = 'z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';
const FEED = `${AUTHOR}/posts`;
const hash = new Uint8Array(32).fill(7);
const entry = (timestamp: number, update: number[]) => ({ timestamp, update: new Uint8Array(update), signature: new Uint8Array(64).fill(timestamp & 0xff) });
const run: EnvelopeRun = { seq: 5, prev: hash, entries: [entry(1_767_225_600_000, [9]), entry(1_767_225_600_001, [9, 9])] };

describe('sync wire', () => {
  const samples: Array<[SyncMessage, 'request' | 'response']> = [
    [{ t: 'heads', feeds: [FEED], authors: [] }, 'request'],
    [{ t: 'pull', feed: FEED, after: 3, limit: 10 }, 'request'],
    [{ t: 'subscribe', feeds: [], authors: [AUTHOR] }, 'request'],
    [{ t: 'delegate', delegation: new Uint8Array([1, 2, 3]) }, 'request'],
    [{ t: 'heads', heads: [{ feed: FEED, seq: 4, hash }] }, 'response'],
    [{ t: 'batch', feed: FEED, snapshot: null, run, head: { seq: 6, hash } }, 'response'],
    [{ t: 'batch', feed: FEED, snapshot: new Uint8Array([1]), run: null, head: { seq: 4, hash } }, 'response'],
    [{ t: 'batch', feed: FEED, snapshot: null, run: null, head: null }, 'response'],
    [{ t: 'push', feed: FEED, run }, 'response'],
    [{ t: 'ok' }, 'response'],
    [{ t: 'error', code: 'FEED_NOT_FOUND', message: 'nope' }, 'response'],
  ];

  it('round-trips every message type', () => {
    for (const [message, direction] of samples) {
      expect(decodeSyncMessage(encodeSyncMessage(message), direction)).toEqual(message);
    }
  });

  it('refuses bad messages with named errors', async () => {
    const raw = (value: unknown) => encodeCanonical(value);
    await expectCode(() => decodeSyncMessage(raw({ v: 2, t: 'gossip' }), 'request'), 'SYNC_UNKNOWN_MESSAGE');
    await expectCode(() => decodeSyncMessage(raw({ v: 2, t: 'push', feed: FEED, run: null }), 'request'), 'SYNC_UNKNOWN_MESSAGE');
    await expectCode(() => decodeSyncMessage(raw({ v: 1, t: 'ok' }), 'response'), 'SYNC_UNSUPPORTED_VERSION');
    await expectCode(() => decodeSyncMessage(raw({ v: 3, t: 'ok' }), 'response'), 'SYNC_UNSUPPORTED_VERSION');
    await expectCode(() => decodeSyncMessage(raw({ v: 2, t: 'ok', extra: 1 }), 'response'), 'SYNC_MALFORMED_MESSAGE');
    await expectCode(() => decodeSyncMessage(raw({ v: 2, t: 'pull', feed: 'not a feed', after: 0, limit: 1 }), 'request'), 'SYNC_MALFORMED_MESSAGE');
    await expectCode(() => decodeSyncMessage(raw({ v: 2, t: 'pull', feed: FEED, after: -1, limit: 1 }), 'request'), 'SYNC_MALFORMED_MESSAGE');
    await expectCode(() => decodeSyncMessage(raw({ v: 2, t: 'pull', feed: FEED, after: 0, limit: 100000 }), 'request'), 'SYNC_MALFORMED_MESSAGE');
    await expectCode(() => decodeSyncMessage(raw({ v: 2, t: 'heads', feeds: [], authors: [] }), 'request'), 'SYNC_MALFORMED_MESSAGE');
    await expectCode(
      () => decodeSyncMessage(raw({ v: 2, t: 'heads', feeds: Array(MAX_QUERY_ITEMS + 1).fill(FEED), authors: [] }), 'request'),
      'SYNC_MALFORMED_MESSAGE',
    );
    await expectCode(() => decodeSyncMessage(raw([1, 'ok']), 'response'), 'SYNC_MALFORMED_MESSAGE');
    await expectCode(() => decodeSyncMessage(new Uint8Array(MAX_SYNC_MESSAGE_BYTES + 1), 'request'), 'SYNC_MESSAGE_TOO_LARGE');
  });

  it('refuses malformed runs (shape and limits) with SYNC_MALFORMED_MESSAGE', async () => {
    const e = [1_767_225_600_000, new Uint8Array([1]), new Uint8Array(64)];
    const push = (value: unknown) => encodeCanonical({ v: 2, t: 'push', feed: FEED, run: value });
    const batch = (value: unknown) => encodeCanonical({ v: 2, t: 'batch', feed: FEED, snapshot: null, run: value, head: null });
    const bad: Array<[string, unknown]> = [
      ['not an array', 'run'],
      ['two elements', [1, hash]],
      ['sequence 0', [0, hash, [e]]],
      ['a negative sequence', [-1, hash, [e]]],
      ['a 31-byte prev', [1, hash.slice(1), [e]]],
      ['no entries', [1, hash, []]],
      ['entries not a list', [1, hash, e]],
      ['an entry of two', [1, hash, [e.slice(0, 2)]]],
      ['a text timestamp', [1, hash, [['now', e[1], e[2]]]]],
      ['a negative timestamp', [1, hash, [[-5, e[1], e[2]]]]],
      ['an empty update', [1, hash, [[e[0], new Uint8Array(0), e[2]]]]],
      ['a 63-byte signature', [1, hash, [[e[0], e[1], new Uint8Array(63)]]]],
      ['a text signature', [1, hash, [[e[0], e[1], 'sig']]]],
    ];
    for (const [what, value] of bad) {
      expect((await expectCode(() => decodeSyncMessage(push(value), 'response'), 'SYNC_MALFORMED_MESSAGE')).message, what).toMatch(/^run/);
      await expectCode(() => decodeSyncMessage(batch(value), 'response'), 'SYNC_MALFORMED_MESSAGE');
    }
    await expectCode(() => decodeSyncMessage(push(null), 'response'), 'SYNC_MALFORMED_MESSAGE'); // a push always has a run
    await expectCode(() => decodeSyncMessage(push([1, hash, Array(MAX_PUSH_ENVELOPES + 1).fill(e)]), 'response'), 'SYNC_MALFORMED_MESSAGE');
    await expectCode(() => decodeSyncMessage(batch([1, hash, Array(PULL_BATCH_ENVELOPES + 1).fill(e)]), 'response'), 'SYNC_MALFORMED_MESSAGE');
    // Version 1's whole envelopes are not version 2's field.
    await expectCode(
      () => decodeSyncMessage(encodeCanonical({ v: 2, t: 'push', feed: FEED, envelopes: [new Uint8Array([9])] }), 'response'),
      'SYNC_MALFORMED_MESSAGE',
    );
  });

  it('turns random bytes into a named error or a valid message, never a crash', () => {
    let state = 0x5eed;
    const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 5000; i++) {
      const bytes = new Uint8Array(1 + (random() % 64)).map(() => random());
      for (const direction of ['request', 'response'] as const) {
        try {
          decodeSyncMessage(bytes, direction);
        } catch (error) {
          expect(error).toBeInstanceOf(P2pbError);
          expect((error as P2pbError).code).toMatch(/^SYNC_/);
        }
      }
    }
  });

  it('turns mutated push and batch messages into a named sync error, or runs that rebuild only what the author signed', { timeout: 60_000 }, async () => {
    let state = 0xfeed;
    const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    const author = parseFeedId(vectors.feed).author;
    const layouts = [envelopeLayout(author, 'social/posts')];
    const signed = new Set(feedVectors.envelopes.map((v) => v.encoded));
    const bases = [fromHex(vectors.push.encoded), fromHex(vectors.batch.encoded)];
    const seen = new Map<string, number>();
    let rebuilt = 0;
    for (let i = 0; i < 3000; i++) {
      const input = Uint8Array.from(bases[i % 2]!);
      for (let k = 1 + (random() % 3); k > 0; k--) {
        const at = (random() << 8 | random()) % input.length;
        input[at] = (input[at]! + 1 + random()) & 0xff;
      }
      let message: SyncResponse;
      try {
        message = decodeSyncMessage(input, 'response') as SyncResponse;
      } catch (error) {
        expect(error).toBeInstanceOf(P2pbError);
        expect((error as P2pbError).code).toMatch(/^SYNC_/);
        seen.set((error as P2pbError).code, (seen.get((error as P2pbError).code) ?? 0) + 1);
        continue;
      }
      if (message.t !== 'push' && message.t !== 'batch') continue;
      if (!message.run) continue;
      // The run goes to the feed its message names (here: a feed id that may be mutated too).
      let layout = layouts[0]!;
      try {
        const id = parseFeedId(message.feed);
        layout = envelopeLayout(id.author, id.name);
      } catch {
        continue; // not a feed a library could open: refused before any run is rebuilt
      }
      for (const result of await openRun(layout, message.run)) {
        if (result.ok) {
          expect(signed.has(toHex(result.value.bytes)), `message ${i}`).toBe(true);
          rebuilt++;
        } else {
          expect(FEED_ERROR_CODES).toContain(result.error.code);
          seen.set(result.error.code, (seen.get(result.error.code) ?? 0) + 1);
        }
      }
    }
    expect(rebuilt).toBeGreaterThan(0); // mutations outside the run (the head) leave it intact
    for (const code of ['SYNC_MALFORMED_MESSAGE', 'BAD_ENVELOPE_SIGNATURE']) expect(seen.get(code), code).toBeGreaterThan(0);
  });
});

describe('sync wire vectors (docs/sync.md)', () => {
  const feedId = vectors.feed;
  const [v1, v2] = feedVectors.envelopes as [(typeof feedVectors.envelopes)[0], (typeof feedVectors.envelopes)[0]];
  const entryOf = (v: typeof v1) => ({ timestamp: v.timestamp, update: fromHex(v.update), signature: fromHex(v.signature) });

  it('encodes the push and batch vectors byte for byte', () => {
    const push = encodeSyncMessage({ t: 'push', feed: feedId, run: { seq: 1, prev: fromHex(v1.prev), entries: [entryOf(v1), entryOf(v2)] } });
    expect(toHex(push)).toBe(vectors.push.encoded);
    const batch = encodeSyncMessage({
      t: 'batch',
      feed: feedId,
      snapshot: null,
      run: { seq: 2, prev: fromHex(v2.prev), entries: [entryOf(v2)] },
      head: { seq: 2, hash: fromHex(v2.hash) },
    });
    expect(toHex(batch)).toBe(vectors.batch.encoded);
    // The layout: a map of v, t, run, feed (canonical order: shorter keys first).
    expect(Object.keys(decodeCanonical(push) as object)).toEqual(['t', 'v', 'run', 'feed']);
  });

  it('decodes them to runs that rebuild the envelope vectors', async () => {
    const { author, name } = parseFeedId(feedId);
    const layout = envelopeLayout(author, name);
    for (const [vector, expected] of [[vectors.push, [v1, v2]], [vectors.batch, [v2]]] as const) {
      const message = decodeSyncMessage(fromHex(vector.encoded), 'response') as Extract<SyncResponse, { run: unknown }>;
      const rebuilt = await openRun(layout, message.run!);
      expect(rebuilt.map((r) => r.ok && toHex(r.value.bytes))).toEqual(expected.map((v) => v.encoded));
    }
  });

  it('docs/sync.md contains them', () => {
    const doc = readFileSync(new URL('../../docs/sync.md', import.meta.url), 'utf8').replace(/\s+/g, '');
    expect(doc).toContain(vectors.push.encoded);
    expect(doc).toContain(vectors.batch.encoded);
  });
});
