import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toBase64url, toHex, utf8 } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import { CONTEXTS, createSigningKey, encodePublicKey, getPublicKey, sign, signingBytes, verify } from '../identity/index.ts';
import { encodeRecord } from './codec.ts';
import type { RecordValue } from './codec.ts';
import {
  MAX_IDENTITY_STATEMENT_BYTES,
  RECORD_ERROR_CODES,
  createIdentityChange,
  createIdentityStatement,
  decodeIdentityChange,
  decodeIdentityStatement,
  displayNameProblem,
  identityChangeToJSON,
  identityStatementToJSON,
} from './index.ts';
import vectors from './test-vectors.json' with { type: 'json' };
import { caught, expectCode } from '../util/test-errors.ts';

const seedOf = (name: string) => fromHex(vectors.keys.find((k) => k.name === name)!.seed);
const publicKeyOf = (name: string) => fromHex(vectors.keys.find((k) => k.name === name)!.publicKey);
const ALICE = seedOf('alice');
const BOB = seedOf('bob');
const statementVector = vectors.identityStatements[0]!;
const changeVector = vectors.identityChanges[0]!;


/** Byte offset of a hex pattern inside `bytes` (asserted to be found). */
function indexOfHex(bytes: Uint8Array, pattern: string): number {
  const at = toHex(bytes).indexOf(pattern);
  expect(at % 2, `pattern ${pattern} not found at a byte boundary`).toBe(0);
  return at / 2;
}

/** Re-encodes `items` as a record, with signatures made by `signers` over the unsigned prefix. */
async function craft(
  fields: RecordValue[],
  signers: Array<{ seed: Uint8Array; context: string }>,
): Promise<Uint8Array> {
  const unsigned = encodeRecord(fields);
  const signatures = await Promise.all(signers.map((s) => sign(s.seed, s.context, unsigned)));
  return encodeRecord([...fields, ...signatures]);
}

describe('test vectors', () => {
  it('key seeds give the listed public keys and text forms', async () => {
    for (const key of vectors.keys) {
      const publicKey = await getPublicKey(fromHex(key.seed));
      expect(toHex(publicKey)).toBe(key.publicKey);
      expect(encodePublicKey(publicKey)).toBe(key.publicKeyText);
    }
  });

  it('signature vectors reproduce byte for byte and verify', async () => {
    for (const v of vectors.signatures) {
      const message = fromHex(v.message);
      expect(toHex(signingBytes(v.context, message))).toBe(v.signingBytes);
      expect(toHex(await sign(seedOf(v.key), v.context, message))).toBe(v.signature);
      expect(await verify(publicKeyOf(v.key), v.context, message, fromHex(v.signature))).toBe(true);
    }
  });

  it('createIdentityStatement reproduces every statement vector byte for byte', async () => {
    for (const v of vectors.identityStatements) {
      const bytes = await createIdentityStatement({ secretKey: seedOf(v.key), displayName: v.displayName, createdAt: v.createdAt });
      expect(toHex(bytes)).toBe(v.encoded);
      expect(toHex(encodeRecord([1, 'identity-statement', publicKeyOf(v.key), v.displayName, v.createdAt]))).toBe(v.unsigned);
      expect(toHex(signingBytes(CONTEXTS.IDENTITY_STATEMENT, fromHex(v.unsigned)))).toBe(v.signingBytes);
    }
  });

  it('decodeIdentityStatement verifies every statement vector and returns its fields', async () => {
    for (const v of vectors.identityStatements) {
      const statement = await decodeIdentityStatement(fromHex(v.encoded));
      expect(statement.version).toBe(1);
      expect(toHex(statement.publicKey)).toBe(toHex(publicKeyOf(v.key)));
      expect(statement.displayName).toBe(v.displayName);
      expect(statement.createdAt).toBe(v.createdAt);
      expect(toHex(statement.bytes)).toBe(v.encoded);
      expect(await verify(statement.publicKey, CONTEXTS.IDENTITY_STATEMENT, fromHex(v.unsigned), statement.signature)).toBe(true);
    }
  });

  it('createIdentityChange reproduces the change vector byte for byte', async () => {
    const bytes = await createIdentityChange({
      oldSecretKey: seedOf(changeVector.oldKey),
      newSecretKey: seedOf(changeVector.newKey),
      createdAt: changeVector.createdAt,
    });
    expect(toHex(bytes)).toBe(changeVector.encoded);
    expect(toHex(signingBytes(CONTEXTS.IDENTITY_CHANGE, fromHex(changeVector.unsigned)))).toBe(changeVector.signingBytes);
  });

  it('decodeIdentityChange verifies the change vector and returns its fields', async () => {
    const change = await decodeIdentityChange(fromHex(changeVector.encoded));
    expect(change.version).toBe(1);
    expect(toHex(change.oldKey)).toBe(toHex(publicKeyOf('alice')));
    expect(toHex(change.newKey)).toBe(toHex(publicKeyOf('bob')));
    expect(change.createdAt).toBe(changeVector.createdAt);
    expect(toHex(change.bytes)).toBe(changeVector.encoded);
  });
});

