import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { describe, expect, it } from 'vitest';
import { base58 } from '@scure/base';
import { concatBytes, fromHex, randomBytes, toHex, utf8 } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import {
  CONTEXTS,
  CONTEXT_PATTERN,
  createSigner,
  createSigningKey,
  cryptoBackend,
  decodePublicKey,
  encodePublicKey,
  generateKeyPair,
  getPublicKey,
  isPublicKeyText,
  isValidContext,
  isValidPublicKey,
  sign,
  signingBytes,
  verify,
} from './index.ts';

const webcrypto = createSigner({ backend: 'webcrypto' });
const noble = createSigner({ backend: 'noble' });
const backends = [
  ['webcrypto', webcrypto],
  ['noble', noble],
] as const;

// RFC 8032 §7.1, TEST 1 and TEST 2 (seed, public key; signatures there are over raw messages).
const RFC_SEED_1 = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const RFC_PUB_1 = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC_SEED_2 = fromHex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb');
const RFC_PUB_2 = '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const le = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};
const fromLe = (bytes: Uint8Array): bigint => {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
};

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  let error: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (e) {
    error = e;
  }
  expect(error, `expected an error with code ${code}`).toBeInstanceOf(P2pbError);
  expect((error as P2pbError).code).toBe(code);
}

describe('signingBytes', () => {
  it('is "P2PB-SIG-V1" 0x00 len(context) context message', () => {
    const bytes = signingBytes('p2pb/page-sign/v1', utf8('hello'));
    expect(toHex(bytes)).toBe(
      toHex(concatBytes(utf8('P2PB-SIG-V1'), Uint8Array.of(0, 17), utf8('p2pb/page-sign/v1'), utf8('hello'))),
    );
  });

  it('accepts every defined context and contexts up to 100 characters', () => {
    for (const context of Object.values(CONTEXTS)) expect(isValidContext(context)).toBe(true);
    expect(new Set(Object.values(CONTEXTS)).size).toBe(Object.values(CONTEXTS).length);
    const longest = 'a'.repeat(100);
    expect(signingBytes(longest, new Uint8Array(0))[12]).toBe(100);
  });

  it('refuses invalid contexts with INVALID_CONTEXT', async () => {
    for (const context of ['', 'A', 'P2PB/x', '/leading', '-leading', 'a b', 'é', 'a'.repeat(101), 'a\u0000', 'a\n']) {
      expect(CONTEXT_PATTERN.test(context)).toBe(false);
      await expectCode(() => signingBytes(context, new Uint8Array(0)), 'INVALID_CONTEXT');
    }
    await expectCode(() => signingBytes(42 as unknown as string, new Uint8Array(0)), 'INVALID_CONTEXT');
  });

  it('refuses a message that is not bytes with INVALID_MESSAGE', async () => {
    await expectCode(() => signingBytes(CONTEXTS.PAGE_SIGN, 'hello' as unknown as Uint8Array), 'INVALID_MESSAGE');
  });
});

describe('keys', () => {
  it('derives the RFC 8032 public keys from their seeds, on both backends', async () => {
    for (const [, signer] of backends) {
      expect(toHex(await signer.getPublicKey(RFC_SEED_1))).toBe(RFC_PUB_1);
      expect(toHex(await signer.getPublicKey(RFC_SEED_2))).toBe(RFC_PUB_2);
    }
  });

  it('generates distinct key pairs whose public key matches the seed', async () => {
    const a = await generateKeyPair();
    const b = await generateKeyPair();
    expect(a.secretKey).toHaveLength(32);
    expect(a.publicKey).toHaveLength(32);
    expect(toHex(a.secretKey)).not.toBe(toHex(b.secretKey));
    expect(toHex(await getPublicKey(a.secretKey))).toBe(toHex(a.publicKey));
    expect(toHex(await noble.getPublicKey(a.secretKey))).toBe(toHex(a.publicKey));
  });

  it('refuses secret keys that are not 32 bytes with INVALID_SECRET_KEY', async () => {
    for (const bad of [new Uint8Array(31), new Uint8Array(33), new Uint8Array(64), 'x' as unknown as Uint8Array]) {
      await expectCode(getPublicKey(bad), 'INVALID_SECRET_KEY');
      await expectCode(sign(bad, CONTEXTS.PAGE_SIGN, new Uint8Array(1)), 'INVALID_SECRET_KEY');
      await expectCode(noble.sign(bad, CONTEXTS.PAGE_SIGN, new Uint8Array(1)), 'INVALID_SECRET_KEY');
    }
  });

  it('uses WebCrypto in Node 22', async () => {
    expect(await cryptoBackend()).toBe('webcrypto');
    expect(await noble.backend()).toBe('noble');
  });
});

