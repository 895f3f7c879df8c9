/**
 * Stored shapes (docs/vault.md is their written form): the sealed header shared by the vault (v2)
 * and the backup file, the payload inside the ciphertext, and strict parsers for both. Parsers
 * take the error class to throw so the vault says CORRUPT_VAULT and a backup MALFORMED_BACKUP.
 */
import { fromBase64url, fromUtf8, toBase64url, utf8 } from '../util/bytes.ts';
import type { P2pbError } from '../util/errors.ts';
import { open, seal } from './crypto.ts';
import {
  CIPHER_NAME,
  GCM_TAG_LENGTH,
  IV_LENGTH,
  KDF_HASH,
  KDF_NAME,
  MAX_KDF_ITERATIONS,
  PAYLOAD_PADDING_BLOCK,
  SALT_LENGTH,
  SECRET_KEY_LENGTH,
} from './constants.ts';

export type ErrorFactory = (message: string, cause?: unknown) => P2pbError;

export interface KdfHeader {
  name: typeof KDF_NAME;
  hash: typeof KDF_HASH;
  iterations: number;
  /** base64url, SALT_LENGTH bytes */
  salt: string;
}

export interface CipherHeader {
  name: typeof CIPHER_NAME;
  /** base64url, IV_LENGTH bytes, fresh for every write */
  iv: string;
}

/** What a sealed file (vault v2, backup v1) carries next to its own version/format fields. */
export interface SealedFields {
  kdf: KdfHeader;
  cipher: CipherHeader;
  /** base64url of AES-GCM ciphertext ‖ 16-byte tag */
  data: string;
}

/** The vault in `local`, format version 2. */
export interface StoredVaultV2 extends SealedFields {
  version: 2;
}

/** The vault in `local`, format version 1 (first prototype; read only, migrated on unlock). */
export interface StoredVaultV1 {
  version: 1;
  salt: string;
  iterations: number;
  iv: string;
  data: string;
}

/** One identity inside the ciphertext (payload v2 and backups). */
export interface StoredIdentity {
  /** base64url of the 32-byte ed25519 seed */
  secretKey: string;
  displayName: string;
  /** ms since the epoch: when the identity was made (or migrated/imported into a vault) */
  createdAt: number;
  /** base64url of the signed identity statement (lib/records) */
  statement: string;
}

/** The plaintext of a v2 vault and of a backup. */
export interface PayloadV2 {
  identities: StoredIdentity[];
}

/** The plaintext of a v1 vault. */
export interface PayloadV1 {
  keys: { name: string; seed: string }[];
}

export interface ParsedSealed {
  iterations: number;
  salt: Uint8Array;
  iv: Uint8Array;
  data: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Small strict readers

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function readBytes(
  value: unknown,
  what: string,
  fail: ErrorFactory,
  length?: { exactly?: number; atLeast?: number },
): Uint8Array {
  if (typeof value !== 'string') throw fail(`${what} is not a base64url string`);
  let bytes: Uint8Array;
  try {
    bytes = fromBase64url(value);
  } catch (err) {
    throw fail(`${what} is not valid base64url`, err);
  }
  if (length?.exactly !== undefined && bytes.length !== length.exactly) {
    throw fail(`${what} must be ${length.exactly} bytes, got ${bytes.length}`);
  }
  if (length?.atLeast !== undefined && bytes.length < length.atLeast) {
    throw fail(`${what} must be at least ${length.atLeast} bytes, got ${bytes.length}`);
  }
  return bytes;
}

export function readIterations(value: unknown, fail: ErrorFactory): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > MAX_KDF_ITERATIONS) {
    throw fail(`KDF iterations must be an integer from 1 to ${MAX_KDF_ITERATIONS}`);
  }
  return value as number;
}

/** The version field of a stored vault: a positive integer, or CorruptVaultError via `fail`. */
export function readVersion(record: unknown, fail: ErrorFactory): number {
  if (!isRecord(record)) throw fail('The stored vault is not an object');
  const { version } = record;
  if (!Number.isSafeInteger(version) || (version as number) < 1) {
    throw fail('The stored vault has no valid version');
  }
  return version as number;
}

// ---------------------------------------------------------------------------------------------
// Sealed header (vault v2, backup v1)

/**
 * The AES-GCM additional data binding a header to its ciphertext: UTF-8 of the JSON array
 * `[tag, version, "PBKDF2", "SHA-256", iterations, salt (base64url), "AES-GCM"]`. Changing any
 * header field on disk (e.g. lowering the iterations) makes decryption fail.
 */
export function headerAad(tag: string, version: number, iterations: number, salt: Uint8Array): Uint8Array {
  return utf8(JSON.stringify([tag, version, KDF_NAME, KDF_HASH, iterations, toBase64url(salt), CIPHER_NAME]));
}

/** What encrypts a sealed file: the derived key and the KDF parameters it was derived with. */
export interface Keyring {
  key: CryptoKey;
  salt: Uint8Array;
  iterations: number;
}