it('docs/records.md and docs/signatures.md contain every vector', () => {
  const text = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8').replace(/\s+/g, '');
  const records = text('records.md');
  for (const v of [...vectors.identityStatements, ...vectors.identityChanges]) {
    expect(records).toContain(v.encoded);
    expect(records).toContain(v.unsigned);
  }
  for (const k of vectors.keys) expect(records).toContain(k.publicKey);
  const signatures = text('signatures.md');
  for (const v of vectors.signatures) {
    expect(signatures).toContain(v.signingBytes);
    expect(signatures).toContain(v.signature);
  }
});

describe('tampering', () => {
  const cases = [
    ['statement', statementVector.encoded, decodeIdentityStatement],
    ['change', changeVector.encoded, decodeIdentityChange],
  ] as const;

  for (const [what, hex, decodeRecord] of cases) {
    it(`refuses the ${what} vector with any single byte changed, with a record error code`, async () => {
      const original = fromHex(hex);
      const seen = new Set<string>();
      for (let position = 0; position < original.length; position++) {
        for (const mask of [0x01, 0x80, 0xff]) {
          const tampered = Uint8Array.from(original);
          tampered[position]! ^= mask;
          const error = await caught(() => decodeRecord(tampered));
          expect(RECORD_ERROR_CODES, `byte ${position} ^ ${mask}: ${error.message}`).toContain(error.code);
          seen.add(error.code);
        }
      }
      // The loop reaches the signature check, the field checks and the CBOR parser alike.
      expect(seen).toContain('BAD_RECORD_SIGNATURE');
      expect(seen).toContain('MALFORMED_RECORD');
      expect(seen).toContain('UNSUPPORTED_RECORD_VERSION');
    });

    it(`refuses the ${what} vector truncated at every length or with a byte appended`, async () => {
      const original = fromHex(hex);
      for (let length = 0; length < original.length; length++) {
        const error = await caught(() => decodeRecord(original.slice(0, length)));
        expect(RECORD_ERROR_CODES).toContain(error.code);
      }
      await expectCode(() => decodeRecord(concatBytes(original, Uint8Array.of(0))), 'MALFORMED_RECORD');
    });
  }

  it('returns copies, so changing the input afterwards changes nothing', async () => {
    const input = fromHex(statementVector.encoded);
    const statement = await decodeIdentityStatement(input);
    input.fill(0);
    expect(toHex(statement.bytes)).toBe(statementVector.encoded);
    expect(toHex(statement.publicKey)).toBe(toHex(publicKeyOf('alice')));
  });
});

