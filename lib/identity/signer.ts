import * as ed from '@noble/ed25519';
import { fromBase64url, fromHex, equalBytes, randomBytes } from '../util/bytes.ts';
import {
  PKCS8_ED25519_PREFIX,
  PUBLIC_KEY_LENGTH,
  SECRET_KEY_LENGTH,
  SIGNATURE_LENGTH,
  VERIFY_KEY_CACHE_SIZE,
} from './constants.ts';
import {
  CryptoBackendUnavailableError,
  InvalidPublicKeyError,
  InvalidSecretKeyError,
  InvalidSignatureLengthError,
} from './errors.ts';
import { decodePoint } from './public-key.ts';
import { signingBytes } from './signing-bytes.ts';

export type CryptoBackendName = 'webcrypto' | 'noble';

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** A secret key imported once, for signing many messages (the vault and benchmarks use this). */
export interface SigningKey {
  readonly publicKey: Uint8Array;
  sign(context: string, message: Uint8Array): Promise<Uint8Array>;
}

/** Ed25519 with P2PB domain separation, bound to one backend. See lib/identity/index.ts. */
export interface Signer {
  backend(): Promise<CryptoBackendName>;
  generateKeyPair(): Promise<KeyPair>;
  getPublicKey(secretKey: Uint8Array): Promise<Uint8Array>;
  createSigningKey(secretKey: Uint8Array): Promise<SigningKey>;
  sign(secretKey: Uint8Array, context: string, message: Uint8Array): Promise<Uint8Array>;
  verify(publicKey: Uint8Array, context: string, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

export interface SignerOptions {
  /** 'auto' (default): WebCrypto Ed25519 when the runtime has it (checked once), else noble. */
  backend?: CryptoBackendName | 'auto';
  /** Public keys kept imported for verification (entries). */
  verifyKeyCacheSize?: number;
}

type EdPoint = InstanceType<typeof ed.Point>;
type Bytes = Uint8Array<ArrayBuffer>;

/** A public key that passed decodePoint, with whatever the backend needs to verify quickly. */
interface VerifyKey {
  bytes: Bytes;
  point: EdPoint;
  /** WebCrypto: the imported key once ready (lets verify call subtle.verify without a promise hop)… */
  cryptoKey?: CryptoKey;
  /** …and the import while it is in flight (shared by concurrent verifications of one key). */
  importing?: Promise<CryptoKey>;
}

interface Backend {
  readonly name: CryptoBackendName;
  publicKey(secretKey: Bytes): Promise<Uint8Array>;
  importSecret(secretKey: Bytes): Promise<(data: Bytes) => Promise<Uint8Array>>;
  verify(key: VerifyKey, signature: Bytes, data: Bytes): Promise<boolean>;
}

const ED25519 = 'Ed25519';

// ---------------------------------------------------------------------------------------------
// WebCrypto backend

function pkcs8(secretKey: Uint8Array): Bytes {
  const der = new Uint8Array(PKCS8_ED25519_PREFIX.length + SECRET_KEY_LENGTH);
  der.set(PKCS8_ED25519_PREFIX, 0);
  der.set(secretKey, PKCS8_ED25519_PREFIX.length);
  return der;
}

async function importSecretCryptoKey(secretKey: Uint8Array, extractable: boolean): Promise<CryptoKey> {
  const der = pkcs8(secretKey);
  try {
    return await crypto.subtle.importKey('pkcs8', der, ED25519, extractable, ['sign']);
  } finally {
    der.fill(0);
  }
}

const webcryptoBackend: Backend = {
  name: 'webcrypto',
  async publicKey(secretKey) {
    // A private CryptoKey exposes its public half only through JWK export ("x").
    const key = await importSecretCryptoKey(secretKey, true);
    const jwk = await crypto.subtle.exportKey('jwk', key);
    if (typeof jwk.x !== 'string') throw new CryptoBackendUnavailableError('WebCrypto JWK export lacks "x"');
    return fromBase64url(jwk.x);
  },
  async importSecret(secretKey) {
    const key = await importSecretCryptoKey(secretKey, false);
    return async (data) => new Uint8Array(await crypto.subtle.sign(ED25519, key, data));
  },
  verify(key, signature, data) {
    if (key.cryptoKey !== undefined) return crypto.subtle.verify(ED25519, key.cryptoKey, signature, data);
    key.importing ??= crypto.subtle.importKey('raw', key.bytes, ED25519, false, ['verify']).then(
      (cryptoKey) => (key.cryptoKey = cryptoKey),
      (error: unknown) => {
        key.importing = undefined; // let a later call try again
        throw error;
      },
    );
    return key.importing.then((cryptoKey) => crypto.subtle.verify(ED25519, cryptoKey, signature, data));
  },
};

// ---------------------------------------------------------------------------------------------
// noble backend

const { Point } = ed;
const CURVE_ORDER = Point.CURVE().n;

function bytesToNumberLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/**
 * RFC 8032 §5.1.7 verification with the cofactorless equation [S]B = R + [k]A, comparing the
 * encoding of [S]B - [k]A with the R bytes — what OpenSSL, BoringSSL and NSS (behind WebCrypto)
 * do. noble's own verifyAsync uses the cofactored equation (its ZIP-215 default and its strict
 * mode alike), which accepts signatures with a small-order component in R that WebCrypto rejects;
 * a signer could use that to make peers on different backends disagree. Point arithmetic and
 * SHA-512 are noble's.
 */
async function verifyCofactorless(key: VerifyKey, signature: Bytes, data: Bytes): Promise<boolean> {
  const r = signature.subarray(0, 32);
  const s = bytesToNumberLE(signature.subarray(32, 64));
  if (s >= CURVE_ORDER) return false; // RFC 8032: reject non-canonical S (malleability)
  const hashInput = new Uint8Array(64 + data.length);
  hashInput.set(r, 0);
  hashInput.set(key.bytes, 32);
  hashInput.set(data, 64);
  const k = ed.etc.mod(bytesToNumberLE(await ed.hashes.sha512Async(hashInput)), CURVE_ORDER);
  const expectedR = Point.BASE.multiply(s, false).subtract(key.point.multiply(k, false));
  return equalBytes(expectedR.toBytes(), r);
}

const nobleBackend: Backend = {
  name: 'noble',
  publicKey: (secretKey) => ed.getPublicKeyAsync(secretKey),
  async importSecret(secretKey) {
    const seed = new Uint8Array(secretKey);
    return (data) => ed.signAsync(data, seed);
  },
  verify: verifyCofactorless,
};

// ---------------------------------------------------------------------------------------------
// Detection

// RFC 8032 §7.1 TEST 1: a known seed, its public key, and its signature of the empty message.
const PROBE_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const PROBE_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const PROBE_SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

/** True when this runtime's WebCrypto signs and verifies Ed25519 exactly as RFC 8032 says. */
async function webcryptoWorks(): Promise<boolean> {
  try {
    if (typeof crypto === 'undefined' || crypto.subtle === undefined) return false;
    const seed = fromHex(PROBE_SEED);
    const publicKey = fromHex(PROBE_PUBLIC) as Bytes;
    const expected = fromHex(PROBE_SIGNATURE) as Bytes;
    const empty = new Uint8Array(0);
    const sign = await webcryptoBackend.importSecret(seed as Bytes);
    if (!equalBytes(await sign(empty), expected)) return false;
    if (!equalBytes(await webcryptoBackend.publicKey(seed as Bytes), publicKey)) return false;
    const point = decodePoint(publicKey);
    if (typeof point === 'string') return false;
    return await webcryptoBackend.verify({ bytes: publicKey, point }, expected, empty);
  } catch {
    return false;
  }
}

let detected: Promise<CryptoBackendName> | undefined;

/** The backend 'auto' picks in this runtime (probed once, then cached). */
export function detectBackend(): Promise<CryptoBackendName> {
  detected ??= webcryptoWorks().then((ok) => (ok ? 'webcrypto' : 'noble'));
  return detected;
}

const BACKENDS: Record<CryptoBackendName, Backend> = { webcrypto: webcryptoBackend, noble: nobleBackend };

// ---------------------------------------------------------------------------------------------
// Input checks

function checkSecretKey(secretKey: Uint8Array): Bytes {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== SECRET_KEY_LENGTH) {
    throw new InvalidSecretKeyError();
  }
  return ownBuffer(secretKey);
}

function checkSignature(signature: Uint8Array): Bytes {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) {
    throw new InvalidSignatureLengthError();
  }
  return ownBuffer(signature);
}