/** Encrypts `payload` (padded JSON) under `keyring` with a fresh IV; the header is the AAD. */
export async function sealPayload(
  tag: string,
  version: number,
  keyring: Keyring,
  payload: unknown,
): Promise<SealedFields> {
  const { key, salt, iterations } = keyring;
  const sealed = await seal(key, encodePayload(payload), headerAad(tag, version, iterations, salt));
  return {
    kdf: { name: KDF_NAME, hash: KDF_HASH, iterations, salt: toBase64url(salt) },
    cipher: { name: CIPHER_NAME, iv: toBase64url(sealed.iv) },
    data: toBase64url(sealed.data),
  };
}

/** The plaintext of a parsed sealed file, or undefined when the key does not fit. */
export function openSealed(
  tag: string,
  version: number,
  key: CryptoKey,
  sealed: ParsedSealed,
): Promise<Uint8Array | undefined> {
  return open(key, sealed, headerAad(tag, version, sealed.iterations, sealed.salt));
}

export function parseSealedFields(record: Record<string, unknown>, fail: ErrorFactory): ParsedSealed {
  const { kdf, cipher, data } = record;
  if (!isRecord(kdf)) throw fail('kdf is missing');
  if (kdf.name !== KDF_NAME || kdf.hash !== KDF_HASH) {
    throw fail(`Unsupported KDF ${String(kdf.name)}/${String(kdf.hash)}`);
  }
  if (!isRecord(cipher)) throw fail('cipher is missing');
  if (cipher.name !== CIPHER_NAME) throw fail(`Unsupported cipher ${String(cipher.name)}`);
  return {
    iterations: readIterations(kdf.iterations, fail),
    salt: readBytes(kdf.salt, 'kdf.salt', fail, { exactly: SALT_LENGTH }),
    iv: readBytes(cipher.iv, 'cipher.iv', fail, { exactly: IV_LENGTH }),
    data: readBytes(data, 'data', fail, { atLeast: GCM_TAG_LENGTH }),
  };
}

export function parseStoredV1(record: Record<string, unknown>, fail: ErrorFactory): ParsedSealed {
  return {
    iterations: readIterations(record.iterations, fail),
    // The prototype wrote a 16-byte salt and 12-byte IV; accept any non-empty salt it may have used.
    salt: readBytes(record.salt, 'salt', fail, { atLeast: 1 }),
    iv: readBytes(record.iv, 'iv', fail, { exactly: IV_LENGTH }),
    data: readBytes(record.data, 'data', fail, { atLeast: GCM_TAG_LENGTH }),
  };
}

// ---------------------------------------------------------------------------------------------
// Payloads

/** JSON → UTF-8, padded with spaces to a multiple of PAYLOAD_PADDING_BLOCK (JSON ignores them). */
export function encodePayload(payload: unknown): Uint8Array {
  const json = utf8(JSON.stringify(payload));
  const padded = new Uint8Array(Math.ceil((json.length + 1) / PAYLOAD_PADDING_BLOCK) * PAYLOAD_PADDING_BLOCK);
  padded.fill(0x20);
  padded.set(json);
  return padded;
}

export function decodePayloadJson(plaintext: Uint8Array, fail: ErrorFactory): unknown {
  try {
    return JSON.parse(fromUtf8(plaintext));
  } catch (err) {
    throw fail('The decrypted payload is not JSON', err);
  }
}

export function parsePayloadV2(payload: unknown, fail: ErrorFactory): PayloadV2 {
  if (!isRecord(payload) || !Array.isArray(payload.identities)) {
    throw fail('The payload has no identities list');
  }
  const identities = payload.identities.map((entry: unknown, index): StoredIdentity => {
    const what = `identities[${index}]`;
    if (!isRecord(entry)) throw fail(`${what} is not an object`);
    readBytes(entry.secretKey, `${what}.secretKey`, fail, { exactly: SECRET_KEY_LENGTH });
    readBytes(entry.statement, `${what}.statement`, fail, { atLeast: 1 });
    if (typeof entry.displayName !== 'string') throw fail(`${what}.displayName is not a string`);
    if (!Number.isSafeInteger(entry.createdAt) || (entry.createdAt as number) < 0) {
      throw fail(`${what}.createdAt is not a time`);
    }
    return {
      secretKey: entry.secretKey as string,
      displayName: entry.displayName,
      createdAt: entry.createdAt as number,
      statement: entry.statement as string,
    };
  });
  return { identities };
}

export function parsePayloadV1(payload: unknown, fail: ErrorFactory): PayloadV1 {
  if (!isRecord(payload) || !Array.isArray(payload.keys)) throw fail('The v1 payload has no keys list');
  const keys = payload.keys.map((entry: unknown, index) => {
    if (!isRecord(entry) || typeof entry.name !== 'string' || typeof entry.seed !== 'string') {
      throw fail(`keys[${index}] must be { name: string, seed: hex string }`);
    }
    if (!/^[0-9a-fA-F]{64}$/.test(entry.seed)) throw fail(`keys[${index}].seed is not 32 bytes of hex`);
    return { name: entry.name, seed: entry.seed.toLowerCase() };
  });
  return { keys };
}