describe('decoding limits and strictness', () => {
  it('refuses oversized input with RECORD_TOO_LARGE before decoding it', async () => {
    // 0xff bytes are not CBOR at all: a decoder that looked first would say MALFORMED_RECORD.
    const garbage = new Uint8Array(MAX_IDENTITY_STATEMENT_BYTES + 1).fill(0xff);
    await expectCode(() => decodeIdentityStatement(garbage), 'RECORD_TOO_LARGE');
    await expectCode(() => decodeIdentityChange(garbage), 'RECORD_TOO_LARGE');
    await expectCode(() => decodeIdentityStatement(new Uint8Array(MAX_IDENTITY_STATEMENT_BYTES)), 'MALFORMED_RECORD');
  });

  it('refuses a non-minimal integer with NON_CANONICAL_RECORD', async () => {
    // Version 1 written as 0x18 0x01 instead of 0x01.
    const original = fromHex(statementVector.encoded);
    const nonMinimal = concatBytes(original.subarray(0, 1), Uint8Array.of(0x18, 0x01), original.subarray(2));
    await expectCode(() => decodeIdentityStatement(nonMinimal), 'NON_CANONICAL_RECORD');
    // createdAt (0x1b + 8 bytes) is already minimal; its text length prefix can be padded instead.
    const nameAt = indexOfHex(original, '65416c696365'); // text(5) "Alice"
    const paddedLength = concatBytes(original.subarray(0, nameAt), Uint8Array.of(0x78, 0x05), original.subarray(nameAt + 1));
    await expectCode(() => decodeIdentityStatement(paddedLength), 'NON_CANONICAL_RECORD');
  });

  it('refuses an indefinite-length array with NON_CANONICAL_RECORD', async () => {
    const original = fromHex(statementVector.encoded);
    const indefinite = concatBytes(Uint8Array.of(0x9f), original.subarray(1), Uint8Array.of(0xff));
    await expectCode(() => decodeIdentityStatement(indefinite), 'NON_CANONICAL_RECORD');
  });

  it('refuses a float where an integer belongs', async () => {
    // createdAt as a float64 of the same value: decodes to the same number, so only the
    // re-encoding check can see it.
    const original = fromHex(statementVector.encoded);
    const at = indexOfHex(original, '1b0000019b76daa800'); // uint64 createdAt
    const float = new Uint8Array(9);
    float[0] = 0xfb;
    new DataView(float.buffer).setFloat64(1, statementVector.createdAt);
    const withFloat = concatBytes(original.subarray(0, at), float, original.subarray(at + 9));
    await expectCode(() => decodeIdentityStatement(withFloat), 'NON_CANONICAL_RECORD');
    // A version of 1.5 (float16 0xf93e00) is canonical CBOR but not an unsigned integer.
    const halfVersion = concatBytes(original.subarray(0, 1), Uint8Array.of(0xf9, 0x3e, 0x00), original.subarray(2));
    await expectCode(() => decodeIdentityStatement(halfVersion), 'MALFORMED_RECORD');
  });

  it('refuses tags, undefined and maps with a record error', async () => {
    const original = fromHex(statementVector.encoded);
    const tagged = concatBytes(Uint8Array.of(0xc1), original); // tag 1 around the record
    await expectCode(() => decodeIdentityStatement(tagged), 'MALFORMED_RECORD');
    const withUndefined = concatBytes(original.subarray(0, 1), Uint8Array.of(0xf7), original.subarray(2));
    await expectCode(() => decodeIdentityStatement(withUndefined), 'MALFORMED_RECORD');
    await expectCode(() => decodeIdentityStatement(encodeRecord([])), 'MALFORMED_RECORD');
    await expectCode(() => decodeIdentityStatement(Uint8Array.of(0xa0)), 'MALFORMED_RECORD'); // {}
  });

  it('refuses another version with UNSUPPORTED_RECORD_VERSION', async () => {
    const bytes = await craft([2, 'identity-statement', publicKeyOf('alice'), 'Alice', 1], [
      { seed: ALICE, context: CONTEXTS.IDENTITY_STATEMENT },
    ]);
    await expectCode(() => decodeIdentityStatement(bytes), 'UNSUPPORTED_RECORD_VERSION');
    await expectCode(() => decodeIdentityStatement(encodeRecord([0])), 'UNSUPPORTED_RECORD_VERSION');
  });

  it('refuses a record of another type with WRONG_RECORD_TYPE', async () => {
    await expectCode(() => decodeIdentityChange(fromHex(statementVector.encoded)), 'WRONG_RECORD_TYPE');
    await expectCode(() => decodeIdentityStatement(fromHex(changeVector.encoded)), 'WRONG_RECORD_TYPE');
    await expectCode(() => decodeIdentityStatement(encodeRecord([1, 'Identity-Statement'])), 'WRONG_RECORD_TYPE');
  });

  it('refuses a record with a missing or extra element with MALFORMED_RECORD', async () => {
    const fields: RecordValue[] = [1, 'identity-statement', publicKeyOf('alice'), 'Alice', 1];
    await expectCode(() => decodeIdentityStatement(encodeRecord(fields)), 'MALFORMED_RECORD');
    const extra = await craft([...fields], [
      { seed: ALICE, context: CONTEXTS.IDENTITY_STATEMENT },
      { seed: ALICE, context: CONTEXTS.IDENTITY_STATEMENT },
    ]);
    await expectCode(() => decodeIdentityStatement(extra), 'MALFORMED_RECORD');
  });
});