/** WebCrypto takes views of plain ArrayBuffers only; copy the rare view of a SharedArrayBuffer. */
function ownBuffer(bytes: Uint8Array): Bytes {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Bytes) : new Uint8Array(bytes);
}

/** Cache key for 32 bytes: a short binary string (faster than hex, and never shown). */
function keyId(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

// ---------------------------------------------------------------------------------------------

/**
 * Builds a signer bound to one backend. The module-level functions in index.ts use a shared
 * 'auto' signer; tests and benchmarks make their own to compare backends.
 */
export function createSigner(options: SignerOptions = {}): Signer {
  const requested = options.backend ?? 'auto';
  const cacheSize = options.verifyKeyCacheSize ?? VERIFY_KEY_CACHE_SIZE;
  let chosen: Backend | undefined;
  let choosing: Promise<Backend> | undefined;

  function getBackend(): Promise<Backend> {
    choosing ??= (async () => {
      if (requested === 'noble') return nobleBackend;
      const name = await detectBackend();
      if (requested === 'webcrypto' && name !== 'webcrypto') {
        throw new CryptoBackendUnavailableError('WebCrypto Ed25519 is not available in this runtime');
      }
      return BACKENDS[name];
    })();
    return choosing.then((backend) => (chosen = backend));
  }

  // Bounded LRU of public keys that passed validation: Map iteration order is insertion order,
  // so a hit is moved to the end and the first entry is the least recently used.
  const verifyKeys = new Map<string, VerifyKey>();

  function verifyKey(publicKey: Uint8Array): VerifyKey {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) {
      throw new InvalidPublicKeyError(`public key must be a ${PUBLIC_KEY_LENGTH}-byte Uint8Array`);
    }
    const id = keyId(publicKey);
    const hit = verifyKeys.get(id);
    if (hit !== undefined) {
      verifyKeys.delete(id);
      verifyKeys.set(id, hit);
      return hit;
    }
    const point = decodePoint(publicKey);
    if (typeof point === 'string') throw new InvalidPublicKeyError(point);
    const entry: VerifyKey = { bytes: new Uint8Array(publicKey), point };
    if (cacheSize > 0) {
      if (verifyKeys.size >= cacheSize) {
        const oldest = verifyKeys.keys().next().value;
        if (oldest !== undefined) verifyKeys.delete(oldest);
      }
      verifyKeys.set(id, entry);
    }
    return entry;
  }

  async function createSigningKey(secretKey: Uint8Array): Promise<SigningKey> {
    const seed = checkSecretKey(secretKey);
    const backend = chosen ?? (await getBackend());
    const [publicKey, signData] = await Promise.all([backend.publicKey(seed), backend.importSecret(seed)]);
    return {
      publicKey,
      sign: (context, message) => signData(signingBytes(context, message)),
    };
  }

  return {
    backend: async () => (chosen ?? (await getBackend())).name,

    async generateKeyPair() {
      const secretKey = randomBytes(SECRET_KEY_LENGTH);
      const backend = chosen ?? (await getBackend());
      return { publicKey: await backend.publicKey(secretKey), secretKey };
    },

    async getPublicKey(secretKey) {
      const seed = checkSecretKey(secretKey);
      return (chosen ?? (await getBackend())).publicKey(seed);
    },

    createSigningKey,

    async sign(secretKey, context, message) {
      const seed = checkSecretKey(secretKey);
      const data = signingBytes(context, message);
      const backend = chosen ?? (await getBackend());
      const signData = await backend.importSecret(seed);
      return signData(data);
    },

    // Not `async`: on the hot path this avoids one extra promise per call.
    verify(publicKey, context, message, signature) {
      try {
        const key = verifyKey(publicKey);
        const sig = checkSignature(signature);
        const data = signingBytes(context, message);
        if (chosen !== undefined) return chosen.verify(key, sig, data);
        return getBackend().then((backend) => backend.verify(key, sig, data));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}
