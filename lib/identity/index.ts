/**
 * Identities are ed25519 key pairs (RFC 8032). Secret key = 32-byte seed, public key = 32 bytes.
 * Every signature is domain-separated: it covers signingBytes(context, message), never the bare
 * message (docs/signatures.md). WebCrypto Ed25519 is used where the runtime has it, @noble/ed25519
 * otherwise; both give identical signatures and accept exactly the same signatures.
 */
import { createSigner } from './signer.ts';
import type { CryptoBackendName, KeyPair, SigningKey } from './signer.ts';

export {
  CONTEXTS,
  CONTEXT_PATTERN,
  MAX_CONTEXT_LENGTH,
  PUBLIC_KEY_LENGTH,
  PUBLIC_KEY_TEXT_LENGTH,
  SECRET_KEY_LENGTH,
  SIGNATURE_LENGTH,
  SIGNING_DOMAIN,
  VERIFY_KEY_CACHE_SIZE,
} from './constants.ts';
export type { SigningContext } from './constants.ts';
export {
  CryptoBackendUnavailableError,
  InvalidContextError,
  InvalidMessageError,
  InvalidPublicKeyError,
  InvalidSecretKeyError,
  InvalidSignatureLengthError,
} from './errors.ts';
export { isValidContext, signingBytes } from './signing-bytes.ts';
export {
  assertPublicKey,
  decodePublicKey,
  encodePublicKey,
  isPublicKeyText,
  isValidPublicKey,
} from './public-key.ts';
export { createSigner } from './signer.ts';
export type { CryptoBackendName, KeyPair, Signer, SignerOptions, SigningKey } from './signer.ts';

const defaultSigner = createSigner();

/** The backend this runtime uses: 'webcrypto' when it has a working Ed25519, else 'noble'. */
export function cryptoBackend(): Promise<CryptoBackendName> {
  return defaultSigner.backend();
}

/** A fresh key pair from the platform's CSPRNG. */
export function generateKeyPair(): Promise<KeyPair> {
  return defaultSigner.generateKeyPair();
}

/** The public key of a 32-byte seed. @throws InvalidSecretKeyError */
export function getPublicKey(secretKey: Uint8Array): Promise<Uint8Array> {
  return defaultSigner.getPublicKey(secretKey);
}

/** Imports a secret key once for many signatures (faster than sign() in a loop). */
export function createSigningKey(secretKey: Uint8Array): Promise<SigningKey> {
  return defaultSigner.createSigningKey(secretKey);
}

/**
 * Signs signingBytes(context, message) with the seed `secretKey`; returns 64 bytes.
 * @throws InvalidSecretKeyError, InvalidContextError, InvalidMessageError
 */
export function sign(secretKey: Uint8Array, context: string, message: Uint8Array): Promise<Uint8Array> {
  return defaultSigner.sign(secretKey, context, message);
}

/**
 * True when `signature` is a valid signature of signingBytes(context, message) by `publicKey`
 * (RFC 8032 cofactorless verification, S < L). False for any well-formed but wrong signature.
 * @throws InvalidPublicKeyError (not 32 bytes, not a canonical point, or a small-order point),
 * InvalidSignatureLengthError (not 64 bytes), InvalidContextError, InvalidMessageError.
 */
export function verify(
  publicKey: Uint8Array,
  context: string,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  return defaultSigner.verify(publicKey, context, message, signature);
}
