import { readFileSync } from 'node:fs';
import { encode, rfc8949EncodeOptions } from 'cborg';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { concatBytes, fromHex, toHex, utf8 } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import { CONTEXTS, createSigningKey, sign, signingBytes, verify } from '../identity/index.ts';
import {
  FEED_ERROR_CODES,
  MAX_ENVELOPE_BYTES,
  MAX_SNAPSHOT_BYTES,
  ZERO_HASH,
  createEnvelope,
  createSnapshot,
  decodeEnvelope,
  decodeEnvelopes,
  decodeSnapshot,
  feedIdOf,
  hashBytes,
  parseEnvelope,
  parseFeedId,
} from './index.ts';
import vectors from './test-vectors.json' with { type: 'json' };
import { caught, expectCode } from '../util/test-errors.ts';
import { mulberry32 as prng } from '../util/prng.ts';

const ALICE_SEED = fromHex(vectors.keys[0]!.seed);
const alice = await createSigningKey(ALICE_SEED);
const [v1, v2] = vectors.envelopes as [(typeof vectors.envelopes)[0], (typeof vectors.envelopes)[0]];
const snapshotVector = vectors.snapshots[0]!;


/** Re-signs arbitrary envelope items with alice (to build validly signed but otherwise bad envelopes). */
async function craft(items: unknown[], context: string = CONTEXTS.FEED_ENVELOPE): Promise<Uint8Array> {
  const unsigned = encode(items, rfc8949EncodeOptions);
  return encode([...items, await sign(ALICE_SEED, context, unsigned)], rfc8949EncodeOptions);
}

const itemsOf = (v: typeof v1) => [1, 'feed-envelope', alice.publicKey, v.feedName, v.seq, fromHex(v.prev), v.timestamp, fromHex(v.update)];

describe('test vectors', () => {
  it('createEnvelope reproduces every envelope vector byte for byte, and its hash', async () => {
    for (const v of vectors.envelopes) {
      const envelope = await createEnvelope({
        signer: alice,
        feedName: v.feedName,
        seq: v.seq,
        prev: fromHex(v.prev),
        timestamp: v.timestamp,
        update: fromHex(v.update),
      });
      expect(toHex(envelope.bytes)).toBe(v.encoded);
      expect(toHex(envelope.hash)).toBe(v.hash);
      expect(toHex(encode(itemsOf(v), rfc8949EncodeOptions))).toBe(v.unsigned);
      expect(toHex(signingBytes(CONTEXTS.FEED_ENVELOPE, fromHex(v.unsigned)))).toBe(v.signingBytes);
      expect(await verify(alice.publicKey, CONTEXTS.FEED_ENVELOPE, fromHex(v.unsigned), fromHex(v.signature))).toBe(true);
    }
    expect(v2.prev).toBe(v1.hash);
  });

  it('decodeEnvelope verifies every envelope vector and returns its fields', async () => {
    for (const v of vectors.envelopes) {
      const envelope = await decodeEnvelope(fromHex(v.encoded));
      expect(envelope.feedId).toBe(`${vectors.keys[0]!.publicKeyText}/${v.feedName}`);
      expect(toHex(envelope.author)).toBe(vectors.keys[0]!.publicKey);
      expect(envelope).toMatchObject({ version: 1, feedName: v.feedName, seq: v.seq, timestamp: v.timestamp });
      expect(toHex(envelope.prev)).toBe(v.prev);
      expect(toHex(envelope.update)).toBe(v.update);
      expect(toHex(envelope.signature)).toBe(v.signature);
      expect(toHex(envelope.hash)).toBe(v.hash);
      expect(toHex(await hashBytes(fromHex(v.encoded)))).toBe(v.hash);
    }
  });

  it('applying the vector updates in order gives the documented document', async () => {
    const doc = new Y.Doc();
    for (const v of vectors.envelopes) Y.applyUpdate(doc, (await decodeEnvelope(fromHex(v.encoded))).update);
    expect(doc.getMap('posts').toJSON()).toEqual(vectors.docJSON.posts);
  });

  it('createSnapshot reproduces the snapshot vector, and decodeSnapshot verifies it', async () => {
    const s = snapshotVector;
    const created = await createSnapshot({
      signer: alice,
      feedName: s.feedName,
      seq: s.seq,
      headHash: fromHex(s.headHash),
      timestamp: s.timestamp,
      state: fromHex(s.state),
    });
    expect(toHex(created.bytes)).toBe(s.encoded);
    expect(toHex(signingBytes(CONTEXTS.FEED_SNAPSHOT, fromHex(s.unsigned)))).toBe(s.signingBytes);
    const decoded = await decodeSnapshot(fromHex(s.encoded));
    expect(decoded).toMatchObject({ seq: 2, feedName: 'social/posts', timestamp: s.timestamp });
    expect(toHex(decoded.headHash)).toBe(v2.hash);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, decoded.state);
    expect(doc.getMap('posts').toJSON()).toEqual(vectors.docJSON.posts);
  });

  it('docs/feeds.md contains every vector', () => {
    const doc = readFileSync(new URL('../../docs/feeds.md', import.meta.url), 'utf8').replace(/\s+/g, '');
    for (const v of vectors.envelopes) {
      for (const field of [v.encoded, v.unsigned, v.hash, v.update]) expect(doc).toContain(field);
    }
    expect(doc).toContain(snapshotVector.encoded);
    expect(doc).toContain(snapshotVector.unsigned);
    expect(doc).toContain(vectors.keys[0]!.publicKey);
  });

  it('a signature for one context never verifies as the other (envelope vs snapshot)', async () => {
    const items = itemsOf(v1);
    await expectCode(async () => decodeEnvelope(await craft(items, CONTEXTS.FEED_SNAPSHOT)), 'BAD_ENVELOPE_SIGNATURE');
    await expectCode(async () => decodeEnvelope(await craft(items, CONTEXTS.PAGE_SIGN)), 'BAD_ENVELOPE_SIGNATURE');
  });
});