describe('identity statements', () => {
  it('refuses a statement signed by another key with BAD_RECORD_SIGNATURE', async () => {
    const bytes = await craft([1, 'identity-statement', publicKeyOf('alice'), 'Alice', 1], [
      { seed: BOB, context: CONTEXTS.IDENTITY_STATEMENT },
    ]);
    await expectCode(() => decodeIdentityStatement(bytes), 'BAD_RECORD_SIGNATURE');
  });

  it('refuses a statement signed under another context with BAD_RECORD_SIGNATURE', async () => {
    const bytes = await craft([1, 'identity-statement', publicKeyOf('alice'), 'Alice', 1], [
      { seed: ALICE, context: CONTEXTS.PAGE_SIGN },
    ]);
    await expectCode(() => decodeIdentityStatement(bytes), 'BAD_RECORD_SIGNATURE');
  });

  it('refuses a statement whose public key is not a usable point with INVALID_RECORD_FIELD', async () => {
    const identity = fromHex('0100000000000000000000000000000000000000000000000000000000000000');
    const bytes = encodeRecord([1, 'identity-statement', identity, 'Alice', 1, new Uint8Array(64)]);
    const error = await expectCode(() => decodeIdentityStatement(bytes), 'INVALID_RECORD_FIELD');
    expect(error.message).toContain('publicKey');
    const short = encodeRecord([1, 'identity-statement', publicKeyOf('alice').subarray(1), 'Alice', 1, new Uint8Array(64)]);
    expect((await expectCode(() => decodeIdentityStatement(short), 'INVALID_RECORD_FIELD')).message).toContain('publicKey');
  });

  const badNames: Array<[string, unknown]> = [
    ['an empty name', ''],
    ['a 65-byte name', 'x'.repeat(65)],
    ['a name over 64 bytes in fewer characters', 'é'.repeat(33)],
    ['a control character', 'Al\u0007ice'],
    ['a newline', 'Alice\n'],
    ['DEL', 'Alice\u007f'],
    ['a C1 control', 'Alice\u0085'],
    ['a right-to-left override', 'Alice\u202Eecila'],
    ['a non-NFC name', 'Zoe\u0308'],
    ['a lone surrogate', 'Alice\uD800'],
    ['a number', 42],
  ];
  for (const [what, name] of badNames) {
    it(`refuses ${what} as display name with INVALID_RECORD_FIELD, on create and on decode`, async () => {
      expect(displayNameProblem(name)).not.toBeNull();
      const created = await expectCode(
        () => createIdentityStatement({ secretKey: ALICE, displayName: name as string, createdAt: 1 }),
        'INVALID_RECORD_FIELD',
      );
      expect(created.message).toContain('displayName');
      if (typeof name !== 'string' || /\p{Cs}/u.test(name)) return;
      const bytes = await craft([1, 'identity-statement', publicKeyOf('alice'), name, 1], [
        { seed: ALICE, context: CONTEXTS.IDENTITY_STATEMENT },
      ]);
      const decoded = await expectCode(() => decodeIdentityStatement(bytes), 'INVALID_RECORD_FIELD');
      expect(decoded.message).toContain('displayName');
    });
  }

  it('accepts a 64-byte name, spaces and emoji', async () => {
    for (const displayName of ['x'.repeat(64), 'é'.repeat(32), 'Zoë 🌍', 'a b']) {
      const bytes = await createIdentityStatement({ secretKey: ALICE, displayName, createdAt: 0 });
      expect((await decodeIdentityStatement(bytes)).displayName).toBe(displayName);
    }
  });

  it('refuses a createdAt that is not an unsigned safe integer with INVALID_RECORD_FIELD', async () => {
    for (const createdAt of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Infinity, '1' as unknown as number]) {
      const error = await expectCode(
        () => createIdentityStatement({ secretKey: ALICE, displayName: 'Alice', createdAt }),
        'INVALID_RECORD_FIELD',
      );
      expect(error.message).toContain('createdAt');
    }
    const negative = await craft([1, 'identity-statement', publicKeyOf('alice'), 'Alice', -1], [
      { seed: ALICE, context: CONTEXTS.IDENTITY_STATEMENT },
    ]);
    expect((await expectCode(() => decodeIdentityStatement(negative), 'INVALID_RECORD_FIELD')).message).toContain('createdAt');
  });

  it('refuses a signature of the wrong length with INVALID_RECORD_FIELD', async () => {
    const bytes = encodeRecord([1, 'identity-statement', publicKeyOf('alice'), 'Alice', 1, new Uint8Array(63)]);
    expect((await expectCode(() => decodeIdentityStatement(bytes), 'INVALID_RECORD_FIELD')).message).toContain('signature');
  });

  it('gives the JSON view pages see', async () => {
    const statement = await decodeIdentityStatement(fromHex(statementVector.encoded));
    expect(identityStatementToJSON(statement)).toEqual({
      publicKey: vectors.keys[0]!.publicKeyText,
      displayName: 'Alice',
      createdAt: statementVector.createdAt,
      signature: toBase64url(statement.signature),
      encoded: toBase64url(fromHex(statementVector.encoded)),
    });
  });

  it('signs through a vault-style signer the same bytes as through a seed', async () => {
    const signer = await createSigningKey(ALICE);
    const bytes = await createIdentityStatement({
      signer,
      displayName: statementVector.displayName,
      createdAt: statementVector.createdAt,
    });
    expect(toHex(bytes)).toBe(statementVector.encoded);
  });
});

