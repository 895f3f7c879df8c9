import { encode, rfc8949EncodeOptions } from 'cborg';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../util/bytes.ts';
import { buildEnvelope, envelopePrefix, readEnvelope, writeEnvelope, writeUnsigned } from './envelope-bytes.ts';
import vectors from './test-vectors.json' with { type: 'json' };

const author = fromHex(vectors.keys[0]!.publicKey);
const cbor = (value: unknown) => toHex(encode(value, rfc8949EncodeOptions));

describe('envelope bytes written by position', () => {
  it('equal the canonical encoder for every head size of seq, timestamp, name and update', () => {
    const numbers = [0, 1, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 1_767_225_600_000, Number.MAX_SAFE_INTEGER];
    const names = ['a', 'social/posts', 'x'.repeat(23), 'x'.repeat(24), 'n'.repeat(100)];
    const updates = [0, 1, 23, 24, 255, 256, 65_536].map((n) => new Uint8Array(n).map((_, i) => (i * 7) & 0xff));
    const prev = new Uint8Array(32).fill(0xab);
    const signature = new Uint8Array(64).fill(0xcd);
    let checked = 0;
    // Every name with every update, and every seq with every timestamp (sizes vary independently).
    const cases: Array<[string, number, number, Uint8Array]> = [];
    for (const name of names) for (const update of updates) cases.push([name, 1_767_225_600_000, 7, update]);
    for (const seq of numbers) for (const timestamp of numbers) cases.push(['social/posts', seq, timestamp, updates[2]!]);
    for (const [name, seq, timestamp, update] of cases) {
      const items = [1, 'feed-envelope', author, name, seq, prev, timestamp, update];
      const unsigned = writeUnsigned(envelopePrefix(author, name), { seq, prev, timestamp, update });
      expect(toHex(unsigned)).toBe(cbor(items));
      const envelope = writeEnvelope(unsigned, signature);
      expect(toHex(envelope)).toBe(cbor([...items, signature]));
      const built = buildEnvelope(envelopePrefix(author, name), { seq, prev, timestamp, update }, signature);
      expect(toHex(built)).toBe(toHex(envelope));
      expect(built.byteLength).toBe(built.buffer.byteLength); // its own buffer: storable, transferable
      const read = readEnvelope(envelope);
      expect([toHex(read.prefix), toHex(read.author), read.seq, toHex(read.prev), read.timestamp, toHex(read.update), toHex(read.signature)]).toEqual([
        toHex(envelopePrefix(author, name)),
        toHex(author),
        seq,
        toHex(prev),
        timestamp,
        toHex(update),
        toHex(signature),
      ]);
      checked++;
    }
    expect(checked).toBe(names.length * updates.length + numbers.length ** 2);
  });

  it('reproduces the test vectors', () => {
    for (const v of vectors.envelopes) {
      const unsigned = writeUnsigned(envelopePrefix(author, v.feedName), { seq: v.seq, prev: fromHex(v.prev), timestamp: v.timestamp, update: fromHex(v.update) });
      expect(toHex(unsigned)).toBe(v.unsigned);
      expect(toHex(writeEnvelope(unsigned, fromHex(v.signature)))).toBe(v.encoded);
    }
  });

  it('readEnvelope refuses bytes without the envelope layout (it never reads past them)', () => {
    const encoded = fromHex(vectors.envelopes[0]!.encoded);
    for (let length = 0; length < encoded.length; length++) expect(() => readEnvelope(encoded.subarray(0, length))).toThrow(RangeError);
    expect(() => readEnvelope(Uint8Array.of(...encoded, 0))).toThrow(RangeError);
    expect(() => readEnvelope(fromHex(vectors.snapshots[0]!.encoded).map((b, i) => (i === 0 ? 0x89 : b)))).toThrow(RangeError);
    expect(() => readEnvelope(new Uint8Array([0x89, 0x01, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow(RangeError);
  });
});
