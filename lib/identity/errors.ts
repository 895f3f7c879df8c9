import { P2pbError } from '../util/errors.ts';

/** Not a valid ed25519 public key: wrong length, bad text form, or not an acceptable curve point. */
export class InvalidPublicKeyError extends P2pbError {
  constructor(message = 'invalid ed25519 public key', options?: { cause?: unknown }) {
    super('INVALID_PUBLIC_KEY', message, options);
  }
}

/** Not a 32-byte ed25519 seed. */
export class InvalidSecretKeyError extends P2pbError {
  constructor(message = 'invalid ed25519 secret key: expected a 32-byte Uint8Array') {
    super('INVALID_SECRET_KEY', message);
  }
}

/** A signature that is not a 64-byte Uint8Array (a 64-byte signature that does not verify is just `false`). */
export class InvalidSignatureLengthError extends P2pbError {
  constructor(message = 'invalid ed25519 signature: expected a 64-byte Uint8Array') {
    super('INVALID_SIGNATURE_LENGTH', message);
  }
}

/** A signing context that does not match CONTEXT_PATTERN. */
export class InvalidContextError extends P2pbError {
  constructor(message = 'invalid signing context') {
    super('INVALID_CONTEXT', message);
  }
}

/** The message to sign or verify is not a Uint8Array. */
export class InvalidMessageError extends P2pbError {
  constructor(message = 'invalid message: expected a Uint8Array') {
    super('INVALID_MESSAGE', message);
  }
}

/** The requested crypto backend is not available in this runtime. */
export class CryptoBackendUnavailableError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CRYPTO_BACKEND_UNAVAILABLE', message, options);
  }
}