describe('public key text form', () => {
  it('round trips many random keys through a 48-character did:key id starting with z6Mk', async () => {
    for (let i = 0; i < 200; i++) {
      const publicKey = await noble.getPublicKey(randomBytes(32));
      const text = encodePublicKey(publicKey);
      expect(text).toMatch(/^z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/);
      expect(isPublicKeyText(text)).toBe(true);
      expect(toHex(decodePublicKey(text))).toBe(toHex(publicKey));
    }
  });

  it('matches the did:key form of the RFC 8032 test key', () => {
    // did:key spec: base58btc("z") of 0xed01 + key.
    const expected = 'z' + base58.encode(concatBytes(Uint8Array.of(0xed, 0x01), fromHex(RFC_PUB_1)));
    expect(encodePublicKey(fromHex(RFC_PUB_1))).toBe(expected);
  });

  const valid = encodePublicKey(fromHex(RFC_PUB_1));
  const withPrefix = (prefix: number[], key: Uint8Array) => 'z' + base58.encode(concatBytes(Uint8Array.from(prefix), key));
  const small = (hex: string) => fromHex(hex);
  const bad: Array<[string, unknown]> = [
    ['empty', ''],
    ['not a string', 42],
    ['one character short', valid.slice(0, -1)],
    ['one character long', valid + '1'],
    ['another multibase prefix', 'm' + valid.slice(1)],
    ['upper-case prefix', 'Z' + valid.slice(1)],
    ['0 (not base58)', valid.slice(0, 10) + '0' + valid.slice(11)],
    ['O (not base58)', valid.slice(0, 10) + 'O' + valid.slice(11)],
    ['l (not base58)', valid.slice(0, 10) + 'l' + valid.slice(11)],
    ['whitespace', ' ' + valid.slice(1)],
    ['secp256k1-pub multicodec', withPrefix([0xe7, 0x01], fromHex(RFC_PUB_1))],
    ['x25519-pub multicodec', withPrefix([0xec, 0x01], fromHex(RFC_PUB_1))],
    ['31-byte key', withPrefix([0xed, 0x01], fromHex(RFC_PUB_1).slice(1))],
    // y = p: a non-canonical encoding (y must be < 2^255 - 19).
    ['non-canonical y', withPrefix([0xed, 0x01], small('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'))],
    // y = 2 is not the y-coordinate of any curve point.
    ['not on the curve', withPrefix([0xed, 0x01], small('0200000000000000000000000000000000000000000000000000000000000000'))],
    // The identity point and a point of order 8: small-order keys are refused.
    ['identity point', withPrefix([0xed, 0x01], small('0100000000000000000000000000000000000000000000000000000000000000'))],
    ['order-8 point', withPrefix([0xed, 0x01], small('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'))],
  ];
  for (const [what, text] of bad) {
    it(`refuses ${what} with INVALID_PUBLIC_KEY`, async () => {
      expect(isPublicKeyText(text)).toBe(false);
      await expectCode(() => decodePublicKey(text as string), 'INVALID_PUBLIC_KEY');
    });
  }

  it('refuses to encode bytes that are not an acceptable key', async () => {
    expect(isValidPublicKey(fromHex(RFC_PUB_1))).toBe(true);
    for (const key of [new Uint8Array(31), new Uint8Array(33), small('0100000000000000000000000000000000000000000000000000000000000000')]) {
      expect(isValidPublicKey(key)).toBe(false);
      await expectCode(() => encodePublicKey(key), 'INVALID_PUBLIC_KEY');
    }
  });
});

