import { describe, expect, it } from 'vitest';
import { encodeCanonical } from '../util/cbor.ts';
import { expectCode } from '../util/test-errors.ts';
import { MAX_QUERY_ITEMS, MAX_SYNC_MESSAGE_BYTES } from './constants.ts';
import { decodeSyncMessage, encodeSyncMessage } from './wire.ts';
import type { SyncMessage } from './wire.ts';
import { P2pbError } from '../util/errors.ts';

const AUTHOR = 'z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';
const FEED = `${AUTHOR}/posts`;
const hash = new Uint8Array(32).fill(7);

describe('sync wire', () => {
  const samples: Array<[SyncMessage, 'request' | 'response']> = [
    [{ t: 'heads', feeds: [FEED], authors: [] }, 'request'],
    [{ t: 'pull', feed: FEED, after: 3, limit: 10 }, 'request'],
    [{ t: 'subscribe', feeds: [], authors: [AUTHOR] }, 'request'],
    [{ t: 'delegate', delegation: new Uint8Array([1, 2, 3]) }, 'request'],
    [{ t: 'heads', heads: [{ feed: FEED, seq: 4, hash }] }, 'response'],
    [{ t: 'batch', feed: FEED, snapshot: null, envelopes: [new Uint8Array([9])], head: { seq: 4, hash } }, 'response'],
    [{ t: 'push', feed: FEED, envelopes: [new Uint8Array([9, 9])] }, 'response'],
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
    await expectCode(() => decodeSyncMessage(raw({ v: 1, t: 'gossip' }), 'request'), 'SYNC_UNKNOWN_MESSAGE');
    await expectCode(() => decodeSyncMessage(raw({ v: 1, t: 'push', feed: FEED, envelopes: [] }), 'request'), 'SYNC_UNKNOWN_MESSAGE');
    await expectCode(() => decodeSyncMessage(raw({ v: 2, t: 'ok' }), 'response'), 'SYNC_UNSUPPORTED_VERSION');
    await expectCode(() => decodeSyncMessage(raw({ v: 1, t: 'ok', extra: 1 }), 'response'), 'SYNC_MALFORMED_MESSAGE');
    await expectCode(() => decodeSyncMessage(raw({ v: 1, t: 'pull', feed: 'not a feed', after: 0, limit: 1 }), 'request'), 'SYNC_MALFORMED_MESSAGE');
    await expectCode(() => decodeSyncMessage(raw({ v: 1, t: 'pull', feed: FEED, after: -1, limit: 1 }), 'request'), 'SYNC_MALFORMED_MESSAGE');
    await expectCode(() => decodeSyncMessage(raw({ v: 1, t: 'pull', feed: FEED, after: 0, limit: 100000 }), 'request'), 'SYNC_MALFORMED_MESSAGE');
    await expectCode(() => decodeSyncMessage(raw({ v: 1, t: 'heads', feeds: [], authors: [] }), 'request'), 'SYNC_MALFORMED_MESSAGE');
    await expectCode(
      () => decodeSyncMessage(raw({ v: 1, t: 'heads', feeds: Array(MAX_QUERY_ITEMS + 1).fill(FEED), authors: [] }), 'request'),
      'SYNC_MALFORMED_MESSAGE',
    );
    await expectCode(() => decodeSyncMessage(raw([1, 'ok']), 'response'), 'SYNC_MALFORMED_MESSAGE');
    await expectCode(() => decodeSyncMessage(new Uint8Array(MAX_SYNC_MESSAGE_BYTES + 1), 'request'), 'SYNC_MESSAGE_TOO_LARGE');
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
});