describe('identity changes', () => {
  const fields = (): RecordValue[] => [1, 'identity-change', publicKeyOf('alice'), publicKeyOf('bob'), 1];

  it('refuses a change whose newSignature is missing with MALFORMED_RECORD', async () => {
    const onlyOld = await craft(fields(), [{ seed: ALICE, context: CONTEXTS.IDENTITY_CHANGE }]);
    await expectCode(() => decodeIdentityChange(onlyOld), 'MALFORMED_RECORD');
  });

  it('refuses a change whose newSignature was not made by the new key with BAD_RECORD_SIGNATURE', async () => {
    // Alice names Bob's key as her successor without holding it.
    const claimed = await craft(fields(), [
      { seed: ALICE, context: CONTEXTS.IDENTITY_CHANGE },
      { seed: ALICE, context: CONTEXTS.IDENTITY_CHANGE },
    ]);
    const error = await expectCode(() => decodeIdentityChange(claimed), 'BAD_RECORD_SIGNATURE');
    expect(error.message).toContain('newSignature');
    // The same through the create API with a signer that lies about its key.
    const alice = await createSigningKey(ALICE);
    const liar = { publicKey: publicKeyOf('bob'), sign: alice.sign };
    const bytes = await createIdentityChange({ oldSecretKey: ALICE, newSigner: liar, createdAt: 1 });
    await expectCode(() => decodeIdentityChange(bytes), 'BAD_RECORD_SIGNATURE');
  });

  it('refuses a change not authorised by the old key with BAD_RECORD_SIGNATURE', async () => {
    const hijack = await craft(fields(), [
      { seed: BOB, context: CONTEXTS.IDENTITY_CHANGE },
      { seed: BOB, context: CONTEXTS.IDENTITY_CHANGE },
    ]);
    expect((await expectCode(() => decodeIdentityChange(hijack), 'BAD_RECORD_SIGNATURE')).message).toContain('oldSignature');
  });

  it('refuses signatures made under the statement context with BAD_RECORD_SIGNATURE', async () => {
    const wrongContext = await craft(fields(), [
      { seed: ALICE, context: CONTEXTS.IDENTITY_STATEMENT },
      { seed: BOB, context: CONTEXTS.IDENTITY_STATEMENT },
    ]);
    await expectCode(() => decodeIdentityChange(wrongContext), 'BAD_RECORD_SIGNATURE');
  });

  it('refuses signatures swapped between old and new with BAD_RECORD_SIGNATURE', async () => {
    const good = await craft(fields(), [
      { seed: ALICE, context: CONTEXTS.IDENTITY_CHANGE },
      { seed: BOB, context: CONTEXTS.IDENTITY_CHANGE },
    ]);
    await decodeIdentityChange(good);
    const unsigned = encodeRecord(fields());
    const oldSig = await sign(ALICE, CONTEXTS.IDENTITY_CHANGE, unsigned);
    const newSig = await sign(BOB, CONTEXTS.IDENTITY_CHANGE, unsigned);
    await expectCode(() => decodeIdentityChange(encodeRecord([...fields(), newSig, oldSig])), 'BAD_RECORD_SIGNATURE');
  });

  it('refuses a change from a key to itself with INVALID_RECORD_FIELD, on create and on decode', async () => {
    await expectCode(
      () => createIdentityChange({ oldSecretKey: ALICE, newSecretKey: ALICE, createdAt: 1 }),
      'INVALID_RECORD_FIELD',
    );
    const self = await craft([1, 'identity-change', publicKeyOf('alice'), publicKeyOf('alice'), 1], [
      { seed: ALICE, context: CONTEXTS.IDENTITY_CHANGE },
      { seed: ALICE, context: CONTEXTS.IDENTITY_CHANGE },
    ]);
    expect((await expectCode(() => decodeIdentityChange(self), 'INVALID_RECORD_FIELD')).message).toContain('newKey');
  });

  it('gives the JSON view pages see', async () => {
    const change = await decodeIdentityChange(fromHex(changeVector.encoded));
    expect(identityChangeToJSON(change)).toEqual({
      oldKey: vectors.keys[0]!.publicKeyText,
      newKey: vectors.keys[1]!.publicKeyText,
      createdAt: changeVector.createdAt,
      oldSignature: toBase64url(change.oldSignature),
      newSignature: toBase64url(change.newSignature),
      encoded: toBase64url(fromHex(changeVector.encoded)),
    });
  });
});

it('uses the byte encoding of utf8 display names, not their length in characters', () => {
  expect(utf8('🌍').length).toBe(4);
  expect(displayNameProblem('🌍'.repeat(16))).toBeNull();
  expect(displayNameProblem('🌍'.repeat(16) + 'x')).not.toBeNull();
});