describe('sign and verify', () => {
  it('gives identical signatures on WebCrypto and noble, and each verifies the other', async () => {
    for (let i = 0; i < 40; i++) {
      const secretKey = randomBytes(32);
      const publicKey = await webcrypto.getPublicKey(secretKey);
      const message = randomBytes(i * 7);
      const a = await webcrypto.sign(secretKey, CONTEXTS.PAGE_SIGN, message);
      const b = await noble.sign(secretKey, CONTEXTS.PAGE_SIGN, message);
      expect(toHex(a)).toBe(toHex(b));
      expect(await noble.verify(publicKey, CONTEXTS.PAGE_SIGN, message, a)).toBe(true);
      expect(await webcrypto.verify(publicKey, CONTEXTS.PAGE_SIGN, message, b)).toBe(true);
      const wrong = Uint8Array.from(a);
      wrong[i % 64]! ^= 0x04;
      expect(await webcrypto.verify(publicKey, CONTEXTS.PAGE_SIGN, message, wrong)).toBe(false);
      expect(await noble.verify(publicKey, CONTEXTS.PAGE_SIGN, message, wrong)).toBe(false);
    }
  });

  it('signs signingBytes with plain RFC 8032 ed25519, so node:crypto verifies it', async () => {
    const { publicKey, secretKey } = await generateKeyPair();
    const message = utf8('third parties verify with any ed25519 library');
    const signature = await sign(secretKey, CONTEXTS.IDENTITY_STATEMENT, message);
    const keyObject = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]),
      format: 'der',
      type: 'spki',
    });
    expect(nodeVerify(null, signingBytes(CONTEXTS.IDENTITY_STATEMENT, message), keyObject, signature)).toBe(true);
    expect(nodeVerify(null, message, keyObject, signature)).toBe(false);
  });

  it('never verifies a signature under a context other than the one it was made for', async () => {
    const { publicKey, secretKey } = await generateKeyPair();
    const message = utf8('same message');
    const contexts = Object.values(CONTEXTS);
    for (const made of contexts) {
      const signature = await sign(secretKey, made, message);
      for (const [, signer] of backends) {
        for (const other of [...contexts, 'p2pb/page-sign/v2', 'p2pb']) {
          expect(await signer.verify(publicKey, other, message, signature)).toBe(other === made);
        }
      }
      // Nor as a raw ed25519 signature of the bare message.
      expect(await ed.verifyAsync(signature, message, publicKey)).toBe(false);
    }
  });

  it('does not let context and message boundaries shift (the context length is signed)', async () => {
    const { publicKey, secretKey } = await generateKeyPair();
    const signature = await sign(secretKey, 'p2pb/a', utf8('bc'));
    expect(await verify(publicKey, 'p2pb/ab', utf8('c'), signature)).toBe(false);
    expect(toHex(signingBytes('p2pb/a', utf8('bc')))).not.toBe(toHex(signingBytes('p2pb/ab', utf8('c'))));
  });

  it('returns false for a wrong message, key or signature', async () => {
    const alice = await generateKeyPair();
    const bob = await generateKeyPair();
    const message = utf8('m');
    const signature = await sign(alice.secretKey, CONTEXTS.PAGE_SIGN, message);
    for (const [, signer] of backends) {
      expect(await signer.verify(alice.publicKey, CONTEXTS.PAGE_SIGN, message, signature)).toBe(true);
      expect(await signer.verify(alice.publicKey, CONTEXTS.PAGE_SIGN, utf8('n'), signature)).toBe(false);
      expect(await signer.verify(bob.publicKey, CONTEXTS.PAGE_SIGN, message, signature)).toBe(false);
      expect(await signer.verify(alice.publicKey, CONTEXTS.PAGE_SIGN, message, new Uint8Array(64))).toBe(false);
    }
  });

  it('rejects S + L (signature malleability) on both backends', async () => {
    const { publicKey, secretKey } = await generateKeyPair();
    const message = utf8('m');
    const signature = await sign(secretKey, CONTEXTS.PAGE_SIGN, message);
    const s = fromLe(signature.subarray(32));
    const malleated = concatBytes(signature.subarray(0, 32), le(s + L));
    for (const [, signer] of backends) {
      expect(await signer.verify(publicKey, CONTEXTS.PAGE_SIGN, message, malleated)).toBe(false);
    }
  });

  it('agrees across backends on a signature whose R has a small-order component (both reject)', async () => {
    // A signer who knows the secret scalar a can publish R' = rB + T (T of order 8) with
    // S = r + H(R'||A||M)·a. The cofactored equation (noble's own verify) accepts it; the
    // cofactorless one (OpenSSL/BoringSSL/NSS, and our noble path) does not. Peers must agree.
    const seed = randomBytes(32);
    const { scalar: a, pointBytes: A } = await ed.utils.getExtendedPublicKeyAsync(seed);
    const T = ed.Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');
    expect(T.isSmallOrder() && !T.is0()).toBe(true);
    const r = (fromLe(randomBytes(32)) % (L - 1n)) + 1n;
    const R = ed.Point.BASE.multiply(r).add(T).toBytes();
    const message = utf8('forked');
    const data = signingBytes(CONTEXTS.PAGE_SIGN, message);
    const k = fromLe(createHash('sha512').update(concatBytes(R, A, data)).digest()) % L;
    const signature = concatBytes(R, le((r + k * a) % L));

    expect(await ed.verifyAsync(signature, data, A)).toBe(true); // cofactored accepts
    for (const [, signer] of backends) {
      expect(await signer.verify(A, CONTEXTS.PAGE_SIGN, message, signature)).toBe(false);
    }
  });

  it('throws named errors for malformed inputs, on both backends', async () => {
    const { publicKey, secretKey } = await generateKeyPair();
    const message = utf8('m');
    const signature = await sign(secretKey, CONTEXTS.PAGE_SIGN, message);
    for (const [, signer] of backends) {
      await expectCode(signer.verify(publicKey.subarray(1), CONTEXTS.PAGE_SIGN, message, signature), 'INVALID_PUBLIC_KEY');
      await expectCode(signer.verify(new Uint8Array(33), CONTEXTS.PAGE_SIGN, message, signature), 'INVALID_PUBLIC_KEY');
      await expectCode(
        signer.verify(fromHex('0100000000000000000000000000000000000000000000000000000000000000'), CONTEXTS.PAGE_SIGN, message, signature),
        'INVALID_PUBLIC_KEY',
      );
      await expectCode(signer.verify(publicKey, CONTEXTS.PAGE_SIGN, message, signature.subarray(1)), 'INVALID_SIGNATURE_LENGTH');
      await expectCode(signer.verify(publicKey, CONTEXTS.PAGE_SIGN, message, new Uint8Array(65)), 'INVALID_SIGNATURE_LENGTH');
      await expectCode(signer.verify(publicKey, 'Bad Context', message, signature), 'INVALID_CONTEXT');
      await expectCode(signer.sign(secretKey, 'Bad Context', message), 'INVALID_CONTEXT');
      await expectCode(signer.verify(publicKey, CONTEXTS.PAGE_SIGN, [1] as unknown as Uint8Array, signature), 'INVALID_MESSAGE');
    }
  });

  it('signs the same bytes through an imported signing key as through sign()', async () => {
    for (const [, signer] of backends) {
      const { publicKey, secretKey } = await signer.generateKeyPair();
      const key = await signer.createSigningKey(secretKey);
      expect(toHex(key.publicKey)).toBe(toHex(publicKey));
      const message = utf8('x');
      expect(toHex(await key.sign(CONTEXTS.PAGE_SIGN, message))).toBe(toHex(await sign(secretKey, CONTEXTS.PAGE_SIGN, message)));
    }
    const key = await createSigningKey(RFC_SEED_1);
    expect(toHex(key.publicKey)).toBe(RFC_PUB_1);
  });

  it('keeps verifying correctly when more keys are used than the key cache holds', async () => {
    const tiny = createSigner({ backend: 'webcrypto', verifyKeyCacheSize: 2 });
    const pairs = await Promise.all(Array.from({ length: 5 }, () => generateKeyPair()));
    const message = utf8('m');
    const signatures = await Promise.all(pairs.map((p) => sign(p.secretKey, CONTEXTS.PAGE_SIGN, message)));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < pairs.length; i++) {
        for (let j = 0; j < pairs.length; j++) {
          expect(await tiny.verify(pairs[i]!.publicKey, CONTEXTS.PAGE_SIGN, message, signatures[j]!)).toBe(i === j);
        }
      }
    }
  });

  it('is not fooled by mutating a public key after it was cached', async () => {
    const alice = await generateKeyPair();
    const bob = await generateKeyPair();
    const message = utf8('m');
    const signature = await sign(bob.secretKey, CONTEXTS.PAGE_SIGN, message);
    const key = Uint8Array.from(alice.publicKey);
    expect(await verify(key, CONTEXTS.PAGE_SIGN, message, signature)).toBe(false);
    key.set(bob.publicKey);
    expect(await verify(key, CONTEXTS.PAGE_SIGN, message, signature)).toBe(true);
  });

  it('verifies many signatures concurrently', async () => {
    const pairs = await Promise.all(Array.from({ length: 8 }, () => generateKeyPair()));
    const jobs = Array.from({ length: 256 }, (_, i) => ({ pair: pairs[i % 8]!, message: utf8(`message ${i}`) }));
    const signatures = await Promise.all(jobs.map((j) => sign(j.pair.secretKey, CONTEXTS.PAGE_SIGN, j.message)));
    const results = await Promise.all(
      jobs.map((j, i) => verify(j.pair.publicKey, CONTEXTS.PAGE_SIGN, j.message, signatures[(i + (i % 3 === 0 ? 1 : 0)) % 256]!)),
    );
    expect(results).toEqual(jobs.map((_, i) => i % 3 !== 0));
  });
});