describe('refusing bad envelopes', () => {
  it('refuses the vector with any single byte changed, with a feed error code', async () => {
    const original = fromHex(v2.encoded);
    const seen = new Set<string>();
    for (let position = 0; position < original.length; position++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const tampered = Uint8Array.from(original);
        tampered[position]! ^= mask;
        const error = await caught(() => decodeEnvelope(tampered));
        expect(FEED_ERROR_CODES, `byte ${position} ^ ${mask}: ${error.code} ${error.message}`).toContain(error.code);
        seen.add(error.code);
      }
    }
    for (const code of ['BAD_ENVELOPE_SIGNATURE', 'MALFORMED_ENVELOPE', 'INVALID_FEED_FIELD', 'UNSUPPORTED_FEED_VERSION']) {
      expect(seen).toContain(code);
    }
  });

  it('refuses the vector truncated at every length, or with a byte appended', async () => {
    const original = fromHex(v1.encoded);
    for (let length = 0; length < original.length; length++) {
      const error = await caught(() => decodeEnvelope(original.slice(0, length)));
      expect(['MALFORMED_ENVELOPE', 'NON_CANONICAL_ENVELOPE']).toContain(error.code);
    }
    await expectCode(() => decodeEnvelope(concatBytes(original, Uint8Array.of(0))), 'MALFORMED_ENVELOPE');
  });

  it('refuses oversized input with ENVELOPE_TOO_LARGE before decoding it', async () => {
    const garbage = new Uint8Array(MAX_ENVELOPE_BYTES + 1).fill(0xff); // not CBOR: a decoder that looked first would say MALFORMED
    await expectCode(() => decodeEnvelope(garbage), 'ENVELOPE_TOO_LARGE');
    await expectCode(() => parseEnvelope(garbage), 'ENVELOPE_TOO_LARGE');
    await expectCode(() => decodeEnvelope(new Uint8Array(MAX_ENVELOPE_BYTES).fill(0xff)), 'MALFORMED_ENVELOPE');
    await expectCode(() => decodeSnapshot(new Uint8Array(MAX_SNAPSHOT_BYTES + 1)), 'SNAPSHOT_TOO_LARGE');
  });

  it('refuses to create an envelope whose update cannot fit, before signing', async () => {
    let signed = 0;
    const counting = { publicKey: alice.publicKey, sign: async (c: string, m: Uint8Array) => (signed++, alice.sign(c, m)) };
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'x'.repeat(MAX_ENVELOPE_BYTES));
    const update = Y.encodeStateAsUpdate(doc);
    await expectCode(
      () => createEnvelope({ signer: counting, feedName: 'big', seq: 1, prev: ZERO_HASH, timestamp: 0, update }),
      'ENVELOPE_TOO_LARGE',
    );
    expect(signed).toBe(0);
  });

  it('refuses to sign an update that is not Yjs, and a signer that returns no 64-byte signature', async () => {
    let signed = 0;
    const counting = { publicKey: alice.publicKey, sign: async (c: string, m: Uint8Array) => (signed++, alice.sign(c, m)) };
    await expectCode(
      () => createEnvelope({ signer: counting, feedName: 'notes', seq: 1, prev: ZERO_HASH, timestamp: 0, update: utf8('not yjs') }),
      'MALFORMED_UPDATE',
    );
    expect(signed).toBe(0);
    const short = { publicKey: alice.publicKey, sign: async () => new Uint8Array(63) };
    const error = await expectCode(
      () => createEnvelope({ signer: short, feedName: 'notes', seq: 1, prev: ZERO_HASH, timestamp: 0, update: fromHex(v1.update) }),
      'INVALID_FEED_FIELD',
    );
    expect(error.message).toContain('signature');
  });

  it('refuses non-shortest integers and lengths with NON_CANONICAL_ENVELOPE', async () => {
    const original = fromHex(v1.encoded);
    const nonMinimalVersion = concatBytes(original.subarray(0, 1), Uint8Array.of(0x18, 0x01), original.subarray(2));
    await expectCode(() => decodeEnvelope(nonMinimalVersion), 'NON_CANONICAL_ENVELOPE');
    // seq 1 (0x01) written as 0x18 0x01: find it right after the feed name.
    const nameHex = toHex(encode('social/posts'));
    const at = toHex(original).indexOf(nameHex) / 2 + nameHex.length / 2;
    expect(original[at]).toBe(0x01);
    const nonMinimalSeq = concatBytes(original.subarray(0, at), Uint8Array.of(0x18, 0x01), original.subarray(at + 1));
    await expectCode(() => decodeEnvelope(nonMinimalSeq), 'NON_CANONICAL_ENVELOPE');
  });

  it('refuses wrong shapes, types and field values with named codes', async () => {
    const items = itemsOf(v2);
    // [what, {element index: replacement}, expected code]
    const cases: Array<[string, Record<number, unknown>, string]> = [
      ['a snapshot type', { 1: 'feed-snapshot' }, 'MALFORMED_ENVELOPE'],
      ['another record type', { 1: 'identity-statement' }, 'MALFORMED_ENVELOPE'],
      ['version 2', { 0: 2 }, 'UNSUPPORTED_FEED_VERSION'],
      ['a 31-byte author', { 2: alice.publicKey.slice(1) }, 'INVALID_FEED_FIELD'],
      ['a small-order author', { 2: fromHex('01'.padEnd(64, '0')) }, 'INVALID_FEED_FIELD'],
      ['an upper-case feed name', { 3: 'Social' }, 'INVALID_FEED_FIELD'],
      ['an empty feed name', { 3: '' }, 'INVALID_FEED_FIELD'],
      ['sequence 0', { 4: 0 }, 'INVALID_FEED_FIELD'],
      ['a text sequence', { 4: '2' }, 'INVALID_FEED_FIELD'],
      ['a 31-byte prev', { 5: new Uint8Array(31) }, 'INVALID_FEED_FIELD'],
      ['a text timestamp', { 6: 'now' }, 'INVALID_FEED_FIELD'],
      ['a text update', { 7: 'update' }, 'INVALID_FEED_FIELD'],
    ];
    for (const [what, patch, code] of cases) {
      const changed = items.map((item, i) => (i in patch ? patch[i] : item));
      const error = await caught(async () => decodeEnvelope(await craft(changed)));
      expect(error.code, `${what}: ${error.message}`).toBe(code);
    }
    // Envelope 1 must have the all-zero prev; a signed envelope with anything else is refused.
    const firstWithPrev = itemsOf(v1).map((x, i) => (i === 5 ? fromHex(v1.hash) : x));
    await expectCode(async () => decodeEnvelope(await craft(firstWithPrev)), 'INVALID_FEED_FIELD');
    // Ten elements (an extra field) or eight (no signature).
    await expectCode(async () => decodeEnvelope(encode([...items, new Uint8Array(64), 0], rfc8949EncodeOptions)), 'MALFORMED_ENVELOPE');
    await expectCode(() => decodeEnvelope(encode(items, rfc8949EncodeOptions)), 'MALFORMED_ENVELOPE');
    await expectCode(() => decodeEnvelope(encode({ a: 1 }, rfc8949EncodeOptions)), 'MALFORMED_ENVELOPE');
  });

  it('refuses a validly signed envelope whose Yjs bytes do not parse with MALFORMED_UPDATE', async () => {
    const good = fromHex(v2.update);
    for (const update of [utf8('not yjs'), good.slice(0, good.length - 3), new Uint8Array(0), Uint8Array.of(0xff, 0xff, 0xff)]) {
      const items = itemsOf(v2).map((x, i) => (i === 7 ? update : x));
      await expectCode(async () => decodeEnvelope(await craft(items)), 'MALFORMED_UPDATE');
    }
  });

  it('refuses a forged signature (another key signing as alice) with BAD_ENVELOPE_SIGNATURE', async () => {
    const items = itemsOf(v1);
    const unsigned = encode(items, rfc8949EncodeOptions);
    const forged = encode([...items, await sign(fromHex('02'.repeat(32)), CONTEXTS.FEED_ENVELOPE, unsigned)], rfc8949EncodeOptions);
    await expectCode(() => decodeEnvelope(forged), 'BAD_ENVELOPE_SIGNATURE');
  });

  it('decodes a batch concurrently, reporting each refusal by position', async () => {
    const results = await decodeEnvelopes([fromHex(v1.encoded), utf8('junk'), fromHex(v2.encoded)]);
    expect(results.map((r) => (r.ok ? r.value.seq : r.error.code))).toEqual([1, 'MALFORMED_ENVELOPE', 2]);
  });

  it('returns owned copies: changing the input afterwards changes nothing', async () => {
    const input = fromHex(v1.encoded);
    const envelope = await decodeEnvelope(input);
    input.fill(0);
    expect(toHex(envelope.bytes)).toBe(v1.encoded);
    expect(toHex(envelope.update)).toBe(v1.update);
  });
});

