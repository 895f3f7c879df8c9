/**
 * The vault's cipher, on WebCrypto only (runs in Node, pages and a Chrome MV3 service worker):
 * PBKDF2-HMAC-SHA-256 → 256-bit AES-GCM key; AES-GCM with a fresh random 96-bit IV per write.
 */
import { copyBytes, randomBytes, utf8 } from '../util/bytes.ts';
import {
  AES_KEY_LENGTH,
  CIPHER_NAME,
  IV_LENGTH,
  KDF_HASH,
  KDF_NAME,
  MIN_PASSPHRASE_LENGTH,
  SALT_LENGTH,
} from './constants.ts';
import { WeakPassphraseError } from './errors.ts';

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;

/** The form every passphrase is derived from: NFC, so the same text typed anywhere matches. */
export const normalizePassphrase = (passphrase: string): string => passphrase.normalize('NFC');

/** Throws WeakPassphraseError unless the passphrase has MIN_PASSPHRASE_LENGTH code points. */
export function assertStrongPassphrase(passphrase: string): void {
  if (typeof passphrase !== 'string' || [...normalizePassphrase(passphrase)].length < MIN_PASSPHRASE_LENGTH) {
    throw new WeakPassphraseError(MIN_PASSPHRASE_LENGTH);
  }
}

export const newSalt = (): Uint8Array<ArrayBuffer> => randomBytes(SALT_LENGTH);

/**
 * PBKDF2-HMAC-SHA-256(passphrase as UTF-8, salt, iterations) → 32 raw key bytes. The caller
 * decides the passphrase's form (v2 normalizes to NFC; v1 tried the text as given).
 */
export async function deriveKeyBytes(
  passphrase: string,
  salt: Uint8Array,
  iterations: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const base = await subtle().importKey('raw', copyBytes(utf8(passphrase)), KDF_NAME, false, [
    'deriveBits',
  ]);
  const bits = await subtle().deriveBits(
    { name: KDF_NAME, hash: KDF_HASH, salt: copyBytes(salt), iterations },
    base,
    AES_KEY_LENGTH * 8,
  );
  return new Uint8Array(bits);
}

/** Raw key bytes → a non-extractable AES-GCM CryptoKey (the only form kept in memory). */
export function importAesKey(raw: Uint8Array): Promise<CryptoKey> {
  return subtle().importKey('raw', copyBytes(raw), { name: CIPHER_NAME }, false, [
    'encrypt',
    'decrypt',
  ]);
}

export interface Sealed {
  iv: Uint8Array;
  data: Uint8Array;
}

export async function seal(
  key: CryptoKey,
  plaintext: Uint8Array,
  additionalData?: Uint8Array,
): Promise<Sealed> {
  const iv = randomBytes(IV_LENGTH);
  const params: AesGcmParams = { name: CIPHER_NAME, iv };
  if (additionalData) params.additionalData = copyBytes(additionalData);
  const data = await subtle().encrypt(params, key, copyBytes(plaintext));
  return { iv, data: new Uint8Array(data) };
}

/** The plaintext, or undefined when the key (or the additional data) does not match. */
export async function open(
  key: CryptoKey,
  sealed: Sealed,
  additionalData?: Uint8Array,
): Promise<Uint8Array | undefined> {
  const params: AesGcmParams = { name: CIPHER_NAME, iv: copyBytes(sealed.iv) };
  if (additionalData) params.additionalData = copyBytes(additionalData);
  try {
    return new Uint8Array(await subtle().decrypt(params, key, copyBytes(sealed.data)));
  } catch (err) {
    // WebCrypto reports a failed tag check as OperationError; anything else is a real fault.
    if ((err as { name?: unknown } | null)?.name === 'OperationError') return undefined;
    throw err;
  }
}