describe('fuzz', () => {
  it('throws only named feed errors at thousands of random and mutated inputs', { timeout: 60_000 }, async () => {
    const random = prng(20260101);
    const bases = [fromHex(v1.encoded), fromHex(v2.encoded), fromHex(snapshotVector.encoded)];
    const codes = new Map<string, number>();
    let accepted = 0;
    for (let i = 0; i < 4000; i++) {
      let input: Uint8Array;
      const kind = i % 4;
      if (kind === 0) {
        input = new Uint8Array(Math.floor(random() * 300));
        for (let j = 0; j < input.length; j++) input[j] = Math.floor(random() * 256);
      } else if (kind === 1) {
        // Random CBOR-looking prefix: an array header then random bytes.
        input = new Uint8Array(1 + Math.floor(random() * 200));
        for (let j = 0; j < input.length; j++) input[j] = Math.floor(random() * 256);
        input[0] = 0x80 | Math.floor(random() * 24);
      } else {
        const base = bases[Math.floor(random() * bases.length)]!;
        input = Uint8Array.from(base);
        const flips = 1 + Math.floor(random() * 4);
        for (let k = 0; k < flips; k++) {
          const at = Math.floor(random() * input.length);
          input[at] = (input[at]! + 1 + Math.floor(random() * 255)) & 0xff; // always a different byte
        }
        if (random() < 0.3) input = input.slice(0, Math.floor(random() * input.length));
      }
      for (const decoder of [decodeEnvelope, decodeSnapshot] as const) {
        try {
          await decoder(input);
          accepted++;
        } catch (error) {
          expect(error, `input ${i}: ${String(error)}`).toBeInstanceOf(P2pbError);
          const code = (error as P2pbError).code;
          expect(FEED_ERROR_CODES).toContain(code);
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      }
    }
    // Mutations land in every layer: parser, fields, signature.
    expect(codes.get('MALFORMED_ENVELOPE')).toBeGreaterThan(0);
    expect(codes.get('BAD_ENVELOPE_SIGNATURE')).toBeGreaterThan(0);
    expect(codes.get('INVALID_FEED_FIELD')).toBeGreaterThan(0);
    expect(accepted).toBe(0);
  });
});

describe('feed ids', () => {
  it('are the author text form, a slash and the name, and parse back', () => {
    const id = feedIdOf(alice.publicKey, 'social/posts');
    expect(id).toBe(`${vectors.keys[0]!.publicKeyText}/social/posts`);
    const parsed = parseFeedId(id);
    expect(toHex(parsed.author)).toBe(toHex(alice.publicKey));
    expect(parsed.name).toBe('social/posts');
  });

  it('refuse names outside the pattern with INVALID_FEED_NAME', async () => {
    for (const name of ['', 'Upper', '-lead', 'a b', 'é', 'x'.repeat(101)]) {
      await expectCode(() => feedIdOf(alice.publicKey, name), 'INVALID_FEED_NAME');
    }
  });
});
